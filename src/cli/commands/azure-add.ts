import { createInterface } from 'node:readline/promises';
import type { AzureAddResult, AzurePickerItem, HcmApi } from '../../shared/api.js';
import { CliError } from '../exit.js';
import { listWithProgress, pickerTable, withApi } from './azure.js';

/** `hcm add` from Azure: picked by number in a terminal, or named on the command line. */

export interface AzureAddOptions {
  subscription?: string;
  resourceGroup?: string;
  namespace?: string;
  name?: string;
}

export async function addFromAzureByName(opts: AzureAddOptions): Promise<void> {
  const missing = (['subscription', 'resourceGroup', 'namespace', 'name'] as const).filter((k) => !opts[k]);
  if (missing.length) {
    throw new CliError(
      `from Azure, give all of --subscription, --resource-group, --namespace and --name (missing: ${missing.map(flag).join(', ')})`,
      'E_USAGE',
    );
  }
  await withApi(async (api) => {
    const { items } = await listWithProgress(api);
    const same = (a: string, b: string | undefined) => a.toLowerCase() === b?.toLowerCase();
    const match = items.find(
      (h) =>
        (same(h.subscriptionId, opts.subscription) || same(h.subscriptionName, opts.subscription)) &&
        same(h.resourceGroup, opts.resourceGroup) &&
        same(h.namespace, opts.namespace) &&
        same(h.name, opts.name),
    );
    if (!match) {
      throw new CliError(
        `no Hybrid Connection ${opts.namespace}/${opts.name} in resource group ${opts.resourceGroup} of subscription ${opts.subscription} that this account can see (hcm azure list shows what it can)`,
        'E_NOT_FOUND',
      );
    }
    if (match.disabledReason) throw new CliError(`${match.connectionId}: ${match.disabledReason}`, 'E_INVALID');
    report(await add(api, [match]));
  });
}

export async function addFromAzurePicker(): Promise<void> {
  await withApi(async (api) => {
    const state = await api.getAzureState();
    if (!state.account) {
      throw new CliError(
        'give a connection string ("-" reads it from stdin), or sign in to Azure first (hcm login) to pick from a list',
        'E_USAGE',
      );
    }
    const { items, problems } = await listWithProgress(api);
    process.stdout.write(`${pickerTable(items, true)}\n`);
    for (const p of problems) process.stderr.write(`hcm: could not read ${p}\n`);
    const selectable = items.map((h, i) => ({ h, n: i + 1 })).filter(({ h }) => !h.disabledReason);
    if (selectable.length === 0) return;
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    const answer = await rl.question('Add which? Numbers separated by commas (Enter for none): ');
    rl.close();
    const picked: AzurePickerItem[] = [];
    for (const part of answer.split(/[\s,]+/).filter(Boolean)) {
      const found = selectable.find(({ n }) => String(n) === part);
      if (!found) throw new CliError(`"${part}" is not one of the numbers shown`, 'E_USAGE');
      picked.push(found.h);
    }
    if (picked.length) report(await add(api, picked));
  });
}

function add(api: HcmApi, items: AzurePickerItem[]): Promise<AzureAddResult[]> {
  return api.addFromAzure(
    items.map((h) => ({
      tenantId: h.tenantId,
      subscriptionId: h.subscriptionId,
      resourceGroup: h.resourceGroup,
      namespace: h.namespace,
      name: h.name,
    })),
  );
}

function report(results: AzureAddResult[]): void {
  for (const r of results) {
    if (r.ok) process.stdout.write(`added ${r.id} (key fetched from Azure)\n`);
    else process.stderr.write(`hcm: ${r.selection.namespace}/${r.selection.name} not added: ${r.error}\n`);
  }
  if (results.some((r) => !r.ok)) throw new CliError(`${results.filter((r) => !r.ok).length} of ${results.length} not added`, 'E_INVALID');
}

function flag(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}
