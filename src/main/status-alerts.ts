/**
 * Decides which status changes deserve an OS notification: a connection that was Connected
 * and is not any more ("down"), and one that comes back after such an alert ("back").
 * The first connect after start-up or after adding is not news, and neither is a connection
 * that was never up.
 */
import { type ConnectionSummary, STATUS_LABELS } from '../shared/api.js';

export interface StatusAlert {
  id: string;
  kind: 'down' | 'back';
  title: string;
  body: string;
}

export class StatusAlerts {
  private readonly last = new Map<string, ConnectionSummary['status']>();
  /** Connections we told the user are down, so a recovery is worth telling too. */
  private readonly reportedDown = new Set<string>();

  update(connections: readonly ConnectionSummary[]): StatusAlert[] {
    const alerts: StatusAlert[] = [];
    const seen = new Set<string>();
    for (const c of connections) {
      seen.add(c.id);
      const before = this.last.get(c.id);
      this.last.set(c.id, c.status);
      if (before === c.status) continue;
      if (before === 'Connected') {
        this.reportedDown.add(c.id);
        const reason = c.lastError ? ` (${c.lastError.message})` : '';
        alerts.push({
          id: c.id,
          kind: 'down',
          title: `${c.name} lost its relay connection`,
          body: `${c.namespace}/${c.name} is ${STATUS_LABELS[c.status]}${reason}.`,
        });
      } else if (c.status === 'Connected' && this.reportedDown.delete(c.id)) {
        alerts.push({
          id: c.id,
          kind: 'back',
          title: `${c.name} is connected again`,
          body: `${c.namespace}/${c.name} relays to ${c.endpoint} again.`,
        });
      }
    }
    // Removed connections are forgotten, so adding one again starts fresh.
    for (const id of [...this.last.keys()]) {
      if (!seen.has(id)) {
        this.last.delete(id);
        this.reportedDown.delete(id);
      }
    }
    return alerts;
  }
}
