import { EventEmitter } from 'node:events';
import { Backoff, RECONNECT_STEPS_MS, STABLE_AFTER_MS } from './backoff.js';
import { type AcceptStats, handleAccept } from './accept-handler.js';
import { type Clock, type TimerHandle, systemClock } from './clock.js';
import type { ConnectionString } from './connection-string.js';
import {
  type AcceptCommand,
  type ChannelClosed,
  ControlChannel,
  type ControlChannelEvents,
  type ControlChannelOptions,
} from './control-channel.js';
import { type Endpoint, formatEndpoint } from './endpoint.js';
import { RelayError, RelayHandshakeError } from './errors.js';
import { type TokenProvider, tokenProviderFor } from './token-provider.js';
import type { TransportOptions } from './transport.js';

/**
 * Supervisor of one Hybrid Connection: keeps a control channel open (reconnecting with backoff),
 * bridges every announced connection to the endpoint, and keeps a truthful status and counters.
 */

export type ListenerStatus = 'Connected' | 'Connecting' | 'NotConnected' | 'NotFound' | 'Unauthorized';

export interface ListenerCounters {
  activeConnections: number;
  totalConnections: number;
  failedConnections: number;
  bytesToEndpoint: number;
  bytesFromEndpoint: number;
  lastConnectionAt: Date | null;
}

export interface ListenerSnapshot {
  id: string;
  status: ListenerStatus;
  statusSince: Date;
  lastError: { message: string; at: Date } | null;
  counters: ListenerCounters;
  endpoint: Endpoint;
  /** While down: when the next attempt to open the channel is due (null while connected or trying). */
  retryAt: Date | null;
}

export interface ListenerTuning {
  transport?: TransportOptions;
  tokenTtlSeconds?: number;
  keepAliveIntervalMs?: number;
  keepAliveTimeoutMs?: number;
  connectTimeoutMs?: number;
  reconnectStepsMs?: readonly number[];
  /** Retry delay after 401/403/404, which do not fix themselves quickly (default 120 s). */
  slowRetryMs?: number;
  /** A channel up this long counts as a success and the reconnect steps start again from 0 (default 30 s). */
  stableAfterMs?: number;
}

/** What the supervisor uses of a control channel: a ControlChannel, or a scripted one in unit tests. */
export interface SupervisedChannel {
  readonly listenerId: string;
  open(): Promise<void>;
  close(): void;
  on<K extends keyof ControlChannelEvents>(event: K, listener: (...args: ControlChannelEvents[K]) => void): unknown;
  removeAllListeners(): unknown;
}

/** The supervisor's collaborators; the real ones unless given. */
export interface ListenerDeps {
  clock?: Clock;
  /** Jitter of the reconnect delays, in [0, 1). */
  random?: () => number;
  createChannel?: (options: ControlChannelOptions) => SupervisedChannel;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface ListenerEvents {
  /** Status or last error changed. */
  status: [ListenerSnapshot];
  /** A retry was scheduled (snapshot.retryAt says when). */
  retry: [ListenerSnapshot];
  /** Counters changed (fires per chunk; consumers throttle). */
  counters: [];
  /** The control channel is up (a good moment to refresh runtime info). */
  connected: [];
  log: [LogLevel, string];
}

export class HybridConnectionListener extends EventEmitter<ListenerEvents> {
  private statusValue: ListenerStatus = 'NotConnected';
  private statusSince: Date;
  private lastError: { message: string; at: Date } | null = null;
  private readonly counters: ListenerCounters = {
    activeConnections: 0,
    totalConnections: 0,
    failedConnections: 0,
    bytesToEndpoint: 0,
    bytesFromEndpoint: 0,
    lastConnectionAt: null,
  };
  private channel: SupervisedChannel | undefined;
  /** When the current channel opened (clock ms); undefined while there is none. */
  private openedAt: number | undefined;
  private retryTimer: TimerHandle | undefined;
  private retryAt: Date | null = null;
  private running = false;
  private generation = 0;
  private readonly backoff: Backoff;
  private readonly tokens: TokenProvider;
  private readonly tunnels = new Set<() => void>();
  private warnedFixedToken = false;
  private readonly clock: Clock;
  private readonly createChannel: (options: ControlChannelOptions) => SupervisedChannel;

  constructor(
    readonly id: string,
    private readonly cs: ConnectionString,
    private endpoint: Endpoint,
    private readonly tuning: ListenerTuning = {},
    deps: ListenerDeps = {},
  ) {
    super();
    this.clock = deps.clock ?? systemClock;
    this.createChannel = deps.createChannel ?? ((options) => new ControlChannel(options));
    this.statusSince = this.date();
    this.tokens = tokenProviderFor(cs, tuning.tokenTtlSeconds);
    this.backoff = new Backoff(tuning.reconnectStepsMs ?? RECONNECT_STEPS_MS, deps.random ?? Math.random, tuning.slowRetryMs);
  }

  snapshot(): ListenerSnapshot {
    return {
      id: this.id,
      status: this.statusValue,
      statusSince: this.statusSince,
      lastError: this.lastError,
      counters: { ...this.counters },
      endpoint: this.endpoint,
      retryAt: this.retryAt,
    };
  }

  get status(): ListenerStatus {
    return this.statusValue;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.backoff.reset();
    if (!this.tokens.canRenew && !this.warnedFixedToken) {
      this.warnedFixedToken = true;
      this.emit(
        'log',
        'warn',
        'this connection string holds a fixed SharedAccessSignature: it cannot be renewed and the listener stops working when it expires',
      );
    }
    this.setStatus('Connecting');
    void this.attempt();
  }

  /** Stops accepting connections; open tunnels get `graceMs` to finish, then are cut. */
  async stop(graceMs = 0): Promise<void> {
    this.running = false;
    this.generation++;
    this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.channel?.removeAllListeners();
    this.channel?.close();
    this.channel = undefined;
    this.openedAt = undefined;
    this.setStatus('NotConnected');
    if (this.counters.activeConnections > 0 && graceMs > 0) {
      this.emit('log', 'info', `waiting up to ${Math.round(graceMs / 1000)} s for ${this.counters.activeConnections} open connection(s)`);
      const deadline = this.clock.now() + graceMs;
      while (this.counters.activeConnections > 0 && this.clock.now() < deadline) {
        await new Promise<void>((r) => this.clock.setTimeout(r, 50));
      }
    }
    for (const abort of this.tunnels) abort();
    this.tunnels.clear();
  }

  /** Drops the control channel and connects again at once (what `hcm restart` does). */
  async restart(): Promise<void> {
    await this.stop(0);
    this.start();
  }

  /** New connections go to the new endpoint; open ones keep theirs. */
  setEndpoint(endpoint: Endpoint): void {
    if (formatEndpoint(endpoint) === formatEndpoint(this.endpoint)) return;
    this.emit('log', 'info', `endpoint changed from ${formatEndpoint(this.endpoint)} to ${formatEndpoint(endpoint)}`);
    this.endpoint = endpoint;
    this.emit('status', this.snapshot());
  }

  private setStatus(status: ListenerStatus, error?: string): void {
    const changed = status !== this.statusValue || (error !== undefined && error !== this.lastError?.message);
    if (status !== this.statusValue) this.statusSince = this.date();
    this.statusValue = status;
    if (error !== undefined) this.lastError = { message: error, at: this.date() };
    if (changed) this.emit('status', this.snapshot());
  }

  private date(): Date {
    return new Date(this.clock.now());
  }

  /**
   * One try at opening the channel. A retry does not go back to Connecting: a failure status
   * (NotConnected, NotFound, Unauthorized, with its lastError) stays until a channel opens, so the
   * status always says why the listener is not connected instead of flickering.
   */
  private async attempt(): Promise<void> {
    this.retryTimer = undefined;
    this.retryAt = null;
    const generation = this.generation;
    const channel = this.createChannel({
      cs: this.cs,
      tokens: this.tokens,
      transport: this.tuning.transport,
      tokenTtlSeconds: this.tuning.tokenTtlSeconds,
      keepAliveIntervalMs: this.tuning.keepAliveIntervalMs,
      keepAliveTimeoutMs: this.tuning.keepAliveTimeoutMs,
      clock: this.clock,
    });
    this.channel = channel;
    try {
      await channel.open();
    } catch (err) {
      if (generation !== this.generation) return;
      this.onAttemptFailed(err);
      return;
    }
    if (generation !== this.generation) {
      channel.close();
      return;
    }
    // Not a success yet: the backoff starts again only once the channel has stayed up (onChannelClosed).
    this.openedAt = this.clock.now();
    channel.on('accept', (accept) => this.onAccept(accept));
    channel.on('unknown', (what) => this.emit('log', 'warn', `ignored a control message from the relay: ${what}`));
    channel.on('request', () =>
      this.emit('log', 'warn', 'the relay sent an HTTP-mode request; answered 501 (only TCP bridging is supported)'),
    );
    channel.on('renewed', (left) => this.emit('log', 'debug', `token renewed (valid ${left} s)`));
    channel.on('closed', (info) => {
      if (generation !== this.generation) return;
      this.onChannelClosed(info);
    });
    this.setStatus('Connected');
    this.emit('log', 'info', `listening (listener id ${channel.listenerId})`);
    this.emit('connected');
  }

  private onAttemptFailed(err: unknown): void {
    const { status, message, slow } = classify(err);
    this.setStatus(status, message);
    this.emit('log', status === 'NotConnected' ? 'warn' : 'error', `cannot listen: ${message}`);
    this.scheduleRetry(slow);
  }

  private onChannelClosed(info: ChannelClosed): void {
    const upMs = this.clock.now() - (this.openedAt ?? this.clock.now());
    this.openedAt = undefined;
    if (upMs >= (this.tuning.stableAfterMs ?? STABLE_AFTER_MS)) this.backoff.reset();
    const message = info.error?.message ?? describeClose(info.code, info.reason);
    this.setStatus('NotConnected', message);
    this.emit('log', 'warn', `control channel lost: ${message}`);
    this.scheduleRetry(false);
  }

  private scheduleRetry(slow: boolean): void {
    if (!this.running) return;
    const delay = this.backoff.next(slow);
    const generation = this.generation;
    if (delay > 0) this.emit('log', 'info', `reconnecting in ${(delay / 1000).toFixed(1)} s`);
    this.retryAt = new Date(this.clock.now() + delay);
    this.emit('retry', this.snapshot());
    this.retryTimer = this.clock.setTimeout(() => {
      if (generation === this.generation && this.running) void this.attempt();
    }, delay);
  }

  private onAccept(accept: AcceptCommand): void {
    const endpoint = this.endpoint;
    const sender = accept.remoteEndpoint ? `${accept.remoteEndpoint.address}:${accept.remoteEndpoint.port}` : null;
    const from = sender ? ` from ${sender}` : '';
    let abortTunnel: (() => void) | undefined;
    let openedAt = 0;
    // Every connection the relay announces counts, the ones that fail included.
    this.counters.totalConnections++;
    this.counters.lastConnectionAt = this.date();
    void handleAccept(
      accept,
      { endpoint, connectTimeoutMs: this.tuning.connectTimeoutMs, transport: this.tuning.transport },
      {
        onOpen: (abort) => {
          abortTunnel = abort;
          this.tunnels.add(abort);
          this.counters.activeConnections++;
          openedAt = this.clock.now();
          this.emit('counters');
          this.emit('log', 'debug', `connection ${accept.id}${from} bridged to ${formatEndpoint(endpoint)}`);
        },
        onBytes: (toEndpoint, fromEndpoint) => {
          this.counters.bytesToEndpoint += toEndpoint;
          this.counters.bytesFromEndpoint += fromEndpoint;
          this.emit('counters');
        },
        onFailed: (reason) => {
          this.counters.failedConnections++;
          // The channel is fine, but the admin needs to see why the app's connection failed.
          this.setStatus(this.statusValue, `connection not bridged: ${reason}`);
          this.emit('counters');
          this.emit('log', 'warn', `connection${from} not bridged: ${reason}`);
        },
        onClosed: (stats: AcceptStats, reason) => {
          if (abortTunnel) this.tunnels.delete(abortTunnel);
          this.counters.activeConnections--;
          this.emit('counters');
          // One line per finished tunnel: who, how long, how much, and why it ended.
          const seconds = ((this.clock.now() - openedAt) / 1000).toFixed(1);
          this.emit(
            'log',
            'info',
            `connection${from} ended after ${seconds} s: ${stats.bytesToEndpoint} B to ${formatEndpoint(endpoint)}, ${stats.bytesFromEndpoint} B back (${reason})`,
          );
        },
      },
    );
  }
}

function classify(err: unknown): { status: ListenerStatus; message: string; slow: boolean } {
  if (err instanceof RelayHandshakeError) {
    if (err.status === 404 && err.code === 'E_NOT_FOUND') {
      return { status: 'NotFound', message: `the Hybrid Connection does not exist (404: ${err.description})`, slow: true };
    }
    if (err.status === 401) return { status: 'Unauthorized', message: `the relay refused the key (401: ${err.description})`, slow: true };
    if (err.status === 403) return { status: 'Unauthorized', message: `the key may not listen here (403: ${err.description})`, slow: true };
    return { status: 'NotConnected', message: `the relay answered ${err.status}: ${err.description}`, slow: false };
  }
  if (err instanceof RelayError) return { status: 'NotConnected', message: err.message, slow: false };
  return { status: 'NotConnected', message: (err as Error)?.message ?? String(err), slow: false };
}

function describeClose(code: number, reason: string): string {
  const text = reason ? `: ${reason}` : '';
  switch (code) {
    case 1001:
      return `the relay closed the channel (1001, Hybrid Connection deleted or disabled, or relay restarting)${text}`;
    case 1008:
      return `the relay closed the channel (1008, token expired or invalid)${text}`;
    case 1011:
      return `the relay closed the channel (1011, service error)${text}`;
    case 1006:
      return 'the connection to the relay dropped without a close (1006)';
    default:
      return `the relay closed the channel (${code})${text}`;
  }
}
