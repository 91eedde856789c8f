/** One word for all connections together: what the tray icon, the window title and the header show. */
import type { ConnectionSummary } from './api.js';

export type OverallState = 'empty' | 'connected' | 'connecting' | 'degraded' | 'down';

export interface OverallStatus {
  state: OverallState;
  connected: number;
  total: number;
  /** Short sentence for tooltips and screen readers, e.g. "2 of 3 connected". */
  label: string;
}

export function overallStatus(connections: readonly ConnectionSummary[]): OverallStatus {
  const total = connections.length;
  const connected = connections.filter((c) => c.status === 'Connected').length;
  const connecting = connections.filter((c) => c.status === 'Connecting').length;
  if (total === 0) return { state: 'empty', connected, total, label: 'No connections' };
  if (connected === total) {
    return { state: 'connected', connected, total, label: total === 1 ? 'Connected' : `All ${total} connected` };
  }
  const label = `${connected} of ${total} connected`;
  if (connected + connecting === total) return { state: 'connecting', connected, total, label };
  // Nothing carries traffic: say so even when some are still retrying.
  if (connected === 0) return { state: 'down', connected, total, label };
  return { state: 'degraded', connected, total, label };
}
