import { EventEmitter } from 'node:events';
import { Backoff, RECONNECT_STEPS_MS, STABLE_AFTER_MS } from './backoff.js';
import { handleAccept } from './accept-handler.js';
import { type BridgeOwner, BridgedConnection } from './bridged-connection.js';
import { type Clock, type TimerHandle, systemClock } from './clock.js';
import { clockHint, clockProblem, clockSampleFor } from './clock-skew.js';
import type { ConnectionString } from './connection-string.js';
import {
  type AcceptCommand,
  type ChannelClosed,
  ControlChannel,
  type ControlChannelEvents,
  type ControlChannelOptions,
} from './control-channel.js';
import type { PipeStats } from './data-pipe.js';
import { type Endpoint, formatEndpoint } from './endpoint.js';
import { RelayError, RelayHandshakeError } from './errors.js';
import { type GatewayLog, hostAndPort } from './gateways.js';
import { DEFAULT_OPEN_CONCURRENCY, OpenGate } from './open-gate.js';
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

/** One open tunnel, for the inspector: who, since when, how much, and to which address. */
export interface TunnelSnapshot {
  /** This agent's id for the tunnel (`<connection id>#<n>`), what closeTunnel takes. */
  id: string;
  /** The relay's id for the connection (the accept's id). */
  relayId: string;
  /** The sender's address as the relay saw it (the accept's remoteEndpoint), `address:port`. */
  sender: string | null;
  openedAt: Date;
  bytesToEndpoint: number;
  bytesFromEndpoint: number;
  /** The endpoint as configured when the tunnel opened, `host:port`. */
  endpoint: string;
  /** The address the TCP connection actually went to (after DNS), `address:port`. */
  endpointAddress: string | null;
}

/** Why the control channel had to be opened again (a small, fixed set: metric labels). */
export type ReconnectReason = 'dropped' | 'keepalive' | 'token' | 'relay_closed' | 'relay_error' | 'not_found' | 'unauthorized' | 'network';

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
  /** Where the relay hosts this listener connects to are noted (the control channel's and each rendezvous'). */
  gateways?: GatewayLog;
  /** How many of an engine's control channels open at once (default 32; the others queue). */
  openConcurrency?: number;
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
  /** Limits how many channels open at once; the engine gives all its listeners one (default: a gate of this listener's own). */
  openGate?: OpenGate;
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
  /** A tunnel opened, `setupMs` after the relay announced it. */
  tunnelOpened: [TunnelSnapshot, number];
  /** An announced connection could not be bridged. */
  tunnelFailed: [];
  /** An open tunnel ended. */
  tunnelClosed: [TunnelSnapshot];
  /** A new control channel is on its way, and why the last one is gone. */
  reconnect: [ReconnectReason];
  /** `fields` are for structured logs (JSON lines); the message says it all for people. */
  log: [LogLevel, string, LogFields?];
}

/** What a structured log line carries beside its message: an event name and a few values. */
export interface LogFields {
  event: string;
  [key: string]: string | number | boolean | null;
}

export class HybridConnectionListener extends EventEmitter<ListenerEvents> implements BridgeOwner {
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
  private readonly tunnels = new Map<string, BridgedConnection>();
  private tunnelSeq = 0;
  /** The endpoint as text (`host:port`), made once: every accepted connection refers to it. */
  private where: string;
  /** Accepts being bridged (TCP or rendezvous still opening): a drain waits for them too. */
  private pendingAccepts = 0;
  private warnedFixedToken = false;
  /** The clock reading last warned about (warnAboutClock), so one reading is said once. */
  private warnedClockAt: number | undefined;
  private readonly clock: Clock;
  private readonly createChannel: (options: ControlChannelOptions) => SupervisedChannel;
  private readonly openGate: OpenGate;
  /** Gives back the open gate's slot of the attempt in progress (stop does, even if its handshake never ends). */
  private releaseOpenSlot: (() => void) | undefined;

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
    this.openGate = deps.openGate ?? new OpenGate(DEFAULT_OPEN_CONCURRENCY);
    this.where = formatEndpoint(endpoint);
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

  /**
   * Stops accepting connections; open tunnels get `graceMs` to finish, then are cut. With a grace
   * period, connections the relay announced before it saw the channel close are still bridged
   * (the relay keeps their rendezvous open), so a drain loses none of them.
   */
  async stop(graceMs = 0): Promise<void> {
    this.running = false;
    this.generation++;
    this.releaseOpenSlot?.();
    this.releaseOpenSlot = undefined;
    this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const channel = this.channel;
    let channelGone: Promise<void> = Promise.resolve();
    channel?.removeAllListeners();
    if (channel && graceMs > 0) {
      channelGone = new Promise<void>((resolve) => {
        channel.on('accept', (accept) => this.onAccept(accept));
        channel.on('closed', () => {
          channel.removeAllListeners();
          resolve();
        });
        // A relay that never answers the Close: ControlChannel cuts the socket after 2 s.
        this.clock.setTimeout(resolve, 3_000);
      });
    }
    channel?.close();
    this.channel = undefined;
    this.openedAt = undefined;
    this.setStatus('NotConnected');
    if (graceMs > 0) {
      const deadline = this.clock.now() + graceMs;
      let channelClosed = false;
      void channelGone.then(() => (channelClosed = true));
      let said = false;
      while ((!channelClosed || this.tunnels.size > 0 || this.pendingAccepts > 0) && this.clock.now() < deadline) {
        // Said at once: a connection may finish before the relay confirms the Close.
        if (!said && this.tunnels.size > 0) {
          said = true;
          this.emit(
            'log',
            'info',
            `waiting up to ${Math.round((deadline - this.clock.now()) / 1000)} s for ${this.tunnels.size} open connection(s)`,
            {
              event: 'drain.wait',
              open: this.tunnels.size,
            },
          );
        }
        await new Promise<void>((r) => this.clock.setTimeout(r, 50));
      }
      channel?.removeAllListeners();
    }
    for (const t of this.tunnels.values()) t.abort();
    this.tunnels.clear();
  }

  /** The open tunnels, oldest first. */
  tunnelSnapshots(): TunnelSnapshot[] {
    return [...this.tunnels.values()].map(snapshotOf);
  }

  get openTunnelCount(): number {
    return this.tunnels.size;
  }

  /** Cuts one open tunnel at once (the inspector's Close); false when it is not open (any more). */
  closeTunnel(tunnelId: string): boolean {
    const t = this.tunnels.get(tunnelId);
    if (!t) return false;
    this.emit('log', 'info', `connection ${t.id}${fromSender(t.sender)} closed on request`, {
      event: 'tunnel.close_requested',
      tunnel: t.id,
      sender: t.sender,
    });
    t.abort();
    return true;
  }

  /** Drops the control channel and connects again at once (what `hcm restart` does). */
  async restart(): Promise<void> {
    await this.stop(0);
    this.start();
  }

  /** New connections go to the new endpoint; open ones keep theirs. */
  setEndpoint(endpoint: Endpoint): void {
    const where = formatEndpoint(endpoint);
    if (where === this.where) return;
    this.emit('log', 'info', `endpoint changed from ${this.where} to ${where}`);
    this.endpoint = endpoint;
    this.where = where;
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
    const release = this.openGate.tryAcquire() ?? (await this.openGate.acquire());
    if (generation !== this.generation) {
      release();
      return;
    }
    this.releaseOpenSlot = release;
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
    } finally {
      release();
      if (this.releaseOpenSlot === release) this.releaseOpenSlot = undefined;
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
    this.tuning.gateways?.record(this.id, this.cs.host, this.relayPort(), 'control', this.clock.now());
    this.emit('log', 'info', `listening (listener id ${channel.listenerId})`, {
      event: 'channel.listening',
      listenerId: channel.listenerId,
    });
    this.warnAboutClock();
    this.emit('connected');
  }

  /** The relay's port as the control channel uses it (the connection string's, else the scheme's). */
  private relayPort(): number {
    return this.cs.port ?? (this.cs.useDevelopmentEmulator ? 80 : 443);
  }

  /**
   * Tokens still work with a clock a few minutes off, but not for long and not everywhere (the
   * runtime-information GET's tokens live 10 minutes): said once per clock reading that is off.
   */
  private warnAboutClock(): void {
    const sample = clockSampleFor(this.cs.host);
    const problem = clockProblem(sample);
    if (!sample || !problem) return;
    // Readings jitter by a second or so from one connect to the next: said again only when it moved.
    const reading = Math.round(sample.skewSeconds / 30);
    if (this.warnedClockAt === reading) return;
    this.warnedClockAt = reading;
    this.emit('log', 'warn', `${problem}; SAS tokens are refused once it is off by more than their lifetime: set the clock right (NTP)`, {
      event: 'clock.skew',
      skewSeconds: sample.skewSeconds,
      relayTime: sample.relayTime.toISOString(),
    });
  }

  private onAttemptFailed(err: unknown): void {
    const { status, message, slow } = classify(err, clockHint(this.cs.host));
    this.setStatus(status, message);
    this.emit('log', status === 'NotConnected' ? 'warn' : 'error', `cannot listen: ${message}`, {
      event: 'listen.failed',
      status,
      reason: message,
    });
    if (this.running) {
      const handshake = err instanceof RelayHandshakeError;
      this.emit(
        'reconnect',
        status === 'NotFound' ? 'not_found' : status === 'Unauthorized' ? 'unauthorized' : handshake ? 'relay_error' : 'network',
      );
    }
    this.scheduleRetry(slow);
  }

  private onChannelClosed(info: ChannelClosed): void {
    const upMs = this.clock.now() - (this.openedAt ?? this.clock.now());
    this.openedAt = undefined;
    if (upMs >= (this.tuning.stableAfterMs ?? STABLE_AFTER_MS)) this.backoff.reset();
    const message = info.error?.message ?? describeClose(info.code, info.reason) + (info.code === 1008 ? clockHint(this.cs.host) : '');
    this.setStatus('NotConnected', message);
    this.emit('log', 'warn', `control channel lost: ${message}`, { event: 'channel.lost', code: info.code, reason: message });
    if (this.running) this.emit('reconnect', closeReason(info));
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
    const acceptedAt = this.clock.now();
    const gateway = this.tuning.gateways && hostAndPort(accept.address);
    if (gateway) this.tuning.gateways!.record(this.id, gateway.host, gateway.port, 'rendezvous', acceptedAt);
    const sender = accept.remoteEndpoint ? `${accept.remoteEndpoint.address}:${accept.remoteEndpoint.port}` : null;
    // Every connection the relay announces counts, the ones that fail included.
    this.counters.totalConnections++;
    this.counters.lastConnectionAt = this.date();
    this.pendingAccepts++;
    const connection = new BridgedConnection(this, accept.id, sender, this.where, acceptedAt);
    void handleAccept(
      accept,
      { endpoint: this.endpoint, connectTimeoutMs: this.tuning.connectTimeoutMs, transport: this.tuning.transport },
      connection,
    );
  }

  /** @internal BridgeOwner: the tunnel is open, TCP and rendezvous both up. */
  bridgeOpened(c: BridgedConnection): void {
    this.pendingAccepts--;
    c.id = `${this.id}#${++this.tunnelSeq}`;
    c.openedAt = this.clock.now();
    this.tunnels.set(c.id, c);
    this.counters.activeConnections++;
    this.emit('counters');
    this.emit('tunnelOpened', snapshotOf(c), c.openedAt - c.acceptedAt);
    this.emit('log', 'debug', `connection ${c.relayId}${fromSender(c.sender)} bridged to ${c.endpoint}`, {
      event: 'tunnel.opened',
      tunnel: c.id,
      sender: c.sender,
      endpoint: c.endpoint,
      setupMs: c.openedAt - c.acceptedAt,
    });
  }

  /** @internal BridgeOwner: bytes moved (called per chunk: nothing allocated). */
  bridgeBytes(toEndpoint: number, fromEndpoint: number): void {
    this.counters.bytesToEndpoint += toEndpoint;
    this.counters.bytesFromEndpoint += fromEndpoint;
    this.emit('counters');
  }

  /** @internal BridgeOwner: the connection could not be bridged. */
  bridgeFailed(c: BridgedConnection, reason: string): void {
    this.pendingAccepts--;
    this.counters.failedConnections++;
    // The channel is fine, but the admin needs to see why the app's connection failed.
    this.setStatus(this.statusValue, `connection not bridged: ${reason}`);
    this.emit('counters');
    this.emit('tunnelFailed');
    this.emit('log', 'warn', `connection${fromSender(c.sender)} not bridged: ${reason}`, {
      event: 'tunnel.failed',
      sender: c.sender,
      endpoint: c.endpoint,
      reason,
    });
  }

  /** @internal BridgeOwner: a tunnel ended (or both ends went before it opened). */
  bridgeClosed(c: BridgedConnection, stats: PipeStats, reason: string): void {
    const wasOpen = c.isOpen;
    if (wasOpen) {
      this.tunnels.delete(c.id);
      this.counters.activeConnections--;
    } else {
      this.pendingAccepts--;
    }
    this.emit('counters');
    const openedAt = wasOpen ? c.openedAt : c.acceptedAt;
    if (wasOpen) this.emit('tunnelClosed', snapshotOf(c));
    // One line per finished tunnel: who, how long, how much, and why it ended.
    const seconds = ((this.clock.now() - openedAt) / 1000).toFixed(1);
    this.emit(
      'log',
      'info',
      `connection${fromSender(c.sender)} ended after ${seconds} s: ${stats.bytesToSocket} B to ${c.endpoint}, ${stats.bytesFromSocket} B back (${reason})`,
      {
        event: 'tunnel.closed',
        tunnel: wasOpen ? c.id : null,
        sender: c.sender,
        endpoint: c.endpoint,
        seconds: Number(seconds),
        bytesToEndpoint: stats.bytesToSocket,
        bytesFromEndpoint: stats.bytesFromSocket,
        reason,
      },
    );
  }
}

function fromSender(sender: string | null): string {
  return sender ? ` from ${sender}` : '';
}

function snapshotOf(t: BridgedConnection): TunnelSnapshot {
  const { bytesToSocket, bytesFromSocket } = t.stats;
  return {
    id: t.id,
    relayId: t.relayId,
    sender: t.sender,
    openedAt: new Date(t.openedAt),
    bytesToEndpoint: bytesToSocket,
    bytesFromEndpoint: bytesFromSocket,
    endpoint: t.endpoint,
    endpointAddress: t.endpointAddress,
  };
}

/** `clock`: what to add to a refused token's message when this machine's clock is off (clock-skew.ts), or ''. */
function classify(err: unknown, clock = ''): { status: ListenerStatus; message: string; slow: boolean } {
  if (err instanceof RelayHandshakeError) {
    if (err.status === 404 && err.code === 'E_NOT_FOUND') {
      return { status: 'NotFound', message: `the Hybrid Connection does not exist (404: ${err.description})`, slow: true };
    }
    if (err.status === 401) {
      return { status: 'Unauthorized', message: `the relay refused the key (401: ${err.description})${clock}`, slow: true };
    }
    if (err.status === 403) return { status: 'Unauthorized', message: `the key may not listen here (403: ${err.description})`, slow: true };
    return { status: 'NotConnected', message: `the relay answered ${err.status}: ${err.description}`, slow: false };
  }
  if (err instanceof RelayError) return { status: 'NotConnected', message: err.message, slow: false };
  return { status: 'NotConnected', message: (err as Error)?.message ?? String(err), slow: false };
}

function closeReason(info: ChannelClosed): ReconnectReason {
  if (info.error) return /ping|keep-?alive|pong/i.test(info.error.message) ? 'keepalive' : 'dropped';
  if (info.code === 1006) return 'dropped';
  if (info.code === 1008) return 'token';
  if (info.code === 1011) return 'relay_error';
  return 'relay_closed';
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
