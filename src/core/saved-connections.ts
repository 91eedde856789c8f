import { type ConnectionSummary, noTraffic } from '../shared/api.js';
import { ConfigStore, type StoredConnection } from './config-store.js';
import { type HcmPaths, hcmPaths } from './paths.js';

/**
 * A saved connection as a summary, before any agent has run it: NotConnected since it was added,
 * no traffic. The service adds the live parts on top; `hcm list` without an agent prints this
 * directly, without loading the service (the relay engine, `ws`, the Azure pieces).
 */
export function savedSummary(c: StoredConnection): ConnectionSummary {
  return {
    id: c.id,
    name: c.name,
    namespace: c.namespace,
    endpoint: c.endpoint,
    status: 'NotConnected',
    statusSince: new Date(c.addedAt).toISOString(),
    lastError: null,
    retryAt: null,
    endpointChange: c.endpointInAzure ? { from: c.endpoint, to: c.endpointInAzure.endpoint, seenAt: c.endpointInAzure.seenAt } : null,
    counters: noTraffic(),
  };
}

/** The saved connections, in the order of config.json. */
export function savedSummaries(paths: HcmPaths = hcmPaths()): ConnectionSummary[] {
  return new ConfigStore(paths).load().connections.map(savedSummary);
}
