/** One word for all connections together: what the tray icon, the window title and the header show. */
import { type ConnectionStatus, type ConnectionSummary, STATUS_LABELS } from './api.js';

export type OverallState = 'empty' | 'connected' | 'connecting' | 'degraded' | 'down';

export interface OverallStatus {
  state: OverallState;
  /** Real connections only: the demo never counts as one. */
  connected: number;
  total: number;
  /** Short sentence for tooltips and screen readers, e.g. "2 of 3 connected". */
  label: string;
  /** The demo's status when it runs (kept apart from the real ones), else null. */
  demo: ConnectionStatus | null;
}

/**
 * The overall status of the real connections. The demo (`demo: true`, a local relay to an echo
 * service) is left out of the counts and the state, so a running demo never makes real connections
 * look fine, nor a lone demo look like a configured machine; it is reported apart in `demo`.
 */
export function overallStatus(connections: readonly ConnectionSummary[]): OverallStatus {
  const real = connections.filter((c) => c.demo !== true);
  const demoConnection = connections.find((c) => c.demo === true);
  const demo = demoConnection ? demoConnection.status : null;
  const total = real.length;
  const connected = real.filter((c) => c.status === 'Connected').length;
  const connecting = real.filter((c) => c.status === 'Connecting').length;
  if (total === 0) return { state: 'empty', connected, total, label: 'No connections', demo };
  if (connected === total) {
    return { state: 'connected', connected, total, label: total === 1 ? 'Connected' : `All ${total} connected`, demo };
  }
  const label = `${connected} of ${total} connected`;
  if (connected + connecting === total) return { state: 'connecting', connected, total, label, demo };
  // Nothing carries traffic: say so even when some are still retrying.
  if (connected === 0) return { state: 'down', connected, total, label, demo };
  return { state: 'degraded', connected, total, label, demo };
}

/** "All 2 connected", "No connections · demo connected": the overall status, with the demo named apart when it runs. */
export function overallStatusText(overall: OverallStatus): string {
  return overall.demo ? `${overall.label} · demo ${STATUS_LABELS[overall.demo].toLowerCase()}` : overall.label;
}
