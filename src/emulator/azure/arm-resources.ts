import { endpointFromMetadata } from '../../relay/runtime-info.js';
import type { EmulatorHybridConnection, EmulatorNamespace, EmulatorRule } from '../config.js';
import type { ResourceGroup, Subscription, Tenant, WebApp } from './directory.js';
import { regionDisplayName } from './ids.js';
import type { RelayFacts } from './relay-facts.js';

/**
 * The JSON of each ARM resource the emulator serves, in the shapes the Azure SDKs deserialize
 * (docs/protocol.md §9): tenants, subscriptions, resource groups, Microsoft.Relay namespaces,
 * Hybrid Connections, authorization rules and keys, and Microsoft.Web sites with their Hybrid
 * Connection bindings. Relay facts (listeners, metadata, rules, keys) come from the relay's state.
 */

export function tenantJson(t: Tenant): Record<string, unknown> {
  return {
    id: `/tenants/${t.id}`,
    tenantId: t.id,
    countryCode: 'US',
    displayName: t.name,
    domains: [t.domain],
    tenantCategory: 'Home',
    defaultDomain: t.domain,
    tenantType: 'AAD',
  };
}

export function subscriptionJson(s: Subscription): Record<string, unknown> {
  return {
    id: `/subscriptions/${s.id}`,
    authorizationSource: 'RoleBased',
    managedByTenants: [],
    subscriptionId: s.id,
    tenantId: s.tenantId,
    displayName: s.name,
    state: s.state,
    subscriptionPolicies: { locationPlacementId: 'Public_2014-09-01', quotaId: 'PayAsYouGo_2014-09-01', spendingLimit: 'Off' },
  };
}

export function resourceGroupId(g: ResourceGroup): string {
  return `/subscriptions/${g.subscriptionId}/resourceGroups/${g.name}`;
}

export function resourceGroupJson(g: ResourceGroup): Record<string, unknown> {
  return {
    id: resourceGroupId(g),
    name: g.name,
    type: 'Microsoft.Resources/resourceGroups',
    location: g.location,
    properties: { provisioningState: 'Succeeded' },
  };
}

export function namespaceId(g: ResourceGroup, ns: EmulatorNamespace): string {
  return `${resourceGroupId(g)}/providers/Microsoft.Relay/namespaces/${ns.name}`;
}

/** 2021-11-01 added status, publicNetworkAccess and privateEndpointConnections. */
export function namespaceJson(relay: RelayFacts, g: ResourceGroup, ns: EmulatorNamespace, apiVersion: string): Record<string, unknown> {
  return {
    sku: { name: 'Standard', tier: 'Standard' },
    id: namespaceId(g, ns),
    name: ns.name,
    type: 'Microsoft.Relay/Namespaces',
    location: regionDisplayName(ns.region),
    tags: {},
    properties: {
      provisioningState: 'Succeeded',
      metricId: `${g.subscriptionId}:${ns.name.toLowerCase()}`,
      createdAt: ns.createdAt.toISOString(),
      updatedAt: ns.updatedAt.toISOString(),
      serviceBusEndpoint: relay.serviceBusEndpoint(ns),
      ...(apiVersion >= '2021-11-01' ? { status: 'Active', publicNetworkAccess: 'Enabled', privateEndpointConnections: [] } : {}),
    },
  };
}

export function hybridConnectionId(g: ResourceGroup, ns: EmulatorNamespace, hc: EmulatorHybridConnection): string {
  return `${namespaceId(g, ns)}/HybridConnections/${hc.name}`;
}

/** `userMetadata` is the raw string (a JSON array as text), as Azure keeps it. */
export function hybridConnectionJson(
  relay: RelayFacts,
  g: ResourceGroup,
  ns: EmulatorNamespace,
  hc: EmulatorHybridConnection,
): Record<string, unknown> {
  return {
    id: hybridConnectionId(g, ns, hc),
    name: hc.name,
    type: 'Microsoft.Relay/Namespaces/HybridConnections',
    properties: {
      createdAt: hc.createdAt.toISOString(),
      updatedAt: hc.updatedAt.toISOString(),
      listenerCount: relay.listenerCount(hc),
      requiresClientAuthorization: hc.requiresClientAuthorization,
      ...(hc.userMetadata !== undefined ? { userMetadata: hc.userMetadata } : {}),
    },
  };
}

export function ruleJson(parentId: string, type: string, rule: EmulatorRule): Record<string, unknown> {
  return { id: `${parentId}/authorizationRules/${rule.name}`, name: rule.name, type, properties: { rights: [...rule.rights] } };
}

export const NAMESPACE_RULE_TYPE = 'Microsoft.Relay/Namespaces/AuthorizationRules';
export const HYBRID_CONNECTION_RULE_TYPE = 'Microsoft.Relay/Namespaces/HybridConnections/AuthorizationRules';

export function keysJson(
  relay: RelayFacts,
  ns: EmulatorNamespace,
  rule: EmulatorRule,
  hc?: EmulatorHybridConnection,
): Record<string, unknown> {
  return {
    primaryConnectionString: relay.connectionString(ns, rule, 0, hc),
    secondaryConnectionString: relay.connectionString(ns, rule, 1, hc),
    primaryKey: rule.keys[0],
    secondaryKey: rule.keys[1],
    keyName: rule.name,
  };
}

export function siteId(app: WebApp): string {
  return `/subscriptions/${app.subscriptionId}/resourceGroups/${app.resourceGroup}/providers/Microsoft.Web/sites/${app.name}`;
}

export function siteJson(app: WebApp): Record<string, unknown> {
  const host = `${app.name.toLowerCase()}.azurewebsites.net`;
  return {
    id: siteId(app),
    name: app.name,
    type: 'Microsoft.Web/sites',
    kind: 'app',
    location: regionDisplayName(app.location),
    tags: {},
    properties: {
      name: app.name,
      state: 'Running',
      hostNames: [host],
      enabledHostNames: [host, `${app.name.toLowerCase()}.scm.azurewebsites.net`],
      enabled: true,
      defaultHostName: host,
      resourceGroup: app.resourceGroup,
      serverFarmId: `/subscriptions/${app.subscriptionId}/resourceGroups/${app.resourceGroup}/providers/Microsoft.Web/serverfarms/${app.name}-plan`,
      httpsOnly: true,
    },
  };
}

/**
 * An app's binding to a Hybrid Connection (Microsoft.Web/sites/{app}/hybridConnectionNamespaces/
 * {ns}/relays/{hc}): the endpoint the app reaches through it (from the Hybrid Connection's user
 * metadata) and the Send rule it uses. The send key itself is left out.
 */
export function siteRelayJson(
  relay: RelayFacts,
  app: WebApp,
  ns: EmulatorNamespace,
  hc: EmulatorHybridConnection,
  group: ResourceGroup | undefined,
): Record<string, unknown> {
  const { endpoint } = endpointFromMetadata(hc.userMetadata);
  const sendRule =
    hc.rules.find((r) => r.rights.length === 1 && r.rights[0] === 'Send') ??
    hc.rules.find((r) => r.rights.includes('Send')) ??
    ns.rules.find((r) => r.rights.includes('Send'));
  const host = new URL(relay.serviceBusEndpoint(ns)).hostname;
  const prefix = `${ns.name.toLowerCase()}.`;
  return {
    id: `${siteId(app)}/hybridConnectionNamespaces/${ns.name}/relays/${hc.name}`,
    name: hc.name,
    type: 'Microsoft.Web/sites/hybridConnectionNamespaces/relays',
    location: regionDisplayName(app.location),
    properties: {
      serviceBusNamespace: ns.name,
      relayName: hc.name,
      relayArmUri: group ? hybridConnectionId(group, ns, hc) : null,
      hostname: endpoint?.host ?? null,
      port: endpoint?.port ?? null,
      sendKeyName: sendRule?.name ?? null,
      serviceBusSuffix: host.startsWith(prefix) ? host.slice(ns.name.length) : `.${host}`,
    },
  };
}

/** A few of Microsoft.Relay's operations (GET /providers/Microsoft.Relay/operations). */
export const RELAY_OPERATIONS = [
  ['Microsoft.Relay/namespaces/read', 'Namespace', 'Get Namespace Resource'],
  [
    'Microsoft.Relay/namespaces/authorizationRules/listkeys/action',
    'Namespace Authorization Rules',
    'List Namespace Authorization Rules Keys',
  ],
  [
    'Microsoft.Relay/namespaces/authorizationRules/regenerateKeys/action',
    'Namespace Authorization Rules',
    'Regenerate Namespace Authorization Rules Keys',
  ],
  ['Microsoft.Relay/namespaces/hybridConnections/read', 'HybridConnections', 'Get HybridConnection'],
  [
    'Microsoft.Relay/namespaces/hybridConnections/authorizationRules/listkeys/action',
    'HybridConnection Authorization Rules',
    'List HybridConnection Authorization Rules Keys',
  ],
  [
    'Microsoft.Relay/namespaces/hybridConnections/authorizationRules/regeneratekeys/action',
    'HybridConnection Authorization Rules',
    'Regenerate HybridConnection Authorization Rules Keys',
  ],
].map(([name, resource, operation]) => ({ name, display: { provider: 'Microsoft Azure Relay', resource, operation } }));
