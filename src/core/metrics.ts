import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ReconnectReason, TunnelSnapshot } from '../relay/hybrid-connection-listener.js';
import type { ConnectionStatus, ConnectionSummary } from '../shared/api.js';
import type { AgentObserver } from './service.js';
import { VERSION } from './version.js';

/**
 * Prometheus metrics of a running agent (prom-client): per connection its status, listeners,
 * tunnels (active, total, failed), bytes each way, how long tunnels took to set up and why the
 * control channel had to be reopened; and the process metrics prom-client collects. The
 * per-connection figures are read from the service at each scrape (the same counters the UI
 * shows); setup times and reconnects arrive as they happen (AgentObserver). Nothing here touches
 * the data path.
 */

export interface MetricsSource {
  listConnections(): Promise<ConnectionSummary[]>;
  listenerCount(id: string): number | null;
}

const STATUSES: ConnectionStatus[] = ['Connected', 'Connecting', 'NotConnected', 'NotFound', 'Unauthorized'];
const REASONS: ReconnectReason[] = ['dropped', 'keepalive', 'token', 'relay_closed', 'relay_error', 'not_found', 'unauthorized', 'network'];
/** Seconds from the relay's accept to an open tunnel: TCP to the endpoint, then the rendezvous. */
const SETUP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15];

export class AgentMetrics implements AgentObserver {
  readonly registry = new Registry();
  private source: MetricsSource | undefined;
  private readonly known = new Set<string>();
  private readonly status: Gauge<'connection' | 'status'>;
  private readonly listeners: Gauge<'connection'>;
  private readonly active: Gauge<'connection'>;
  private readonly total: Counter<'connection'>;
  private readonly failed: Counter<'connection'>;
  private readonly bytesTo: Counter<'connection'>;
  private readonly bytesFrom: Counter<'connection'>;
  private readonly setup: Histogram<'connection'>;
  private readonly reconnects: Counter<'connection' | 'reason'>;
  private readonly ready: Gauge;

  constructor(options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.status = new Gauge({
      name: 'hcm_connection_status',
      help: 'Status of each Hybrid Connection: 1 for the status it is in, 0 for the others',
      labelNames: ['connection', 'status'],
      registers,
    });
    this.listeners = new Gauge({
      name: 'hcm_connection_listeners',
      help: 'Listeners online on the Hybrid Connection (all agents), as the relay last said',
      labelNames: ['connection'],
      registers,
    });
    this.active = new Gauge({ name: 'hcm_tunnels_active', help: 'Tunnels open now', labelNames: ['connection'], registers });
    this.total = new Counter({
      name: 'hcm_tunnels_total',
      help: 'Connections the relay handed this agent, the failed ones included',
      labelNames: ['connection'],
      registers,
    });
    this.failed = new Counter({
      name: 'hcm_tunnels_failed_total',
      help: 'Connections that could not be bridged (endpoint unreachable, rendezvous failed)',
      labelNames: ['connection'],
      registers,
    });
    this.bytesTo = new Counter({
      name: 'hcm_bytes_to_endpoint_total',
      help: 'Bytes from the app (the relay) to the endpoint',
      labelNames: ['connection'],
      registers,
    });
    this.bytesFrom = new Counter({
      name: 'hcm_bytes_from_endpoint_total',
      help: 'Bytes from the endpoint back to the app (the relay)',
      labelNames: ['connection'],
      registers,
    });
    this.setup = new Histogram({
      name: 'hcm_tunnel_setup_seconds',
      help: "Time from the relay's accept to an open tunnel (TCP to the endpoint, then the rendezvous)",
      labelNames: ['connection'],
      buckets: SETUP_BUCKETS,
      registers,
    });
    this.reconnects = new Counter({
      name: 'hcm_reconnects_total',
      help: 'Control channels reopened, by why the last one was lost or refused',
      labelNames: ['connection', 'reason'],
      registers,
    });
    this.ready = new Gauge({
      name: 'hcm_ready',
      help: '1 when every configured Hybrid Connection is Connected (what /ready says)',
      registers,
    });
    new Gauge({ name: 'hcm_agent_info', help: 'The agent: its version', labelNames: ['version'], registers }).set({ version: VERSION }, 1);
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** Where per-connection figures come from (the service, once created). */
  attach(source: MetricsSource): void {
    this.source = source;
  }

  tunnelOpened(connectionId: string, setupMs: number): void {
    this.setup.observe({ connection: connectionId }, setupMs / 1000);
  }

  tunnelClosed(_connectionId: string, _tunnel: TunnelSnapshot): void {
    // Counted from the service's counters at each scrape.
  }

  reconnect(connectionId: string, reason: ReconnectReason): void {
    this.reconnects.inc({ connection: connectionId, reason });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The text exposition format, with the per-connection figures as of now. */
  async render(): Promise<string> {
    const list = this.source ? (await this.source.listConnections()).filter((c) => !c.demo) : [];
    this.update(list);
    return this.registry.metrics();
  }

  private update(list: ConnectionSummary[]): void {
    const now = new Set(list.map((c) => c.id));
    for (const id of this.known) {
      if (now.has(id)) continue;
      // A removed connection leaves the metrics with it.
      this.setup.remove({ connection: id });
      for (const reason of REASONS) this.reconnects.remove({ connection: id, reason });
    }
    this.known.clear();
    for (const id of now) this.known.add(id);
    for (const m of [this.status, this.listeners, this.active, this.total, this.failed, this.bytesTo, this.bytesFrom]) m.reset();
    for (const c of list) {
      const connection = c.id;
      for (const s of STATUSES) this.status.set({ connection, status: s }, s === c.status ? 1 : 0);
      const listeners = this.source?.listenerCount(c.id);
      if (listeners !== null && listeners !== undefined) this.listeners.set({ connection }, listeners);
      this.active.set({ connection }, c.counters.activeConnections);
      // Counters that only grow while the agent runs: set to the service's figure (reset, then inc).
      this.total.inc({ connection }, c.counters.totalConnections);
      this.failed.inc({ connection }, c.counters.failedConnections);
      this.bytesTo.inc({ connection }, c.counters.bytesToEndpoint);
      this.bytesFrom.inc({ connection }, c.counters.bytesFromEndpoint);
    }
    this.ready.set(readiness(list).ready ? 1 : 0);
  }
}

export interface Readiness {
  ready: boolean;
  /** Why not, one line per connection (or for the agent): for people and probes' logs. */
  reasons: string[];
}

/** Ready when at least one Hybrid Connection is configured and every one is Connected (the demo aside). */
export function readiness(list: ConnectionSummary[], handingOver = false): Readiness {
  const real = list.filter((c) => !c.demo);
  const reasons: string[] = [];
  if (handingOver) reasons.push('this agent is handing over to a new one and no longer listens');
  if (real.length === 0) reasons.push('no Hybrid Connections are configured');
  for (const c of real) {
    if (c.status === 'Connected') continue;
    reasons.push(`${c.id}: ${c.status}${c.lastError ? ` (${c.lastError.message})` : ''}`);
  }
  return { ready: reasons.length === 0, reasons };
}
