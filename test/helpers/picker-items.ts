import type { AzurePickerItem } from '../../src/shared/api.js';

/**
 * A Hybrid Connection as Azure listing shows it in the picker: subscription `sub-1` (Production),
 * resource group `rg-<namespace>`, West Europe, an endpoint, no listeners, no apps, pickable.
 * Tests override only the fields they are about.
 */
export function aPickerItem(namespace: string, name: string, change: Partial<AzurePickerItem> = {}): AzurePickerItem {
  return {
    armId: `/subscriptions/sub-1/resourceGroups/rg-${namespace}/providers/Microsoft.Relay/namespaces/${namespace}/hybridConnections/${name}`,
    connectionId: `${namespace}/${name}`,
    tenantId: '00000000-0000-0000-0000-0000000000aa',
    subscriptionId: 'sub-1',
    subscriptionName: 'Production',
    resourceGroup: `rg-${namespace}`,
    namespace,
    region: 'West Europe',
    name,
    endpoint: `${name}.internal:443`,
    listenerCount: 0,
    apps: [],
    disabledReason: null,
    ...change,
  };
}
