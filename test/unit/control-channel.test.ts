import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HybridConnectionListener } from '../../src/relay/hybrid-connection-listener.js';
import { type LyingRelay, type Observed, openObserved, sendAndSettle, startLyingRelay } from './lying-relay.js';

/** The control channel against a relay that lies (issue 11, items 7 and 8). */

let relay: LyingRelay;
let open: Observed[] = [];

beforeEach(async () => {
  relay = await startLyingRelay();
  open = [];
});

afterEach(async () => {
  for (const o of open) o.channel.close();
  await relay.close();
});

async function observe(): Promise<Observed> {
  const o = await openObserved(relay);
  open.push(o);
  return o;
}

const accept = (address: string, extra: Record<string, unknown> = {}) => JSON.stringify({ accept: { address, id: 'a1', ...extra } });

describe('accept addresses', () => {
  it('acts on an address of the relay itself, kept exactly as given', async () => {
    const o = await observe();
    const good = `ws://127.0.0.1:${relay.port}/$hc/hc?sb-hc-action=accept&sb-hc-id=1%2F2`;
    await sendAndSettle(o, relay, [accept(good)]);
    expect(o.accepts[0]).toBe(good);
  });

  it('refuses the relay host on another port, CR/LF in the request target, and a neighbouring IP', async () => {
    const o = await observe();
    const port = relay.port === 1 ? 2 : relay.port - 1;
    await sendAndSettle(o, relay, [
      accept(`ws://127.0.0.1:${port}/$hc/hc?sb-hc-action=accept&sb-hc-id=1`),
      accept(`ws://127.0.0.1:${relay.port}/$hc/hc?sb-hc-action=accept HTTP/1.1\r\nX-Injected: 1\r\n\r\nbody`),
      accept(`ws://10.0.0.1:${relay.port}/$hc/hc?sb-hc-action=accept&sb-hc-id=1`),
      accept(`ws://127.0.0.1:${relay.port}/elsewhere?sb-hc-action=accept`),
    ]);
    expect(o.accepts.filter((a) => !a.includes('marker'))).toEqual([]);
    const refusals = o.events.filter((e) => e.startsWith('unknown: malformed accept'));
    expect(refusals).toHaveLength(4);
    expect(refusals[0]).toMatch(new RegExp(`port ${port} is not the relay's port ${relay.port}`));
    expect(refusals[1]).toMatch(/control characters/);
    expect(refusals[2]).toMatch(/host 10\.0\.0\.1 is not part of the relay/);
    expect(refusals[3]).toMatch(/path does not start with \/\$hc\//);
    for (const e of o.events) expect(e).not.toMatch(/[\r\n]/);
  });

  it('drops ids, peer addresses and headers that would reach a log line unprintable or huge', async () => {
    const o = await observe();
    const good = `ws://127.0.0.1:${relay.port}/$hc/hc?sb-hc-action=accept&sb-hc-id=1`;
    await sendAndSettle(o, relay, [
      accept(good, {
        id: `x\r\nforged log line`,
        remoteEndpoint: { address: 'y'.repeat(5000), port: 1 },
        connectHeaders: { 'Sec-WebSocket-Protocol': 'a\r\nInjected: 1', ok: 'fine' },
      }),
    ]);
    const first = o.acceptCommands.find((a) => a.id !== 'marker')!;
    expect(first).toEqual({ address: good, id: '', remoteEndpoint: undefined, connectHeaders: { ok: 'fine' } });
  });
});

describe('limits', () => {
  it('names an oversized control message as such, not as a dropped connection (1006)', async () => {
    const o = await observe();
    o.relaySide.send('x'.repeat(300 * 1024));
    const info = await o.closed;
    expect(info.error?.message).toMatch(/the relay sent a control message larger than 262144 bytes/);
  });

  it('names a protocol violation by the relay', async () => {
    const o = await observe();
    // A text frame that is not UTF-8.
    o.relaySide.send(Buffer.from([0xff, 0xfe, 0xfd]), { binary: false });
    const info = await o.closed;
    expect(info.error?.message).toMatch(/invalid control frame/);
  });

  it('reports a flood of junk as the first few warnings and one summary', async () => {
    const o = await observe();
    await sendAndSettle(
      o,
      relay,
      Array.from({ length: 2000 }, (_, i) => `junk ${i}`),
    );
    const warnings = () => o.events.filter((e) => e.startsWith('unknown: '));
    expect(warnings().length).toBeLessThanOrEqual(10);
    o.relaySide.terminate();
    await o.closed;
    expect(warnings().length).toBeLessThanOrEqual(11);
    expect(warnings().at(-1)).toMatch(/… 1990 more suppressed in the last minute/);
  });

  it('answers every HTTP-mode request but reports only the first few', async () => {
    const o = await observe();
    let answers = 0;
    o.relaySide.on('message', (data) => {
      if (String(data).includes('"statusCode":501')) answers++;
    });
    await sendAndSettle(
      o,
      relay,
      Array.from({ length: 50 }, (_, i) => JSON.stringify({ request: { id: `r${i}` } })),
    );
    await expect.poll(() => answers).toBe(50);
    expect(o.events.filter((e) => e.startsWith('request: ')).length).toBeLessThanOrEqual(10);
  });

  it('quotes unknown command names only when they look like names', async () => {
    const o = await observe();
    const token = relay.tokens[0]!;
    await sendAndSettle(o, relay, [JSON.stringify({ future: {} }), JSON.stringify({ [token]: 1, ['\u001b[31mred']: 2 })]);
    const warnings = o.events.filter((e) => e.startsWith('unknown: '));
    expect(warnings[0]).toBe('unknown: command "future"');
    expect(warnings[1]).toMatch(/^unknown: command "\(\d+ characters, not shown\),\(\d+ characters, not shown\)"$/);
  });

  it('turns 11,000 junk frames into a dozen log lines, not 11,000', async () => {
    const listener = new HybridConnectionListener('hc', relay.cs, { host: '127.0.0.1', port: 9 }, { reconnectStepsMs: [60_000] });
    const logs: string[] = [];
    listener.on('log', (level, message) => logs.push(`${level} ${message}`));
    const connected = new Promise<void>((resolve) => listener.once('connected', () => resolve()));
    listener.start();
    try {
      const relaySide = await relay.nextChannel();
      await connected;
      for (let i = 0; i < 11_000; i++) relaySide.send(i % 2 ? `junk ${i}` : JSON.stringify({ ['x' + i]: i }));
      relaySide.close(1011, 'boom'); // after the junk, in order
      await expect.poll(() => logs.some((l) => l.includes('control channel lost')), { timeout: 10_000 }).toBe(true);
      const ignored = logs.filter((l) => l.includes('ignored a control message'));
      expect(ignored.length).toBeLessThanOrEqual(11);
      expect(ignored.at(-1)).toMatch(/… 10990 more suppressed in the last minute/);
      expect(logs.length).toBeLessThan(20);
    } finally {
      await listener.stop();
    }
  });
});

describe('keep-alive pings', () => {
  it('fall on whole-second marks, so channels opened apart ping together', async () => {
    const pings: Array<{ channel: string; at: number }> = [];
    for (const name of ['first', 'second']) {
      const o = await openObserved(relay, { keepAliveIntervalMs: 1000 });
      open.push(o);
      o.relaySide.on('ping', () => pings.push({ channel: name, at: Date.now() }));
      // Opened 0.3 s apart, pinging every second: without the grid their pings would stay 0.3 s apart.
      if (name === 'first') await new Promise((resolve) => setTimeout(resolve, 300));
    }
    const deadline = Date.now() + 10_000;
    while (pings.filter((p) => p.channel === 'second').length < 2 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    const first = pings.filter((p) => p.channel === 'first').map((p) => p.at);
    const second = pings.filter((p) => p.channel === 'second').map((p) => p.at);
    expect(second.length).toBeGreaterThanOrEqual(2);
    // Each of the second channel's pings has one of the first's within a few ms (timers fire late under load).
    for (const at of second) expect(Math.min(...first.map((f) => Math.abs(f - at)))).toBeLessThan(100);
  });
});
