/** Signing in to Azure and picking Hybrid Connections there: the plain logic the screens use. */
import type {
  AzureAccount,
  AzureAddResult,
  AzureCloudName,
  AzureListingProgress,
  AzurePickerItem,
  AzureSelection,
  AzureState,
} from '../shared/api.js';

/** The clouds one can pick at sign-in (a custom cloud is configured, not picked). */
export const CLOUD_CHOICES: Array<{ value: Exclude<AzureCloudName, 'custom'>; label: string }> = [
  { value: 'public', label: 'Azure (global)' },
  { value: 'usgov', label: 'Azure US Government' },
  { value: 'china', label: 'Azure operated by 21Vianet (China)' },
];

export const DEFAULT_TENANT = 'organizations';

/** "Alice Admin (alice@contoso.com)", or the user name alone. */
export function accountLabel(account: AzureAccount): string {
  return account.name && account.name !== account.username ? `${account.name} (${account.username})` : account.username;
}

/**
 * What to ask beginAzureSignIn for: only what the person changed. A cloud configured for this host
 * (a custom one, e.g. through HCM_AZURE_AUTHORITY) is kept by not naming one.
 */
export function signInRequest(
  state: Pick<AzureState, 'cloud' | 'tenant'> | null,
  chosen: { cloud: AzureCloudName; tenant: string },
): { cloud?: AzureCloudName; tenant?: string } {
  const tenant = chosen.tenant.trim() || DEFAULT_TENANT;
  return {
    ...(chosen.cloud !== (state?.cloud ?? 'public') ? { cloud: chosen.cloud } : {}),
    ...(tenant !== (state?.tenant ?? DEFAULT_TENANT) ? { tenant } : {}),
  };
}

const STAGES: Record<AzureListingProgress['stage'], string> = {
  tenants: 'Reading your tenants',
  subscriptions: 'Reading subscriptions',
  namespaces: 'Reading Relay namespaces',
  hybridConnections: 'Reading Hybrid Connections',
  apps: 'Finding the App Service apps that use them',
  done: 'Done',
};

/** "Reading Relay namespaces: 2 of 5…". */
export function progressText(p: AzureListingProgress | null): string {
  if (!p) return 'Asking Azure…';
  if (p.stage === 'done') return 'Done';
  return p.total > 0 ? `${STAGES[p.stage]}: ${Math.min(p.done, p.total)} of ${p.total}…` : `${STAGES[p.stage]}…`;
}

/** The progress as a fraction for a progress bar, or undefined while it cannot tell. */
export function progressValue(p: AzureListingProgress | null): number | undefined {
  if (!p || p.total <= 0) return undefined;
  return Math.min(1, p.done / p.total);
}

/** Why a row cannot be picked: the host's reason, or already added here (the list may be older than the last Add). */
export function pickBlocker(item: AzurePickerItem, addedIds: ReadonlySet<string>): string | null {
  if (item.disabledReason) return item.disabledReason;
  return addedIds.has(item.connectionId.toLowerCase()) ? 'Already added' : null;
}

/** Rows whose name, namespace, region, endpoint, app, subscription or resource group contain every word typed. */
export function filterPickerItems(items: readonly AzurePickerItem[], text: string): AzurePickerItem[] {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [...items];
  return items.filter((i) => {
    const hay = [i.name, i.namespace, i.region, i.endpoint ?? '', ...i.apps, i.subscriptionName, i.resourceGroup].join(' ').toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

/** A stable key per row (the ARM id names the subscription and resource group too). */
export const pickerKey = (item: AzurePickerItem): string => item.armId.toLowerCase();

export function selectionOf(item: AzurePickerItem): AzureSelection {
  return {
    tenantId: item.tenantId,
    subscriptionId: item.subscriptionId,
    resourceGroup: item.resourceGroup,
    namespace: item.namespace,
    name: item.name,
  };
}

export interface AddOutcome {
  name: string;
  namespace: string;
  ok: boolean;
  /** The connection's id when added, why not otherwise. */
  detail: string;
}

/** One line per selection, in the order asked. */
export function addOutcomes(results: readonly AzureAddResult[]): AddOutcome[] {
  return results.map((r) => ({
    name: r.selection.name,
    namespace: r.selection.namespace,
    ok: r.ok,
    detail: r.ok ? (r.id ?? `${r.selection.namespace}/${r.selection.name}`) : (r.error ?? 'not added'),
  }));
}

/** "orders", "orders and billing", "3 Hybrid Connections". */
export function namesList(names: readonly string[]): string {
  if (names.length === 1) return names[0]!;
  if (names.length === 2) return `${names[0]} and ${names[1]}`;
  return `${names.length} Hybrid Connections`;
}

/** The endpoint the metadata names now, against the one this machine keeps using. */
export function endpointChangeText(change: { from: string; to: string }): string {
  return `Endpoint changed in Azure: ${change.from} → ${change.to}`;
}
