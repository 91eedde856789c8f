import { EventEmitter } from 'node:events';
import { parseConnectionString } from './connection-string.js';
import type { Endpoint } from './endpoint.js';
import { HybridConnectionListener, type ListenerSnapshot, type ListenerTuning, type LogLevel } from './hybrid-connection-listener.js';

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
  log: [LogLevel, string, string | undefined];
}

interface Running {
  spec: EngineConnection;
  listener: HybridConnectionListener;
}

export class RelayEngine extends EventEmitter<EngineEvents> {
  private readonly running = new Map<string, Running>();
  private stopped = false;

  constructor(private readonly tuning: ListenerTuning = {}) {
    super();
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
    );
    listener.on('status', (s) => this.emit('status', s));
    listener.on('retry', (s) => this.emit('status', s));
    listener.on('counters', () => this.emit('counters', spec.id));
    listener.on('connected', () => this.emit('connected', spec.id));
    listener.on('log', (level, message) => this.emit('log', level, message, spec.id));
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

  /** Stops listening everywhere at once, then gives open tunnels `graceMs` to finish. */
  async stop(graceMs = 0): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.running.values()].map((r) => r.listener.stop(graceMs)));
    this.running.clear();
  }
}
