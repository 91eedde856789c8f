import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type PipeStats, pipeTunnel } from '../../src/relay/data-pipe.js';
import { FrameParser, OP_BINARY, OP_CLOSE, encodeHeader } from '../../src/relay/frames.js';
import { connectPooled } from '../../src/relay/pooled-reads.js';

/**
 * The tunnel's pipe (src/relay/data-pipe.ts) between two real loopback connections: one plays
 * the relay (sends server frames, reads the pipe's client frames), the other the endpoint.
 * Besides moving bytes, an open tunnel must cost no closures of its own: an agent holds
 * thousands of idle ones (docs/performance.md, memory per idle tunnel).
 */

interface Pair {
  /** Our end of each connection: what the pipe is given. */
  local: net.Socket;
  /** The far end: the test's relay or endpoint. */
  far: net.Socket;
}

const opened: net.Socket[] = [];
const servers: net.Server[] = [];

afterEach(async () => {
  for (const s of opened.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function pair(): Promise<Pair> {
  const server = net.createServer({ allowHalfOpen: true });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const far = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const local = connectPooled({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, allowHalfOpen: true });
  await new Promise((resolve) => local.once('connect', resolve));
  local.pause();
  const p = { local, far: await far };
  opened.push(p.local, p.far);
  return p;
}

interface OpenTunnel {
  relay: Pair;
  tcp: Pair;
  closed: Promise<{ stats: PipeStats; reason: string }>;
}

async function openTunnel(): Promise<OpenTunnel> {
  const relay = await pair();
  const tcp = await pair();
  let done!: (v: { stats: PipeStats; reason: string }) => void;
  const closed = new Promise<{ stats: PipeStats; reason: string }>((resolve) => (done = resolve));
  pipeTunnel(relay.local, Buffer.alloc(0), tcp.local, { onBytes: () => undefined, onClosed: (stats, reason) => done({ stats, reason }) });
  tcp.local.resume(); // as handleAccept does once the pipe is there
  return { relay, tcp, closed };
}

function read(socket: net.Socket, bytes: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let have = 0;
    const onData = (chunk: Buffer) => {
      parts.push(chunk);
      have += chunk.length;
      if (have >= bytes) {
        socket.off('data', onData);
        resolve(Buffer.concat(parts));
      }
    };
    socket.on('data', onData);
  });
}

describe('data pipe', () => {
  it('moves bytes both ways and ends both sides on the relay’s Close', async () => {
    const t = await openTunnel();
    const toEndpoint = Buffer.from('hello endpoint');
    const arrived = read(t.tcp.far, toEndpoint.length);
    t.relay.far.write(Buffer.concat([encodeHeader(0x80 | OP_BINARY, toEndpoint.length), toEndpoint]));
    expect((await arrived).toString()).toBe('hello endpoint');

    // The endpoint's bytes leave as one masked binary frame (client frames are masked).
    const frames: Array<{ opcode: number; payload: Buffer }> = [];
    let payload: Buffer[] = [];
    const parser = new FrameParser(
      { expectMasked: true, unmask: true },
      {
        onHeader: () => (payload = []),
        onPayload: (bytes) => payload.push(Buffer.from(bytes)),
        onFrameEnd: (h) => frames.push({ opcode: h.opcode, payload: Buffer.concat(payload) }),
        onError: (why) => frames.push({ opcode: -1, payload: Buffer.from(why) }),
      },
    );
    t.relay.far.on('data', (chunk: Buffer) => parser.push(chunk));
    t.tcp.far.write('hello app');
    await expect.poll(() => frames.length).toBe(1);
    expect(frames[0]).toEqual({ opcode: OP_BINARY, payload: Buffer.from('hello app') });

    const body = Buffer.from([0x03, 0xe8]); // 1000
    t.relay.far.write(Buffer.concat([encodeHeader(0x80 | OP_CLOSE, body.length), body]));
    const endpointEnded = new Promise((resolve) => t.tcp.far.once('end', resolve));
    await endpointEnded;
    await expect.poll(() => frames.some((f) => f.opcode === OP_CLOSE)).toBe(true);
    t.relay.far.end();
    t.tcp.far.end();
    const { stats, reason } = await t.closed;
    expect(stats).toEqual({ bytesToSocket: toEndpoint.length, bytesFromSocket: 'hello app'.length });
    expect(reason).toBe('the other side closed the connection');
  });

  it('gives every tunnel the same socket listeners: an open tunnel holds no closures of its own', async () => {
    const a = await openTunnel();
    const b = await openTunnel();
    for (const event of ['data', 'drain', 'end', 'error', 'close']) {
      const listenersA = [...a.relay.local.listeners(event), ...a.tcp.local.listeners(event)];
      const listenersB = [...b.relay.local.listeners(event), ...b.tcp.local.listeners(event)];
      expect(listenersA.length, event).toBeGreaterThan(0);
      expect(listenersA, event).toEqual(listenersB);
      for (let i = 0; i < listenersA.length; i++) expect(listenersA[i], `${event} #${i}`).toBe(listenersB[i]);
    }
  });
});
