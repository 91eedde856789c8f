import { describe, expect, it } from 'vitest';
import { StatusAlerts } from '../../src/main/status-alerts.js';
import type { ConnectionStatus, ConnectionSummary } from '../../src/shared/api.js';
import { aSummary } from '../helpers/summaries.js';

/** Which status changes become OS notifications. */

function c(id: string, status: ConnectionStatus, lastError: string | null = null): ConnectionSummary {
  return aSummary({ name: id, status, lastError: lastError ? { message: lastError, at: '2026-01-01T00:00:00.000Z' } : null });
}

describe('StatusAlerts', () => {
  it('stays quiet while connections come up for the first time', () => {
    const alerts = new StatusAlerts();
    expect(alerts.update([c('a', 'Connecting')])).toEqual([]);
    expect(alerts.update([c('a', 'Connected')])).toEqual([]);
  });

  it('says when a connected one goes down, with the reason, and when it is back', () => {
    const alerts = new StatusAlerts();
    alerts.update([c('a', 'Connected'), c('b', 'Connected')]);
    const down = alerts.update([c('a', 'NotConnected', 'connect ECONNREFUSED 127.0.0.1:9443'), c('b', 'Connected')]);
    expect(down).toEqual([
      {
        id: 'ns/a',
        kind: 'down',
        title: 'a lost its relay connection',
        body: 'ns/a is Not connected (connect ECONNREFUSED 127.0.0.1:9443).',
      },
    ]);
    expect(alerts.update([c('a', 'Connecting'), c('b', 'Connected')])).toEqual([]);
    expect(alerts.update([c('a', 'Connected'), c('b', 'Connected')])).toEqual([
      { id: 'ns/a', kind: 'back', title: 'a is connected again', body: 'ns/a relays to db:5432 again.' },
    ]);
    expect(alerts.update([c('a', 'Connected'), c('b', 'Connected')])).toEqual([]);
  });

  it('reports a drop to Connecting as down too (the channel is gone while it retries)', () => {
    const alerts = new StatusAlerts();
    alerts.update([c('a', 'Connected')]);
    expect(alerts.update([c('a', 'Connecting')]).map((x) => x.kind)).toEqual(['down']);
  });

  it('forgets removed connections', () => {
    const alerts = new StatusAlerts();
    alerts.update([c('a', 'Connected')]);
    alerts.update([c('a', 'NotFound')]);
    alerts.update([]);
    expect(alerts.update([c('a', 'Connected')])).toEqual([]);
  });
});
