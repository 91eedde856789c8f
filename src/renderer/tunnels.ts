/** The live connection inspector's arithmetic: which list is newer, how old a tunnel is, what the header says. Pure. */
import type { TunnelInfo, TunnelList } from '../shared/api.js';

/** How many open tunnels the details show; `total` says how many there are beyond them. */
export const SHOWN_TUNNELS = 100;

/** A tunnel list as this page received it: `receivedAt` is this browser's clock when it came. */
export interface ReceivedTunnels {
  list: TunnelList;
  receivedAt: number;
}

/** The newer of two lists (by the host's `at`); an answer that left before the latest event must not undo it. */
export function newerTunnels(current: ReceivedTunnels | null, next: ReceivedTunnels): ReceivedTunnels {
  if (!current) return next;
  const a = Date.parse(current.list.at);
  const b = Date.parse(next.list.at);
  return Number.isNaN(a) || Number.isNaN(b) || b >= a ? next : current;
}

/**
 * How long the tunnel has been open, by the host's clock: its age when the list was taken, plus
 * the time since this page received it (the browser may run elsewhere, with another clock).
 */
export function tunnelAgeMs(t: TunnelInfo, received: ReceivedTunnels, now: number): number {
  const age = Date.parse(received.list.at) - Date.parse(t.openedAt);
  if (Number.isNaN(age)) return Number.NaN;
  return Math.max(0, age + Math.max(0, now - received.receivedAt));
}

/** "3 open", or "Showing the 100 oldest of 523 open" when there are more than are shown. */
export function tunnelsHeading(list: TunnelList, shown: number): string {
  if (list.total === 0) return 'None open';
  if (list.total > shown) return `Showing the ${shown} oldest of ${list.total} open`;
  return `${list.total} open`;
}
