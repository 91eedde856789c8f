/** The connections list as the UI shows it: sorted, filtered, and summed up in one line. Pure functions. */
import { type ConnectionStatus, type ConnectionSummary, STATUS_LABELS } from '../../shared/api.js';
import { overallStatus } from '../../shared/overall-status.js';

export type SortColumn = 'name' | 'namespace' | 'endpoint' | 'status' | 'active' | 'traffic';
export type SortDirection = 'ascending' | 'descending';
export interface SortState {
  column: SortColumn;
  direction: SortDirection;
}

export const DEFAULT_SORT: SortState = { column: 'name', direction: 'ascending' };

/** Ascending puts working connections first, then the ones still trying, then those that need someone. */
const STATUS_RANK: Record<ConnectionStatus, number> = { Connected: 0, Connecting: 1, NotConnected: 2, NotFound: 3, Unauthorized: 4 };

const byText = (a: string, b: string) => a.localeCompare(b, undefined, { numeric: true, sensitivity: 'base' });
const traffic = (c: ConnectionSummary) => c.counters.bytesToEndpoint + c.counters.bytesFromEndpoint;

const COMPARE: Record<SortColumn, (a: ConnectionSummary, b: ConnectionSummary) => number> = {
  name: (a, b) => byText(a.name, b.name),
  namespace: (a, b) => byText(a.namespace, b.namespace),
  endpoint: (a, b) => byText(a.endpoint, b.endpoint),
  status: (a, b) => STATUS_RANK[a.status] - STATUS_RANK[b.status],
  active: (a, b) => a.counters.activeConnections - b.counters.activeConnections,
  traffic: (a, b) => traffic(a) - traffic(b),
};

/** Sorted by the column, ties by name then namespace (always ascending, so equal rows keep a stable order). */
export function sortConnections(list: readonly ConnectionSummary[], sort: SortState): ConnectionSummary[] {
  const sign = sort.direction === 'ascending' ? 1 : -1;
  return [...list].sort((a, b) => sign * COMPARE[sort.column](a, b) || COMPARE.name(a, b) || COMPARE.namespace(a, b) || byText(a.id, b.id));
}

/** Rows whose name, namespace, endpoint or status contain every word typed (case-insensitive). */
export function filterConnections(list: readonly ConnectionSummary[], text: string): ConnectionSummary[] {
  const words = text.trim().toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [...list];
  return list.filter((c) => {
    const haystack = [c.name, c.namespace, c.endpoint, STATUS_LABELS[c.status], c.demo ? 'demo' : ''].join(' ').toLowerCase();
    return words.every((w) => haystack.includes(w));
  });
}

/** Next sort when a column header is chosen: the same column flips, another starts ascending. */
export function nextSort(current: SortState, column: SortColumn): SortState {
  if (current.column !== column) return { column, direction: 'ascending' };
  return { column, direction: current.direction === 'ascending' ? 'descending' : 'ascending' };
}

/** Tunnels open right now across these connections: what a restart or remove would cut. */
export function openTunnels(list: readonly ConnectionSummary[]): number {
  return list.reduce((sum, c) => sum + c.counters.activeConnections, 0);
}

export function openTunnelsSentence(n: number): string {
  return n === 1 ? '1 open connection will be closed.' : `${n} open connections will be closed.`;
}

/**
 * One line for the header and the window title. Real connections and the demo are counted apart,
 * so a running demo never makes real connections look fine; a lost host makes every status unknown.
 */
export function statusLine(connections: readonly ConnectionSummary[], lostSince: string | null): string {
  if (lostSince) return `Agent not reachable since ${lostSince}`;
  const real = connections.filter((c) => !c.demo);
  const demo = connections.find((c) => c.demo);
  const parts: string[] = [];
  if (real.length > 0) parts.push(overallStatus(real).label);
  if (demo) parts.push(`Demo ${STATUS_LABELS[demo.status].toLowerCase()}`);
  return parts.join(', ');
}

/** "web01 · Connected — Hybrid Connection Manager": the host first, so several tabs (ssh -L) tell apart. */
export function windowTitle(hostname: string | null | undefined, status: string): string {
  const lead = [hostname, status].filter(Boolean).join(' · ');
  return lead ? `${lead} — Hybrid Connection Manager` : 'Hybrid Connection Manager';
}
