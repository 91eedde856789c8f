import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Clock, TimerHandle } from '../../src/relay/clock.js';
import { parseConnectionString } from '../../src/relay/connection-string.js';
import type { ChannelClosed, ControlChannelEvents, ControlChannelOptions } from '../../src/relay/control-channel.js';
import { RelayError, RelayHandshakeError } from '../../src/relay/errors.js';
import { OpenGate } from '../../src/relay/open-gate.js';
import {
  HybridConnectionListener,
  type ListenerStatus,
  type ListenerTuning,
  type SupervisedChannel,
} from '../../src/relay/hybrid-connection-listener.js';

/**
 * The supervisor alone: a manual clock and scripted control channels, so every status change and
 * every reconnect delay is checked to the millisecond without waiting for real time.
 */

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Timers that fire only when the test moves time forward, in due order. */
class ManualClock implements Clock {
  private time = Date.UTC(2025, 0, 1);
  private nextId = 1;
  private readonly timers = new Map<number, { due: number; callback: () => void; every: number | undefined }>();

  now(): number {
    return this.time;
  }
  setTimeout(callback: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { due: this.time + Math.max(0, ms), callback, every: undefined });
    return id;
  }
  clearTimeout(handle: TimerHandle | undefined): void {
    this.timers.delete(handle as number);
  }
  setInterval(callback: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    const every = Math.max(1, ms);
    this.timers.set(id, { due: this.time + every, callback, every });
    return id;
  }
  clearInterval(handle: TimerHandle | undefined): void {
    this.timers.delete(handle as number);
  }

  /** How far away each pending timer is, soonest first. */
  pending(): number[] {
    return [...this.timers.values()].map((t) => t.due - this.time).sort((a, b) => a - b);
  }

  /** Moves time forward, firing what falls due on the way and letting promises settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      await flush();
      let nextId: number | undefined;
      let next: { due: number; callback: () => void; every: number | undefined } | undefined;
      for (const [id, t] of this.timers) {
        if (t.due <= end && (!next || t.due < next.due)) {
          next = t;
          nextId = id;
        }
      }
      if (!next || nextId === undefined) break;
      this.time = next.due;
      if (next.every !== undefined) next.due += next.every;
      else this.timers.delete(nextId);
      next.callback();
    }
    this.time = end;
    await flush();
  }
}

let channelNumber = 0;

/** A control channel whose handshake and close the test decides. */
class FakeChannel extends EventEmitter<ControlChannelEvents> implements SupervisedChannel {
  readonly listenerId = `fake-${++channelNumber}`;
  closeCalls = 0;
  private settle: { resolve: () => void; reject: (err: unknown) => void } | undefined;

  constructor(readonly options: ControlChannelOptions) {
    super();
  }
  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
    });
  }
  close(): void {
    this.closeCalls++;
  }
  accept(): void {
    this.settle!.resolve();
  }
  refuse(err: unknown): void {
    this.settle!.reject(err);
  }
  drop(info: ChannelClosed): void {
    this.emit('closed', info);
  }
}

const CS = parseConnectionString(
  'Endpoint=sb://127.0.0.1:9/;SharedAccessKeyName=listen;SharedAccessKey=a2V5LWZvci10ZXN0cw==;EntityPath=echo;UseDevelopmentEmulator=true',
  { requireEntityPath: true },
);
const ENDPOINT = { host: '127.0.0.1', port: 5432 };

const stopLater: HybridConnectionListener[] = [];
afterEach(async () => {
  for (const l of stopLater.splice(0)) await l.stop(0);
});

function harness(tuning: ListenerTuning = {}, random: () => number = () => 0.5) {
  const clock = new ManualClock();
  const channels: FakeChannel[] = [];
  const listener = new HybridConnectionListener('echo', CS, ENDPOINT, tuning, {
    clock,
    random, // 0.5: no jitter, so the delays are the steps themselves
    createChannel: (options) => {
      const channel = new FakeChannel(options);
      channels.push(channel);
      return channel;
    },
  });
  stopLater.push(listener);
  const statuses: ListenerStatus[] = [];
  const logs: string[] = [];
  let connectedEvents = 0;
  listener.on('status', (s) => statuses.push(s.status));
  listener.on('log', (level, message) => logs.push(`${level}: ${message}`));
  listener.on('connected', () => connectedEvents++);
  const last = () => channels.at(-1)!;

  return {
    clock,
    channels,
    listener,
    statuses,
    logs,
    connectedEvents: () => connectedEvents,
    last,
    async open() {
      last().accept();
      await flush();
    },
    async refuse(err: unknown) {
      last().refuse(err);
      await flush();
    },
    async drop(code: number, reason = '', error?: RelayError) {
      last().drop({ code, reason, error });
      await flush();
    },
    /** The only pending timer is the retry, `ms` away: nothing happens 1 ms before, a new attempt at `ms`. */
    async nextAttemptAfter(ms: number) {
      const before = channels.length;
      expect(clock.pending()).toEqual([ms]);
      if (ms > 0) {
        await clock.advance(ms - 1);
        expect(channels.length, `no attempt 1 ms before ${ms} ms`).toBe(before);
        await clock.advance(1);
      } else {
        await flush();
        expect(channels.length, 'the retry waits for its timer even at 0 ms').toBe(before);
        await clock.advance(0);
      }
      expect(channels.length, `a new attempt after ${ms} ms`).toBe(before + 1);
    },
  };
}

const refusal = (status: number, description: string) => new RelayHandshakeError(status, description);

describe('HybridConnectionListener status', () => {
  it('goes NotConnected -> Connecting -> Connected, with the time of each change from the clock', async () => {
    const h = harness({ keepAliveIntervalMs: 1234, keepAliveTimeoutMs: 567, tokenTtlSeconds: 600 });
    expect(h.listener.status).toBe('NotConnected');
    const created = h.listener.snapshot().statusSince.getTime();
    expect(created).toBe(h.clock.now());

    h.listener.start();
    expect(h.listener.status).toBe('Connecting');
    expect(h.channels).toHaveLength(1);
    // The channel gets the tuning and the same clock, so its keep-alive runs on it too.
    expect(h.last().options).toMatchObject({ keepAliveIntervalMs: 1234, keepAliveTimeoutMs: 567, tokenTtlSeconds: 600, cs: CS });
    expect(h.last().options.clock).toBe(h.clock);

    await h.clock.advance(700);
    await h.open();
    expect(h.statuses).toEqual(['Connecting', 'Connected']);
    expect(h.listener.snapshot()).toMatchObject({ status: 'Connected', lastError: null });
    expect(h.listener.snapshot().statusSince.getTime()).toBe(created + 700);
    expect(h.connectedEvents()).toBe(1);
    expect(h.logs).toContain(`info: listening (listener id ${h.last().listenerId})`);
    expect(h.clock.pending()).toEqual([]);
  });

  it.each([
    [401, 'InvalidSignature', 'Unauthorized', 'the relay refused the key (401: InvalidSignature)'],
    [403, 'no Listen claim', 'Unauthorized', 'the key may not listen here (403: no Listen claim)'],
    [404, 'Endpoint does not exist', 'NotFound', 'the Hybrid Connection does not exist (404: Endpoint does not exist)'],
    [500, 'Internal error. TrackingId:t', 'NotConnected', 'the relay answered 500: Internal error. TrackingId:t'],
  ] as const)('a %i refusal (%s) sets %s with the reason', async (code, description, status, message) => {
    const h = harness();
    h.listener.start();
    await h.clock.advance(250);
    await h.refuse(refusal(code, description));
    expect(h.statuses).toEqual(['Connecting', status]);
    expect(h.listener.snapshot().lastError).toEqual({ message, at: new Date(h.clock.now()) });
    expect(h.logs).toContain(`${status === 'NotConnected' ? 'warn' : 'error'}: cannot listen: ${message}`);
  });

  it('a network failure sets NotConnected with its message', async () => {
    const h = harness();
    h.listener.start();
    await h.refuse(new RelayError('E_NETWORK', 'connection to 127.0.0.1:9 refused'));
    expect(h.listener.snapshot()).toMatchObject({ status: 'NotConnected', lastError: { message: 'connection to 127.0.0.1:9 refused' } });
    await h.nextAttemptAfter(0);
    await h.refuse(new Error('something odd'));
    expect(h.listener.snapshot().lastError?.message).toBe('something odd');
  });

  it('keeps the failure status through retries (no flicker back to Connecting) until a channel opens', async () => {
    const h = harness();
    h.listener.start();
    await h.refuse(refusal(404, 'Endpoint does not exist'));
    await h.nextAttemptAfter(120_000);
    expect(h.listener.status).toBe('NotFound');
    await h.refuse(refusal(404, 'Endpoint does not exist'));
    await h.nextAttemptAfter(120_000);
    await h.refuse(refusal(401, 'InvalidSignature'));
    await h.nextAttemptAfter(120_000);
    expect(h.listener.status).toBe('Unauthorized');
    await h.open();
    expect(h.statuses).toEqual(['Connecting', 'NotFound', 'Unauthorized', 'Connected']);
    // The last error stays on record after the recovery; the status says it is over.
    expect(h.listener.snapshot().lastError?.message).toMatch(/refused the key \(401/);
  });

  it.each([
    [1001, 'the relay closed the channel (1001, Hybrid Connection deleted or disabled, or relay restarting): bye'],
    [1008, 'the relay closed the channel (1008, token expired or invalid): bye'],
    [1011, 'the relay closed the channel (1011, service error): bye'],
    [1006, 'the connection to the relay dropped without a close (1006)'],
    [4000, 'the relay closed the channel (4000): bye'],
  ])('a channel closed with %i goes NotConnected with the reason and reconnects', async (code, message) => {
    const h = harness();
    h.listener.start();
    await h.open();
    await h.drop(code, code === 1006 ? '' : 'bye');
    expect(h.statuses).toEqual(['Connecting', 'Connected', 'NotConnected']);
    expect(h.listener.snapshot().lastError?.message).toBe(message);
    expect(h.logs).toContain(`warn: control channel lost: ${message}`);
    await h.nextAttemptAfter(0);
    await h.open();
    expect(h.statuses).toEqual(['Connecting', 'Connected', 'NotConnected', 'Connected']);
    expect(h.connectedEvents()).toBe(2);
  });

  it('a channel that notices it is dead (keep-alive deadline) reports why and reconnects', async () => {
    const h = harness();
    h.listener.start();
    await h.open();
    await h.clock.advance(45_000);
    const dead = new RelayError('E_NETWORK', 'the relay did not answer a keep-alive ping within 20 s; reconnecting');
    await h.drop(1006, '', dead);
    expect(h.listener.snapshot()).toMatchObject({ status: 'NotConnected', lastError: { message: dead.message } });
    await h.nextAttemptAfter(0);
  });
});

describe('HybridConnectionListener reconnect delays', () => {
  it('waits 0, 1, 2, 5, 10, 30, 30 s between failed attempts', async () => {
    const h = harness();
    h.listener.start();
    for (const delay of [0, 1_000, 2_000, 5_000, 10_000, 30_000, 30_000]) {
      await h.refuse(new RelayError('E_NETWORK', 'refused'));
      await h.nextAttemptAfter(delay);
    }
    expect(h.logs.filter((l) => l.startsWith('info: reconnecting in'))).toEqual(
      ['1.0', '2.0', '5.0', '10.0', '30.0', '30.0'].map((s) => `info: reconnecting in ${s} s`),
    );
    expect(h.statuses).toEqual(['Connecting', 'NotConnected']);
  });

  it('applies the jitter it is given (±20 %)', async () => {
    const low = harness({}, () => 0);
    low.listener.start();
    for (const delay of [0, 800, 1_600]) {
      await low.refuse(new RelayError('E_NETWORK', 'refused'));
      await low.nextAttemptAfter(delay);
    }
    const high = harness({}, () => 0.75);
    high.listener.start();
    for (const delay of [0, 1_100, 2_200]) {
      await high.refuse(new RelayError('E_NETWORK', 'refused'));
      await high.nextAttemptAfter(delay);
    }
  });

  it.each([
    [401, 'InvalidSignature'],
    [403, 'no Listen claim'],
    [404, 'Endpoint does not exist'],
  ])('retries slowly after %i: 120 s by default', async (code, description) => {
    const h = harness();
    h.listener.start();
    await h.refuse(refusal(code, description));
    await h.nextAttemptAfter(120_000);
    await h.refuse(refusal(code, description));
    await h.nextAttemptAfter(120_000);
  });

  it('retries slowly at slowRetryMs when it is tuned, and fast again for other failures', async () => {
    const h = harness({ slowRetryMs: 3_000 });
    h.listener.start();
    await h.refuse(refusal(404, 'Endpoint does not exist'));
    await h.nextAttemptAfter(3_000);
    await h.refuse(refusal(401, 'InvalidSignature'));
    await h.nextAttemptAfter(3_000);
    await h.refuse(refusal(500, 'oops'));
    await h.nextAttemptAfter(2_000); // the fast steps moved on underneath: third step
  });

  it('retries with growing delays when the relay accepts the channel and closes it at once', async () => {
    const h = harness();
    h.listener.start();
    for (const delay of [0, 1_000, 2_000, 5_000, 10_000, 30_000, 30_000]) {
      await h.open();
      expect(h.listener.status).toBe('Connected');
      await h.drop(1011, 'boom');
      expect(h.listener.status).toBe('NotConnected');
      await h.nextAttemptAfter(delay);
    }
    expect(h.connectedEvents()).toBe(7);
  });

  it('starts the steps again once a channel has stayed up for 30 s', async () => {
    const h = harness();
    h.listener.start();
    for (const delay of [0, 1_000, 2_000]) {
      await h.refuse(new RelayError('E_NETWORK', 'refused'));
      await h.nextAttemptAfter(delay);
    }
    // Up for 29.999 s: not yet a success, the steps go on.
    await h.open();
    await h.clock.advance(29_999);
    await h.drop(1011);
    await h.nextAttemptAfter(5_000);
    // Up for 30 s: a success, the next reconnect is immediate and the steps start over.
    await h.open();
    await h.clock.advance(30_000);
    await h.drop(1011);
    await h.nextAttemptAfter(0);
    await h.refuse(new RelayError('E_NETWORK', 'refused'));
    await h.nextAttemptAfter(1_000);
  });

  it('takes the stable period from stableAfterMs', async () => {
    const h = harness({ stableAfterMs: 2_000 });
    h.listener.start();
    await h.open();
    await h.drop(1006);
    await h.nextAttemptAfter(0);
    await h.open();
    await h.clock.advance(1_999);
    await h.drop(1006);
    await h.nextAttemptAfter(1_000);
    await h.open();
    await h.clock.advance(2_000);
    await h.drop(1006);
    await h.nextAttemptAfter(0);
  });

  it('follows reconnectStepsMs when it is tuned', async () => {
    const h = harness({ reconnectStepsMs: [100, 700] });
    h.listener.start();
    for (const delay of [100, 700, 700]) {
      await h.refuse(new RelayError('E_NETWORK', 'refused'));
      await h.nextAttemptAfter(delay);
    }
  });
});

describe('HybridConnectionListener restart and stop', () => {
  it('restart() drops the channel and connects again at once, with the steps from 0', async () => {
    const h = harness();
    h.listener.start();
    for (const delay of [0, 1_000, 2_000]) {
      await h.open();
      await h.drop(1011);
      await h.nextAttemptAfter(delay);
    }
    await h.open();
    const old = h.last();
    await h.listener.restart();
    expect(old.closeCalls).toBe(1);
    expect(old.listenerCount('closed')).toBe(0);
    expect(h.channels).toHaveLength(5);
    expect(h.statuses.slice(-3)).toEqual(['Connected', 'NotConnected', 'Connecting']);
    await h.open();
    expect(h.listener.status).toBe('Connected');
    await h.drop(1011);
    await h.nextAttemptAfter(0);
    await h.open();
    await h.drop(1011);
    await h.nextAttemptAfter(1_000);
  });

  it('restart() while waiting to retry replaces the pending retry instead of adding one', async () => {
    const h = harness();
    h.listener.start();
    await h.refuse(refusal(404, 'Endpoint does not exist'));
    expect(h.clock.pending()).toEqual([120_000]);
    await h.listener.restart();
    expect(h.channels).toHaveLength(2);
    expect(h.listener.status).toBe('Connecting');
    expect(h.clock.pending()).toEqual([]);
    await h.clock.advance(600_000);
    expect(h.channels).toHaveLength(2);
  });

  it('stop() during a connect attempt closes it, leaves no timer and never reconnects', async () => {
    for (const outcome of ['opens', 'fails'] as const) {
      const h = harness();
      h.listener.start();
      const attempt = h.last();
      await h.listener.stop(0);
      expect(attempt.closeCalls).toBe(1);
      expect(h.listener.status).toBe('NotConnected');
      expect(h.clock.pending()).toEqual([]);
      const statusesAtStop = [...h.statuses];
      // The handshake finishes after the stop: a late open is closed again, a late failure is ignored.
      if (outcome === 'opens') await h.open();
      else await h.refuse(new RelayError('E_NETWORK', 'refused'));
      expect(attempt.closeCalls).toBe(outcome === 'opens' ? 2 : 1);
      expect(attempt.listenerCount('closed')).toBe(0);
      expect(h.statuses).toEqual(statusesAtStop);
      expect(h.listener.snapshot().lastError).toBeNull();
      expect(h.connectedEvents()).toBe(0);
      expect(h.clock.pending()).toEqual([]);
      await h.clock.advance(600_000);
      expect(h.channels).toHaveLength(1);
    }
  });

  it('stop() while waiting to retry cancels the retry', async () => {
    const h = harness();
    h.listener.start();
    await h.refuse(new RelayError('E_NETWORK', 'refused'));
    await h.nextAttemptAfter(0);
    await h.refuse(new RelayError('E_NETWORK', 'refused'));
    expect(h.clock.pending()).toEqual([1_000]);
    await h.listener.stop(0);
    expect(h.clock.pending()).toEqual([]);
    await h.clock.advance(600_000);
    expect(h.channels).toHaveLength(2);
  });

  it('stop() while connected closes the channel and a late close event does nothing', async () => {
    const h = harness();
    h.listener.start();
    await h.open();
    const channel = h.last();
    await h.listener.stop(0);
    expect(channel.closeCalls).toBe(1);
    expect(h.statuses).toEqual(['Connecting', 'Connected', 'NotConnected']);
    channel.drop({ code: 1000, reason: 'listener closing' });
    await h.clock.advance(600_000);
    expect(h.channels).toHaveLength(1);
    expect(h.listener.snapshot().lastError).toBeNull();
    // Started again later: a fresh sequence from Connecting.
    h.listener.start();
    expect(h.channels).toHaveLength(2);
    expect(h.listener.status).toBe('Connecting');
  });
});

describe('HybridConnectionListener keep-alive on the real control channel', () => {
  const servers: WebSocketServer[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) {
      for (const ws of s.clients) ws.terminate();
      await new Promise((resolve) => s.close(resolve));
    }
  });

  /** A stand-in relay that accepts every listener; `autoPong: false` makes it a half-open one. */
  async function relay(autoPong: boolean) {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, autoPong });
    servers.push(server);
    await new Promise((resolve) => server.once('listening', resolve));
    const sockets: WebSocket[] = [];
    let pings = 0;
    server.on('connection', (ws) => {
      sockets.push(ws);
      ws.on('ping', () => pings++);
    });
    const port = (server.address() as AddressInfo).port;
    const cs = parseConnectionString(
      `Endpoint=sb://127.0.0.1:${port}/;SharedAccessKeyName=listen;SharedAccessKey=a2V5LWZvci10ZXN0cw==;EntityPath=echo;UseDevelopmentEmulator=true`,
      { requireEntityPath: true },
    );
    return { cs, sockets, pings: () => pings };
  }

  function realListener(cs: ReturnType<typeof parseConnectionString>) {
    const clock = new ManualClock();
    const listener = new HybridConnectionListener('echo', cs, ENDPOINT, {}, { clock, random: () => 0.5 });
    stopLater.push(listener);
    return { clock, listener };
  }

  it('closes a channel whose ping is not answered within 20 s and reconnects', async () => {
    const r = await relay(false);
    const { clock, listener } = realListener(r.cs);
    const logs: string[] = [];
    const statuses: ListenerStatus[] = [];
    listener.on('log', (level, message) => logs.push(`${level}: ${message}`));
    listener.on('status', (s) => statuses.push(s.status));
    listener.start();
    await vi.waitFor(() => expect(listener.status).toBe('Connected'));
    expect(r.sockets).toHaveLength(1);
    // The keep-alive ping every 25 s, the token renewal at three quarters of its hour.
    expect(clock.pending()[0]).toBe(25_000);
    await clock.advance(25_000);
    await vi.waitFor(() => expect(r.pings()).toBe(1));
    expect(clock.pending().slice(0, 2)).toEqual([20_000, 25_000]);
    await clock.advance(19_999);
    expect(listener.status).toBe('Connected');
    await clock.advance(1);
    const lost = 'the relay did not answer a keep-alive ping within 20 s; reconnecting';
    await vi.waitFor(() => expect(logs).toContain(`warn: control channel lost: ${lost}`));
    expect(listener.snapshot().lastError?.message).toBe(lost);
    // Up 45 s, so a success: reconnected at once (a 0 ms retry, no "reconnecting in") on a new channel.
    await clock.advance(0);
    await vi.waitFor(() => expect(statuses).toEqual(['Connecting', 'Connected', 'NotConnected', 'Connected']));
    expect(r.sockets).toHaveLength(2);
    expect(logs.filter((l) => l.includes('reconnecting in'))).toEqual([]);
    expect(logs.filter((l) => l.includes('listening (listener id'))).toHaveLength(2);
    // The dead channel's timers are gone: one keep-alive interval and one renewal, both of the new channel.
    expect(clock.pending()).toHaveLength(2);
    expect(clock.pending()[0]).toBe(25_000);
  });

  it('keeps a channel whose pings are answered, and stop() leaves no timer behind', async () => {
    const r = await relay(true);
    const { clock, listener } = realListener(r.cs);
    listener.start();
    await vi.waitFor(() => expect(listener.status).toBe('Connected'));
    const timers = clock.pending().length;
    await clock.advance(25_000);
    await vi.waitFor(() => expect(r.pings()).toBe(1));
    // The pong clears the deadline.
    await vi.waitFor(() => expect(clock.pending()).toHaveLength(timers));
    await clock.advance(20_000); // past the deadline the first ping would have had
    await clock.advance(10_000); // the second ping, at 50 s
    await vi.waitFor(() => expect(r.pings()).toBe(2));
    await vi.waitFor(() => expect(clock.pending()).toHaveLength(timers));
    expect(listener.status).toBe('Connected');
    expect(r.sockets).toHaveLength(1);
    await listener.stop(0);
    expect(clock.pending()).toEqual([]);
  });
});

describe('HybridConnectionListener retry time', () => {
  it('says when the next attempt is due while down, and clears it when it tries', async () => {
    const h = harness();
    const retries: Array<Date | null> = [];
    h.listener.on('retry', (s) => retries.push(s.retryAt));
    h.listener.start();
    expect(h.listener.snapshot().retryAt).toBeNull();
    await h.refuse(new RelayError('E_NETWORK', 'connection refused'));
    // First retry is immediate (0 s), the next one 1 s after that failure.
    expect(retries).toEqual([new Date(h.clock.now())]);
    await h.nextAttemptAfter(0);
    expect(h.listener.snapshot().retryAt).toBeNull();
    await h.refuse(new RelayError('E_NETWORK', 'connection refused'));
    const due = h.clock.now() + 1000;
    expect(h.listener.snapshot().retryAt).toEqual(new Date(due));
    expect(retries.at(-1)).toEqual(new Date(due));
    await h.nextAttemptAfter(1000);
    expect(h.listener.snapshot().retryAt).toBeNull();
  });
});

describe('HybridConnectionListener opening through a shared gate', () => {
  /** Listeners sharing one gate of `limit`, each with its own scripted channels. */
  function sharing(count: number, limit: number) {
    const gate = new OpenGate(limit);
    const clock = new ManualClock();
    const channels: FakeChannel[][] = [];
    const listeners = Array.from({ length: count }, (_, i) => {
      channels.push([]);
      const listener = new HybridConnectionListener(
        `hc-${i}`,
        CS,
        ENDPOINT,
        {},
        {
          clock,
          random: () => 0.5,
          openGate: gate,
          createChannel: (options) => {
            const channel = new FakeChannel(options);
            channels[i]!.push(channel);
            return channel;
          },
        },
      );
      stopLater.push(listener);
      return listener;
    });
    return { gate, listeners, channels, opened: () => channels.map((c) => c.length) };
  }

  it('opens at most `limit` channels at once; the next starts when a handshake ends', async () => {
    const { listeners, channels, opened } = sharing(3, 2);
    for (const l of listeners) l.start();
    await flush();
    expect(opened()).toEqual([1, 1, 0]);
    expect(listeners.map((l) => l.status)).toEqual(['Connecting', 'Connecting', 'Connecting']);
    channels[1]![0]!.accept();
    await flush();
    expect(opened()).toEqual([1, 1, 1]);
    expect(listeners[1]!.status).toBe('Connected');
    // A failed handshake frees its slot too.
    channels[0]![0]!.refuse(new Error('connect ECONNREFUSED'));
    channels[2]![0]!.accept();
    await flush();
    expect(listeners.map((l) => l.status)).toEqual(['NotConnected', 'Connected', 'Connected']);
  });

  it('a listener stopped mid-handshake gives its slot back, even if the handshake never ends', async () => {
    const { gate, listeners, opened } = sharing(2, 1);
    listeners[0]!.start();
    listeners[1]!.start();
    await flush();
    expect(opened()).toEqual([1, 0]);
    await listeners[0]!.stop(0);
    await flush();
    expect(opened()).toEqual([1, 1]);
    expect(gate.inUse).toBe(1);
  });

  it('a listener stopped while queued never opens, and the one behind it does', async () => {
    const { listeners, channels, opened } = sharing(3, 1);
    for (const l of listeners) l.start();
    await flush();
    await listeners[1]!.stop(0);
    channels[0]![0]!.accept();
    await flush();
    expect(opened()).toEqual([1, 0, 1]);
  });
});
