/** Log lines kept in the renderer: ordered by seq, no duplicates, bounded so a chatty host cannot exhaust memory. */
import type { LogEntry, LogLevel } from '../../shared/api.js';

export const LOG_CAPACITY = 5000;

export function mergeLogs(current: readonly LogEntry[], incoming: readonly LogEntry[], capacity = LOG_CAPACITY): LogEntry[] {
  if (incoming.length === 0) return current as LogEntry[];
  const lastSeq = current.length ? current[current.length - 1]!.seq : -Infinity;
  let merged: LogEntry[];
  if (incoming.every((e, i) => e.seq > lastSeq && (i === 0 || e.seq > incoming[i - 1]!.seq))) {
    // The common case: live lines arriving in order.
    merged = current.concat(incoming);
  } else {
    const bySeq = new Map<number, LogEntry>();
    for (const e of current) bySeq.set(e.seq, e);
    for (const e of incoming) bySeq.set(e.seq, e);
    merged = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  }
  return merged.length > capacity ? merged.slice(merged.length - capacity) : merged;
}

const LEVEL_RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface LogFilter {
  minLevel: LogLevel;
  /** Connection ids whose lines to show; empty for all lines. */
  connections: readonly string[];
  text: string;
}

export function filterLogs(entries: readonly LogEntry[], filter: LogFilter): LogEntry[] {
  const needle = filter.text.trim().toLowerCase();
  const min = LEVEL_RANK[filter.minLevel];
  const only = filter.connections.length > 0 ? new Set(filter.connections) : null;
  return entries.filter(
    (e) =>
      LEVEL_RANK[e.level] >= min &&
      (only === null || (e.connection !== undefined && only.has(e.connection))) &&
      (needle === '' || e.message.toLowerCase().includes(needle) || (e.connection ?? '').toLowerCase().includes(needle)),
  );
}

/** Plain text for the clipboard: one line per entry, the same columns the view shows. */
export function logsAsText(entries: readonly LogEntry[]): string {
  return entries
    .map((e) => `${e.time} ${e.level.toUpperCase().padEnd(5)} ${e.connection ? `[${e.connection}] ` : ''}${e.message}`)
    .join('\n');
}
