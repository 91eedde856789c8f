import { EventEmitter } from 'node:events';
import { parseConnectionString } from './connection-string.js';
import { DEFAULT_OPEN_CONCURRENCY, OpenGate } from './open-gate.js';
import type { TransportOptions } from './transport.js';
import type { Endpoint } from './endpoint.js';
import {
  HybridConnectionListener,
  type ListenerSnapshot,
  type ListenerTuning,
  type LogFields,
  type LogLevel,
  type ReconnectReason,
  type TunnelSnapshot,
} from './hybrid-connection-listener.js';

/**
 * Runs one supervisor per configured Hybrid Connection. `apply` takes the desired set and makes
 * the running set match, so a config edit (from the CLI, the UI or the file) takes effect
 * without a restart and without touching connections that did not change.
 */

export interface EngineConnection {
  id: string;
  connectionString: string;
  endpoint: Endpoint;
}

export interface EngineEvents {
  status: [ListenerSnapshot];
  counters: [string];
  connected: [string];
  removed: [string];
  /** Per connection id: a tunnel opened (with its setup time in ms), failed, closed; a reconnect and why. */
  tunnelOpened: [string, TunnelSnapshot, number];
  tunnelFailed: [string];
  tunnelClosed: [string, TunnelSnapshot];
  reconnect: [string, ReconnectReason];
  log: [LogLevel, string, string | undefined, LogFields?];
}

interface Running {
  spec: EngineConnection;
  listener: HybridConnectionListener;
}

export class RelayEngine extends EventEmitter<EngineEvents> {
  private readonly running = new Map<string, Running>();
  private stopped = false;

  /** One for all listeners: 1,000 Hybrid Connections starting, or coming back after an outage, do not all handshake at once. */
  private readonly openGate: OpenGate;

  constructor(private tuning: ListenerTuning = {}) {
    super();
    this.openGate = new OpenGate(tuning.openConcurrency ?? DEFAULT_OPEN_CONCURRENCY);
  }

  /**
   * Runs `work` (another connection to the relay made for a listener, e.g. its runtime-information
   * GET) in turn with the control channels opening: at start it waits until they have opened.
   */
  async throughOpenGate<T>(work: () => Promise<T>): Promise<T> {
    const release = await this.openGate.acquire();
    try {
      return await work();
    } finally {
      release();
    }
  }

  /**
   * A new way to reach the relay (a proxy set or cleared): every listener starts again with it; the
   * old ones stop listening at once and their open tunnels get `graceMs` to finish.
   */
  setTransport(transport: TransportOptions | undefined, graceMs = 30_000): void {
    if (this.stopped) return;
    this.tuning = { ...this.tuning, transport };
    const specs = [...this.running.values()].map((r) => r.spec);
    for (const r of this.running.values()) void r.listener.stop(graceMs).finally(() => r.listener.removeAllListeners());
    this.running.clear();
    this.apply(specs);
  }

  apply(connections: readonly EngineConnection[]): void {
    if (this.stopped) return;
    const wanted = new Map(connections.map((c) => [c.id, c]));
    for (const [id, r] of this.running) {
      const next = wanted.get(id);
      if (!next || next.connectionString !== r.spec.connectionString) {
        this.running.delete(id);
        void r.listener.stop(0);
        r.listener.removeAllListeners();
        if (!next) this.emit('removed', id);
      }
    }
    for (const spec of connections) {
      const r = this.running.get(spec.id);
      if (r) {
        r.spec = spec;
        r.listener.setEndpoint(spec.endpoint);
        continue;
      }
      try {
        this.startListener(spec);
      } catch (err) {
        // One connection that cannot start must not stop the others (the host checks specs first).
        this.emit('log', 'error', `cannot start: ${(err as Error).message}`, spec.id);
      }
    }
  }

  private startListener(spec: EngineConnection): void {
    const listener = new HybridConnectionListener(
      spec.id,
      parseConnectionString(spec.connectionString, { requireEntityPath: true }),
      spec.endpoint,
      this.tuning,
      { openGate: this.openGate },
    );
    listener.on('status', (s) => this.emit('status', s));
    listener.on('retry', (s) => this.emit('status', s));
    listener.on('counters', () => this.emit('counters', spec.id));
    listener.on('connected', () => this.emit('connected', spec.id));
    listener.on('tunnelOpened', (t, setupMs) => this.emit('tunnelOpened', spec.id, t, setupMs));
    listener.on('tunnelFailed', () => this.emit('tunnelFailed', spec.id));
    listener.on('tunnelClosed', (t) => this.emit('tunnelClosed', spec.id, t));
    listener.on('reconnect', (reason) => this.emit('reconnect', spec.id, reason));
    listener.on('log', (level, message, fields) => this.emit('log', level, message, spec.id, fields));
    this.running.set(spec.id, { spec, listener });
    listener.start();
  }

  async restart(id: string): Promise<boolean> {
    const r = this.running.get(id);
    if (!r) return false;
    await r.listener.restart();
    return true;
  }

  snapshot(id: string): ListenerSnapshot | undefined {
    return this.running.get(id)?.listener.snapshot();
  }

  snapshots(): ListenerSnapshot[] {
    return [...this.running.values()].map((r) => r.listener.snapshot());
  }

  /** The open tunnels of one connection, oldest first (empty when it does not run). */
  tunnels(id: string): TunnelSnapshot[] {
    return this.running.get(id)?.listener.tunnelSnapshots() ?? [];
  }

  /** Cuts one open tunnel; false when there is no such tunnel (any more). */
  closeTunnel(id: string, tunnelId: string): boolean {
    return this.running.get(id)?.listener.closeTunnel(tunnelId) ?? false;
  }

  /** Stops listening everywhere at once, then gives open tunnels `graceMs` to finish. */
  async stop(graceMs = 0): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.running.values()].map((r) => r.listener.stop(graceMs)));
    this.running.clear();
  }
}
