/** Sentences for a screen reader's live region when connections change state. */
import { type ConnectionSummary, STATUS_LABELS } from '../../shared/api.js';

export function describeStatusChanges(before: readonly ConnectionSummary[], after: readonly ConnectionSummary[]): string[] {
  const previous = new Map(before.map((c) => [c.id, c]));
  const lines: string[] = [];
  for (const c of after) {
    const old = previous.get(c.id);
    if (!old) {
      if (before.length > 0 || after.length === 1) lines.push(`${c.name} added, ${STATUS_LABELS[c.status]}.`);
    } else if (old.status !== c.status) {
      lines.push(`${c.name} is now ${STATUS_LABELS[c.status]}.`);
    }
    previous.delete(c.id);
  }
  for (const gone of previous.values()) lines.push(`${gone.name} removed.`);
  return lines;
}
