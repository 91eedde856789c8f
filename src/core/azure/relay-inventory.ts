import { RelayAPI } from '@azure/arm-relay';
import { SubscriptionClient } from '@azure/arm-resources-subscriptions';
import { ServiceClient } from '@azure/core-client';
import { createPipelineRequest } from '@azure/core-rest-pipeline';
import { formatEndpoint } from '../../relay/endpoint.js';
import { endpointFromMetadata } from '../../relay/runtime-info.js';
import type { TransportOptions } from '../../relay/transport.js';
import { errorMessage } from '../../shared/errors.js';
import { armProxyOptions, armTlsOptions } from './https-client.js';
import type { AzureAuth } from './sign-in.js';

/**
 * What the signed-in account can see: tenants → subscriptions → Relay namespaces → Hybrid
 * Connections, with each one's endpoint (from its user metadata), listeners online, and the App
 * Service apps that use it where ARM can tell. Namespaces are read in parallel, a few at a time;
 * the SDKs follow nextLink pages and wait out 429 Retry-After. A part that fails (a tenant that
 * wants MFA, a subscription without read access) is reported and the rest is still listed.
 */

export interface AzureHybridConnection {
  /** ARM resource id of the Hybrid Connection. */
  id: string;
  tenantId: string;
  subscriptionId: string;
  subscriptionName: string;
  resourceGroup: string;
  namespace: string;
  region: string;
  name: string;
  /** host:port from the `endpoint` user metadata, or null with the reason. */
  endpoint: string | null;
  endpointProblem: string | null;
  listenerCount: number | null;
  requiresClientAuthorization: boolean | null;
  /** App Service apps bound to it (Microsoft.Web/sites/…/hybridConnectionNamespaces/…/relays/…). */
  apps: string[];
}

export interface InventoryProgress {
  stage: 'tenants' | 'subscriptions' | 'namespaces' | 'hybridConnections' | 'apps' | 'done';
  done: number;
  total: number;
}

export interface Inventory {
  hybridConnections: AzureHybridConnection[];
  /** What could not be read, for people (e.g. "tenant Fabrikam: needs you to sign in again"). */
  problems: string[];
}

const NAMESPACE_CONCURRENCY = 4;
const WEB_API_VERSION = '2022-03-01';

export function armClientOptions(auth: AzureAuth, transport: TransportOptions | undefined) {
  const endpoint = auth.cloud.cloud.armEndpoint.replace(/\/$/, '');
  const tlsOptions = armTlsOptions(transport);
  const proxyOptions = armProxyOptions(transport, endpoint);
  return {
    endpoint,
    credentialScopes: [auth.cloud.armScope],
    credentials: { scopes: [auth.cloud.armScope] },
    ...(tlsOptions ? { tlsOptions } : {}),
    ...(proxyOptions ? { proxyOptions } : {}),
  };
}

export async function listAzureHybridConnections(
  auth: AzureAuth,
  options: { transport?: TransportOptions; onProgress?: (p: InventoryProgress) => void } = {},
): Promise<Inventory> {
  const progress = options.onProgress ?? (() => undefined);
  const clientOptions = armClientOptions(auth, options.transport);
  const problems: string[] = [];

  progress({ stage: 'tenants', done: 0, total: 1 });
  const home = new SubscriptionClient(auth.credential(), clientOptions);
  const tenants: string[] = [];
  for await (const t of home.tenants.list()) if (t.tenantId) tenants.push(t.tenantId);
  if (tenants.length === 0) tenants.push((await auth.account())?.tenantId ?? '');

  const subscriptions: Array<{ id: string; name: string; tenantId: string }> = [];
  let tenantsDone = 0;
  for (const tenantId of tenants) {
    progress({ stage: 'subscriptions', done: tenantsDone++, total: tenants.length });
    try {
      const client = new SubscriptionClient(auth.credential(tenantId), clientOptions);
      for await (const s of client.subscriptions.list()) {
        if (s.subscriptionId && (s.state === undefined || s.state === 'Enabled' || s.state === 'Warned')) {
          subscriptions.push({ id: s.subscriptionId, name: s.displayName ?? s.subscriptionId, tenantId: s.tenantId ?? tenantId });
        }
      }
    } catch (err) {
      problems.push(`tenant ${tenantId}: ${errorMessage(err)}`);
    }
  }

  const namespaces: Array<{ sub: (typeof subscriptions)[number]; resourceGroup: string; name: string; region: string }> = [];
  let subsDone = 0;
  await mapLimit(subscriptions, NAMESPACE_CONCURRENCY, async (sub) => {
    try {
      const relay = new RelayAPI(auth.credential(sub.tenantId), sub.id, clientOptions);
      for await (const ns of relay.namespaces.list()) {
        if (ns.name && ns.id) namespaces.push({ sub, resourceGroup: resourceGroupOf(ns.id), name: ns.name, region: ns.location });
      }
    } catch (err) {
      problems.push(`subscription ${sub.name}: ${errorMessage(err)}`);
    }
    progress({ stage: 'namespaces', done: ++subsDone, total: subscriptions.length });
  });

  const found: AzureHybridConnection[] = [];
  let nsDone = 0;
  await mapLimit(namespaces, NAMESPACE_CONCURRENCY, async (ns) => {
    try {
      const relay = new RelayAPI(auth.credential(ns.sub.tenantId), ns.sub.id, clientOptions);
      for await (const hc of relay.hybridConnections.listByNamespace(ns.resourceGroup, ns.name)) {
        if (!hc.name || !hc.id) continue;
        const { endpoint, problem } = endpointFromMetadata(hc.userMetadata);
        found.push({
          id: hc.id,
          tenantId: ns.sub.tenantId,
          subscriptionId: ns.sub.id,
          subscriptionName: ns.sub.name,
          resourceGroup: ns.resourceGroup,
          namespace: ns.name,
          region: ns.region,
          name: hc.name,
          endpoint: endpoint ? formatEndpoint(endpoint) : null,
          endpointProblem: endpoint ? null : (problem ?? 'No endpoint configured'),
          listenerCount: hc.listenerCount ?? null,
          requiresClientAuthorization: hc.requiresClientAuthorization ?? null,
          apps: [],
        });
      }
    } catch (err) {
      problems.push(`namespace ${ns.name}: ${errorMessage(err)}`);
    }
    progress({ stage: 'hybridConnections', done: ++nsDone, total: namespaces.length });
  });

  await addAppBindings(auth, clientOptions, subscriptions, found, problems, progress);
  found.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  progress({ stage: 'done', done: found.length, total: found.length });
  return { hybridConnections: found, problems };
}

/** Which App Service app uses which Hybrid Connection: each site's hybridConnectionRelays. */
async function addAppBindings(
  auth: AzureAuth,
  clientOptions: ReturnType<typeof armClientOptions>,
  subscriptions: Array<{ id: string; tenantId: string; name: string }>,
  found: AzureHybridConnection[],
  problems: string[],
  progress: (p: InventoryProgress) => void,
): Promise<void> {
  const wanted = new Set(found.map((h) => h.subscriptionId));
  let done = 0;
  await mapLimit(
    subscriptions.filter((s) => wanted.has(s.id)),
    NAMESPACE_CONCURRENCY,
    async (sub) => {
      const client = new ServiceClient({ ...clientOptions, credential: auth.credential(sub.tenantId) });
      try {
        const sites = await listAll<{ id?: string; name?: string }>(
          client,
          `${clientOptions.endpoint}/subscriptions/${sub.id}/providers/Microsoft.Web/sites?api-version=${WEB_API_VERSION}`,
        );
        await mapLimit(sites, NAMESPACE_CONCURRENCY, async (site) => {
          if (!site.id || !site.name) return;
          const relays = await listAll<{ properties?: { serviceBusNamespace?: string; relayName?: string } }>(
            client,
            `${clientOptions.endpoint}${site.id}/hybridConnectionRelays?api-version=${WEB_API_VERSION}`,
          );
          for (const r of relays) {
            const hc = found.find(
              (h) =>
                h.subscriptionId === sub.id &&
                h.namespace.toLowerCase() === r.properties?.serviceBusNamespace?.toLowerCase() &&
                h.name.toLowerCase() === r.properties?.relayName?.toLowerCase(),
            );
            if (hc && !hc.apps.includes(site.name)) hc.apps.push(site.name);
          }
        });
      } catch (err) {
        // Reading App Service is a bonus: the picker works without it.
        problems.push(`App Service apps in ${sub.name}: ${errorMessage(err)}`);
      }
      progress({ stage: 'apps', done: ++done, total: wanted.size });
    },
  );
}

/** GET an ARM list, following nextLink. */
async function listAll<T>(client: ServiceClient, url: string): Promise<T[]> {
  const out: T[] = [];
  let next: string | undefined = url;
  for (let page = 0; next && page < 100; page++) {
    const res = await client.sendRequest(createPipelineRequest({ url: next, method: 'GET' }));
    if (res.status === 404) return out;
    if (res.status >= 400) throw new Error(armErrorText(res.status, res.bodyAsText));
    const body = JSON.parse(res.bodyAsText ?? '{}') as { value?: T[]; nextLink?: string };
    out.push(...(body.value ?? []));
    next = body.nextLink;
  }
  return out;
}

function armErrorText(status: number, text: string | null | undefined): string {
  try {
    const e = (JSON.parse(text ?? '') as { error?: { code?: string; message?: string } }).error;
    if (e?.code) return `${e.code}: ${e.message ?? ''}`.trim();
  } catch {
    /* not JSON */
  }
  return `HTTP ${status}`;
}

export function resourceGroupOf(id: string): string {
  return /\/resourceGroups\/([^/]+)/i.exec(id)?.[1] ?? '';
}

async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
