/** How healthy a connection is beyond its status word: recent endpoint failures, the next retry. Pure functions. */
import type { ConnectionSummary } from '../shared/api.js';

/** Endpoint failures older than this no longer mark a Connected row (the details keep the count). */
export const RECENT_FAILURE_MS = 60 * 60_000;

export interface RecentFailures {
  /** Connections the relay handed over that could not be bridged, since the agent started. */
  failed: number;
  total: number;
  message: string;
  at: string;
}

/**
 * A Connected connection whose last error came while it was connected (an app's connection that
 * could not be bridged: endpoint down, refused, timed out) within the last hour. An error from
 * before the control channel came back is history, not a warning: its time is before statusSince.
 */
export function recentFailures(c: ConnectionSummary, now: number = Date.now()): RecentFailures | null {
  if (c.status !== 'Connected' || !c.lastError || c.counters.failedConnections <= 0) return null;
  const at = Date.parse(c.lastError.at);
  const since = Date.parse(c.statusSince);
  if (Number.isNaN(at) || (!Number.isNaN(since) && at < since) || now - at > RECENT_FAILURE_MS) return null;
  return { failed: c.counters.failedConnections, total: c.counters.totalConnections, message: c.lastError.message, at: c.lastError.at };
}

/** "3 failed", for the mark next to the status. */
export function failuresLabel(f: RecentFailures): string {
  return `${f.failed} failed`;
}

/** Seconds until the next try (never below 0), or null when no retry is scheduled (connected, or trying now). */
export function secondsToRetry(retryAt: string | null, now: number = Date.now()): number | null {
  if (!retryAt) return null;
  const at = Date.parse(retryAt);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

/** "Retrying in 12 s", "Retrying in 4 min 5 s", "Retrying now…". */
export function retryText(seconds: number): string {
  if (seconds <= 0) return 'Retrying now…';
  if (seconds < 120) return `Retrying in ${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  return `Retrying in ${minutes} min${rest ? ` ${rest} s` : ''}`;
}
