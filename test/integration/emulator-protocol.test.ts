import { once } from 'node:events';
import https from 'node:https';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { parseConnectionString } from '../../src/relay/connection-string.js';
import { RelayHandshakeError } from '../../src/relay/errors.js';
import { getRuntimeInfo } from '../../src/relay/runtime-info.js';
import { openSender } from '../../src/relay/sender.js';
import { type EmulatorProcess, KEYS, listenUrl, startEmulator, testConfig, tokenFor, waitFor } from '../helpers/emulator.js';

/** The emulator's protocol behaviours, exercised with plain `ws` clients (docs/protocol.md §4–6). */

interface AcceptCommand {
  address: string;
  id: string;
  connectHeaders: Record<string, string>;
  remoteEndpoint: { address: string; port: number };
}

let emu: EmulatorProcess;
const config = testConfig([
  { name: 'hc-main', endpoint: 'db.internal:5432' },
  { name: 'hc-open', endpoint: 'localhost:1', requiresClientAuthorization: false },
  { name: 'hc-v6', endpoint: '[::1]:6379' },
  { name: 'hc-nometa' },
  { name: 'hc-badmeta', userMetadata: '[{"key":"endpoint","value":"nope"}]' },
  { name: 'hc-many', endpoint: 'localhost:2' },
  { name: 'hc-expiry', endpoint: 'localhost:3' },
  { name: 'hc-admin', endpoint: 'localhost:4' },
]);

beforeAll(async () => {
  emu = await startEmulator({ config, args: ['--rendezvous-timeout', '2'] });
});
afterAll(async () => {
  await emu?.stop();
});

// Every socket a test opens is closed after it, so a failed test cannot leave a listener behind
// that would receive the next test's connections.
const opened = new Set<WebSocket>();
afterEach(async () => {
  for (const ws of opened) ws.terminate();
  opened.clear();
  for (const hc of ['hc-main', 'hc-open', 'hc-expiry', 'hc-admin', 'hc-v6']) {
    await waitFor(async () => JSON.parse((await emu.admin(hc)).text).listeners === 0, 5000, `no listeners on ${hc}`);
  }
});

/** A raw control-channel client: resolves once the listen handshake succeeded. */
async function listen(
  hc: string,
  options: { token?: string | null; tokenIn?: 'header' | 'query' } = {},
): Promise<WebSocket & { accepts: AcceptCommand[]; next: () => Promise<AcceptCommand> }> {
  const token = options.token === undefined ? tokenFor(emu.hybridConnections[hc]!.listen) : options.token;
  const inQuery = options.tokenIn === 'query' && token;
  const url = listenUrl(emu, hc, inQuery ? `&sb-hc-token=${encodeURIComponent(token)}` : '');
  const ws = new WebSocket(url, {
    ca: emu.caPem,
    perMessageDeflate: false,
    headers: token && !inQuery ? { ServiceBusAuthorization: token } : {},
  }) as WebSocket & { accepts: AcceptCommand[]; next: () => Promise<AcceptCommand> };
  opened.add(ws);
  ws.accepts = [];
  const waiting: Array<(a: AcceptCommand) => void> = [];
  ws.on('message', (data) => {
    const msg = JSON.parse(String(data)) as { accept?: AcceptCommand };
    if (!msg.accept) return;
    const w = waiting.shift();
    if (w) w(msg.accept);
    else ws.accepts.push(msg.accept);
  });
  ws.next = () => (ws.accepts.length ? Promise.resolve(ws.accepts.shift()!) : new Promise((r) => waiting.push(r)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) =>
      reject(
        Object.assign(new Error(`listen failed ${res.statusCode} ${res.statusMessage}`), {
          status: res.statusCode,
          text: res.statusMessage,
        }),
      ),
    );
    ws.once('error', reject);
  });
  return ws;
}

function sendCs(hc: string) {
  return parseConnectionString(emu.hybridConnections[hc]!.send);
}

function acceptRendezvous(address: string, protocols: string[] = []): Promise<WebSocket> {
  const ws = new WebSocket(address, protocols, { ca: emu.caPem, perMessageDeflate: false });
  opened.add(ws);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) =>
      reject(Object.assign(new Error(`accept failed ${res.statusCode}`), { status: res.statusCode })),
    );
    ws.once('error', reject);
  });
}

function rawHandshake(address: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(address, { ca: emu.caPem, perMessageDeflate: false });
    ws.once('open', () => {
      ws.terminate();
      resolve({ status: 101, text: '' });
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, text: res.statusMessage ?? '' });
      res.resume();
    });
    ws.once('error', reject);
  });
}

async function rejection(promise: Promise<unknown>): Promise<RelayHandshakeError> {
  try {
    await promise;
  } catch (err) {
    return err as RelayHandshakeError;
  }
  throw new Error('expected the handshake to fail');
}

describe('listen handshake', () => {
  it('accepts a Listen token in the header or the query', async () => {
    const a = await listen('hc-main');
    const b = await listen('hc-main', { tokenIn: 'query' });
    expect(a.readyState).toBe(WebSocket.OPEN);
    expect(b.readyState).toBe(WebSocket.OPEN);
    a.close();
    b.close();
  });

  it('answers 401 without a token or with a wrong key, 403 for a Send-only rule, 404 for an unknown entity', async () => {
    await expect(listen('hc-main', { token: null })).rejects.toMatchObject({
      status: 401,
      text: expect.stringMatching(/MissingToken.*TrackingId:/),
    });
    const wrong = tokenFor(emu.hybridConnections['hc-main']!.listen.replace(KEYS.listen, 'd3Jvbmc='));
    await expect(listen('hc-main', { token: wrong })).rejects.toMatchObject({ status: 401, text: expect.stringMatching(/signature/) });
    await expect(listen('hc-main', { token: tokenFor(emu.hybridConnections['hc-main']!.send) })).rejects.toMatchObject({
      status: 403,
      text: expect.stringMatching(/Listen right/),
    });
    const other = tokenFor(emu.hybridConnections['hc-main']!.listen, 3600, 'hc-open');
    await expect(listen('hc-main', { token: other })).rejects.toMatchObject({ status: 403, text: expect.stringMatching(/audience/) });
    const ghost = new WebSocket(`wss://localhost:${emu.port}/$hc/ghost?sb-hc-action=listen`, {
      ca: emu.caPem,
      headers: { ServiceBusAuthorization: tokenFor(emu.hybridConnections['hc-main']!.listen) },
    });
    const [, res] = (await once(ghost, 'unexpected-response')) as [unknown, { statusCode: number; statusMessage: string }];
    expect(res.statusCode).toBe(404);
    expect(res.statusMessage).toMatch(/Endpoint does not exist/);
  });

  it('accepts a namespace-level Manage token for any entity', async () => {
    const root = `Endpoint=sb://localhost:${emu.port}/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=${KEYS.root}`;
    const ws = await listen('hc-main', { token: tokenFor(root, 3600, '') });
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.close();
  });

  it('answers pings on the control channel', async () => {
    const ws = await listen('hc-main');
    ws.ping(Buffer.from('are-you-there'));
    const [data] = (await once(ws, 'pong')) as [Buffer];
    expect(data.toString()).toBe('are-you-there');
    ws.close();
  });

  it('allows at most 25 listeners per Hybrid Connection', async () => {
    const all = await Promise.all(Array.from({ length: 25 }, () => listen('hc-many')));
    await expect(listen('hc-many')).rejects.toMatchObject({ status: 403, text: expect.stringMatching(/25 listeners/) });
    for (const ws of all) ws.close();
    await waitFor(
      async () =>
        (await getRuntimeInfo(parseConnectionString(emu.hybridConnections['hc-many']!.listen), { ca: emu.caPem })).listenerCount === 0,
    );
  });
});

describe('connect and rendezvous', () => {
  it('answers 404 at once when no listener is online, and 404 for an unknown entity', async () => {
    const started = Date.now();
    const err = await rejection(openSender(sendCs('hc-main'), { ca: emu.caPem }));
    expect(err).toBeInstanceOf(RelayHandshakeError);
    expect(err).toMatchObject({ code: 'E_NO_LISTENERS', status: 404 });
    expect(err.description).toMatch(/There are no listeners connected for the endpoint/);
    expect(err.trackingId).toBeTruthy();
    expect(Date.now() - started).toBeLessThan(5000);
    const cs = { ...sendCs('hc-main'), entityPath: 'ghost' };
    expect(await rejection(openSender(cs, { ca: emu.caPem }))).toMatchObject({ code: 'E_NOT_FOUND', status: 404 });
  });

  it('requires a Send token unless client authorization is off', async () => {
    const listener = await listen('hc-main');
    const noToken = await rawHandshake(`wss://localhost:${emu.port}/$hc/hc-main?sb-hc-action=connect`);
    expect(noToken.status).toBe(401);
    const listenToken = await rejection(openSender(parseConnectionString(emu.hybridConnections['hc-main']!.listen), { ca: emu.caPem }));
    expect(listenToken).toMatchObject({ code: 'E_FORBIDDEN', status: 403 });
    const wrongKey = await rejection(
      openSender(parseConnectionString(emu.hybridConnections['hc-main']!.send.replace(KEYS.send, 'd3Jvbmc=')), { ca: emu.caPem }),
    );
    expect(wrongKey).toBeInstanceOf(RelayHandshakeError);
    expect(wrongKey).toMatchObject({ code: 'E_UNAUTHORIZED', status: 401 });
    expect(wrongKey.description).toBeTruthy();
    listener.close();

    const open = await listen('hc-open');
    const pending = rawHandshake(`wss://localhost:${emu.port}/$hc/hc-open`); // no token, no action: connect
    const accept = await open.next();
    expect(accept.address).toContain('sb-hc-action=accept');
    (await acceptRendezvous(accept.address)).close();
    expect((await pending).status).toBe(101);
    open.close();
  });

  it('announces the sender with its headers and remote endpoint, without the token', async () => {
    const listener = await listen('hc-main');
    const senderPromise = openSender(sendCs('hc-main'), {
      ca: emu.caPem,
      headers: { 'X-Custom': 'hello' },
      query: { app: '1' },
      protocols: ['proto-a', 'proto-b'],
    });
    const accept = await listener.next();
    expect(accept.address).toMatch(new RegExp(`^wss://localhost:${emu.port}/\\$hc/hc-main\\?sb-hc-action=accept&sb-hc-id=`));
    expect(accept.id).toBeTruthy();
    const headers = Object.fromEntries(Object.entries(accept.connectHeaders).map(([k, v]) => [k.toLowerCase(), v]));
    expect(headers['x-custom']).toBe('hello');
    expect(headers['sec-websocket-key']).toMatch(/==$/);
    expect(headers['sec-websocket-protocol']).toMatch(/^proto-a, ?proto-b$/);
    expect(headers.servicebusauthorization).toBeUndefined();
    expect(accept.remoteEndpoint.address).toMatch(/127\.0\.0\.1/);
    expect(accept.remoteEndpoint.port).toBeGreaterThan(0);
    const rendezvous = await acceptRendezvous(accept.address, ['proto-a']);
    const sender = await senderPromise;
    expect(sender.protocol).toBe('proto-a');
    expect(rendezvous.protocol).toBe('proto-a');
    sender.close();
    rendezvous.close();

    // The token may travel in the sb-hc-token query parameter instead; it is not passed on either.
    const queryPromise = openSender(sendCs('hc-main'), { ca: emu.caPem, tokenIn: 'query' });
    const accept2 = await listener.next();
    expect(JSON.stringify(accept2)).not.toMatch(/sb-hc-token|SharedAccessSignature/);
    const rendezvous2 = await acceptRendezvous(accept2.address);
    (await queryPromise).close();
    rendezvous2.close();
    listener.close();
  });

  it('passes a reject: the listener gets 410, the sender the listener status and text', async () => {
    const listener = await listen('hc-main');
    const senderFailure = rejection(openSender(sendCs('hc-main'), { ca: emu.caPem }));
    const accept = await listener.next();
    const reject = await rawHandshake(
      `${accept.address}&sb-hc-statusCode=502&sb-hc-statusDescription=${encodeURIComponent('Endpoint db.internal:5432 refused the connection')}`,
    );
    expect(reject.status).toBe(410);
    const err = await senderFailure;
    expect(err).toMatchObject({ status: 502, description: 'Endpoint db.internal:5432 refused the connection' });
    listener.close();
  });

  it('uses a rendezvous once, and expires it when nobody accepts', async () => {
    const listener = await listen('hc-main');
    const first = openSender(sendCs('hc-main'), { ca: emu.caPem });
    const accept = await listener.next();
    const rendezvous = await acceptRendezvous(accept.address);
    await first;
    expect((await rawHandshake(accept.address)).status).toBe(404);
    rendezvous.close();

    // --rendezvous-timeout 2 in this file
    const started = Date.now();
    const late = rejection(openSender(sendCs('hc-main'), { ca: emu.caPem }));
    const unanswered = await listener.next();
    const err = await late;
    expect(err).toMatchObject({ code: 'E_TIMEOUT', status: 504 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    expect((await rawHandshake(unanswered.address)).status).toBe(404);
    listener.close();
  });

  it('spreads connections randomly across listeners', async () => {
    const listeners = await Promise.all([listen('hc-main'), listen('hc-main'), listen('hc-main')]);
    const counts = [0, 0, 0];
    listeners.forEach((l, i) =>
      l.on('message', (data) => {
        const a = (JSON.parse(String(data)) as { accept: AcceptCommand }).accept;
        counts[i]!++;
        void rawHandshake(`${a.address}&sb-hc-statusCode=503&sb-hc-statusDescription=busy`);
      }),
    );
    for (let i = 0; i < 60; i++) await rejection(openSender(sendCs('hc-main'), { ca: emu.caPem }));
    expect(counts.reduce((a, b) => a + b)).toBe(60);
    for (const c of counts) expect(c).toBeGreaterThan(5);
    for (const l of listeners) l.close();
  });
});

describe('frame relay', () => {
  async function pair(): Promise<{ sender: WebSocket; listenerSide: WebSocket; control: WebSocket }> {
    const control = await listen('hc-main');
    const senderPromise = openSender(sendCs('hc-main'), { ca: emu.caPem });
    const accept = await control.next();
    const listenerSide = await acceptRendezvous(accept.address);
    return { sender: await senderPromise, listenerSide, control };
  }

  it('keeps opcodes and message boundaries, both ways', async () => {
    const { sender, listenerSide, control } = await pair();
    const got: Array<{ data: string; binary: boolean }> = [];
    listenerSide.on('message', (data, isBinary) => got.push({ data: String(data), binary: isBinary }));
    sender.send('text one');
    sender.send(Buffer.from('binary two'));
    sender.send(Buffer.alloc(70_000, 'x')); // 64-bit length form
    sender.send('frag-', { fin: false });
    sender.send('ment-', { fin: false });
    sender.send('ed', { fin: true });
    await waitFor(() => got.length === 4);
    expect(got[0]).toEqual({ data: 'text one', binary: false });
    expect(got[1]).toEqual({ data: 'binary two', binary: true });
    expect(got[2]!.data.length).toBe(70_000);
    expect(got[3]).toEqual({ data: 'frag-ment-ed', binary: false });

    const back: string[] = [];
    sender.on('message', (d) => back.push(String(d)));
    listenerSide.send('reply');
    await waitFor(() => back.length === 1);
    expect(back).toEqual(['reply']);
    sender.close();
    control.close();
  });

  it('relays pings end to end and the close code and reason', async () => {
    const { sender, listenerSide, control } = await pair();
    sender.ping(Buffer.from('p1'));
    const [pong] = (await once(sender, 'pong')) as [Buffer];
    expect(pong.toString()).toBe('p1');
    const closed = once(listenerSide, 'close');
    const senderClosed = once(sender, 'close');
    sender.close(4001, 'bye now');
    const [code, reason] = (await closed) as [number, Buffer];
    expect(code).toBe(4001);
    expect(reason.toString()).toBe('bye now');
    expect(((await senderClosed) as [number])[0]).toBe(4001);
    control.close();
  });

  it('tells one side with 1001 when the other drops without a Close', async () => {
    const { sender, listenerSide, control } = await pair();
    const closed = once(sender, 'close');
    listenerSide.terminate();
    const [code] = (await closed) as [number];
    expect(code).toBe(1001);
    control.close();
  });

  it('closes a peer that sends unmasked frames with 1002', async () => {
    const { sender, listenerSide, control } = await pair();
    const closed = once(listenerSide, 'close');
    // Write a raw unmasked text frame on the sender's TCP socket.
    (sender as unknown as { _socket: import('node:net').Socket })._socket.write(Buffer.from([0x81, 0x02, 0x68, 0x69]));
    const [code] = (await closed) as [number];
    expect(code).toBe(1002);
    control.close();
  });
});

describe('token lifetime', () => {
  it('closes an unrenewed listener with 1008 at expiry, and keeps a renewed one', async () => {
    const cs = emu.hybridConnections['hc-expiry']!.listen;
    const stale = await listen('hc-expiry', { token: tokenFor(cs, 2) });
    const renewed = await listen('hc-expiry', { token: tokenFor(cs, 2) });
    renewed.send(JSON.stringify({ renewToken: { token: tokenFor(cs, 3600) } }));
    const [code] = (await once(stale, 'close')) as [number];
    expect(code).toBe(1008);
    await new Promise((r) => setTimeout(r, 1500));
    expect(renewed.readyState).toBe(WebSocket.OPEN);
    const bad = once(renewed, 'close');
    renewed.send(JSON.stringify({ renewToken: { token: tokenFor(cs.replace(KEYS.listen, 'd3Jvbmc='), 3600) } }));
    expect(((await bad) as [number])[0]).toBe(1008);
  });

  it('ignores unknown control commands', async () => {
    const ws = await listen('hc-expiry');
    ws.send('{"somethingNew":{}}');
    ws.send('not json');
    await new Promise((r) => setTimeout(r, 300));
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.close();
  });
});

describe('service-side closes', () => {
  it('closes listeners with 1011 on a service error and 1001 when the entity is deleted', async () => {
    const a = await listen('hc-admin');
    const closed = once(a, 'close');
    expect((await emu.admin('hc-admin', 'close', 'code=1011&reason=oops')).status).toBe(200);
    expect(((await closed) as [number])[0]).toBe(1011);

    const b = await listen('hc-admin');
    const deleted = once(b, 'close');
    const smaller = structuredClone(config);
    smaller.namespaces[0]!.hybridConnections = smaller.namespaces[0]!.hybridConnections.filter((h) => h.name !== 'hc-admin');
    await emu.reload(smaller);
    expect(((await deleted) as [number])[0]).toBe(1001);
    await expect(listen('hc-admin')).rejects.toMatchObject({ status: 404 });
    await emu.reload(config);
    (await listen('hc-admin')).close();
  });

  it('refuses admin hooks without a Manage token', async () => {
    const res = await new Promise<number>((resolve) => {
      https.get(`https://localhost:${emu.port}/$emulator/hybridConnections/hc-admin`, { ca: emu.caPem }, (r) => {
        r.resume();
        resolve(r.statusCode ?? 0);
      });
    });
    expect(res).toBe(401);
  });
});

describe('runtime-info GET', () => {
  it('returns the endpoint, a live listener count and timestamps', async () => {
    const cs = parseConnectionString(emu.hybridConnections['hc-v6']!.listen);
    const before = await getRuntimeInfo(cs, { ca: emu.caPem });
    expect(before).toMatchObject({
      name: 'hc-v6',
      endpoint: { host: '::1', port: 6379 },
      listenerCount: 0,
      requiresClientAuthorization: true,
    });
    expect(Date.parse(before.createdAt!)).toBeGreaterThan(0);
    const ws = await listen('hc-v6');
    expect((await getRuntimeInfo(cs, { ca: emu.caPem })).listenerCount).toBe(1);
    ws.close();
  });

  it('gives distinct errors for missing metadata, bad metadata, a bad key and a missing entity', async () => {
    const none = await getRuntimeInfo(parseConnectionString(emu.hybridConnections['hc-nometa']!.listen), { ca: emu.caPem });
    expect(none.endpoint).toBeUndefined();
    expect(none.endpointProblem).toMatch(/no user metadata/);
    const bad = await getRuntimeInfo(parseConnectionString(emu.hybridConnections['hc-badmeta']!.listen), { ca: emu.caPem });
    expect(bad.endpointProblem).toMatch(/invalid/);
    const cs = parseConnectionString(emu.hybridConnections['hc-main']!.listen);
    await expect(getRuntimeInfo({ ...cs, sharedAccessKey: 'd3Jvbmc=' }, { ca: emu.caPem })).rejects.toMatchObject({
      code: 'E_UNAUTHORIZED',
    });
    const root = parseConnectionString(
      `Endpoint=sb://localhost:${emu.port}/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=${KEYS.root};EntityPath=ghost`,
    );
    await expect(getRuntimeInfo(root, { ca: emu.caPem })).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
  });

  it('is refused over TLS without the emulator CA', async () => {
    await expect(getRuntimeInfo(parseConnectionString(emu.hybridConnections['hc-main']!.listen))).rejects.toMatchObject({
      code: 'E_NETWORK',
      message: expect.stringMatching(/not trusted/),
    });
  });
});
