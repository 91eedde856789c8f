import { type ConnectionSummary, noTraffic } from '../../src/shared/api.js';

/**
 * A connection summary as the service lists it: `ns/a`, Connected, no error, nothing carried yet.
 * Tests override only the fields they are about; the id follows the name and namespace.
 */
export function aSummary(overrides: Partial<ConnectionSummary> = {}): ConnectionSummary {
  const name = overrides.name ?? 'a';
  const namespace = overrides.namespace ?? 'ns';
  return {
    id: `${namespace}/${name}`,
    name,
    namespace,
    endpoint: 'db:5432',
    status: 'Connected',
    statusSince: '2026-01-01T00:00:00.000Z',
    lastError: null,
    retryAt: null,
    endpointChange: null,
    // A fresh object each time: tests change counters on their copy.
    counters: noTraffic(),
    ...overrides,
  };
}
