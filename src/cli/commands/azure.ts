import type { Command } from 'commander';
import { parseCloudName } from '../../core/azure/clouds.js';
import type { AzureListingProgress, AzurePickerItem, AzureState, HcmApi, HcmHost } from '../../shared/api.js';
import { browserOpener, openInBrowser } from '../browser-opener.js';
import { connectTarget } from '../context.js';
import { CliError } from '../exit.js';
import { table } from '../format.js';

/**
 * Azure from the terminal: hcm login (browser where one can open, else a device code),
 * hcm logout, hcm account, hcm azure list. With an agent running, its sign-in is the one used
 * (it fetches rotated keys with it); without, the saved sign-in of this configuration.
 */
export function registerAzure(program: Command): void {
  program
    .command('login')
    .description('sign in to Azure, to pick Hybrid Connections and let HCM fetch rotated keys (browser, or a device code)')
    .option('--device-code', 'use a device code even where a browser could open')
    .option('--cloud <cloud>', 'public, usgov or china (custom: set HCM_AZURE_AUTHORITY and HCM_AZURE_ARM)')
    .option('--tenant <tenant>', 'tenant id or domain (default: organizations)')
    .action(async (opts: { deviceCode?: boolean; cloud?: string; tenant?: string }) => {
      const cloud = opts.cloud ? parseCloudName(opts.cloud) : undefined;
      const opener = opts.deviceCode ? null : browserOpener();
      await withApi(async (api) => {
        const started = await api.beginAzureSignIn({
          method: opener ? 'browser' : 'device-code',
          ...(cloud ? { cloud } : {}),
          ...(opts.tenant ? { tenant: opts.tenant } : {}),
        });
        if (started.deviceCode) {
          process.stderr.write(`${started.deviceCode.message}\n`);
        } else if (started.url && opener) {
          process.stderr.write('Opening the sign-in page in your browser…\n');
          await openInBrowser(started.url, opener).catch(() =>
            process.stderr.write(`Could not open a browser; open this address yourself:\n${started.url}\n`),
          );
        }
        const state = await waitForSignIn(api);
        if (!state.account) throw new CliError(`not signed in: ${state.lastError ?? 'the sign-in did not complete'}`, 'E_UNAUTHORIZED');
        print(`signed in as ${state.account.username} (tenant ${state.account.tenantId}, ${state.cloudLabel})`);
      });
    });

  program
    .command('logout')
    .description('sign out of Azure and remove the tokens from this machine')
    .action(async () => {
      await withApi(async (api) => {
        await api.signOutOfAzure();
        print('signed out; the tokens were removed from this machine');
      });
    });

  program
    .command('account')
    .description('who is signed in to Azure, in which tenant and cloud, and how the tokens are kept')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      await withApi(async (api) => {
        const s = await api.getAzureState();
        if (opts.json) return print(JSON.stringify(s, null, 2));
        if (!s.account) {
          print(
            `not signed in to Azure (${s.cloudLabel}, tenant ${s.tenant}); sign in with: hcm login${s.lastError ? `\nlast error: ${s.lastError}` : ''}`,
          );
          return;
        }
        print(
          [
            `account:  ${s.account.username}${s.account.name ? ` (${s.account.name})` : ''}`,
            `tenant:   ${s.account.tenantId}`,
            `cloud:    ${s.cloudLabel}`,
            `tokens:   ${s.tokenStorage}`,
          ].join('\n'),
        );
      });
    });

  const azure = program.command('azure').description('what the signed-in Azure account can see');
  azure
    .command('list')
    .description('Hybrid Connections in every subscription the account can see, with their endpoint, listeners and apps')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      await withApi(async (api) => {
        const listing = await listWithProgress(api);
        if (opts.json) return print(JSON.stringify(listing, null, 2));
        print(pickerTable(listing.items));
        for (const p of listing.problems) process.stderr.write(`hcm: could not read ${p}\n`);
      });
    });
}

export async function withApi(fn: (api: HcmApi) => Promise<void>): Promise<void> {
  const target = await connectTarget();
  try {
    await fn(target.api);
  } finally {
    await target.close();
  }
}

async function waitForSignIn(api: HcmApi): Promise<AzureState> {
  for (;;) {
    const state = await api.getAzureState();
    if (!state.signingIn) return state;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The listing, with its progress on stderr (one line, rewritten in a terminal). */
export async function listWithProgress(api: HcmApi) {
  const tty = process.stderr.isTTY;
  process.stderr.write('Reading subscriptions, namespaces and Hybrid Connections from Azure…\n');
  const host = api as Partial<HcmHost>;
  const off = host.on?.('azureProgress', (p) => {
    if (tty && p.stage !== 'done') process.stderr.write(`\r  ${STAGES[p.stage]}: ${p.done} of ${p.total}\x1b[K`);
  });
  try {
    return await api.listAzureHybridConnections();
  } finally {
    off?.();
    if (tty) process.stderr.write('\r\x1b[K');
  }
}

const STAGES: Record<AzureListingProgress['stage'], string> = {
  tenants: 'tenants',
  subscriptions: 'subscriptions (by tenant)',
  namespaces: 'Relay namespaces (by subscription)',
  hybridConnections: 'Hybrid Connections (by namespace)',
  apps: 'App Service apps (by subscription)',
  done: 'done',
};

export function pickerTable(items: AzurePickerItem[], numbered = false): string {
  if (items.length === 0) return 'no Hybrid Connections in the subscriptions this account can see';
  return table(
    [...(numbered ? ['#'] : []), 'NAME', 'NAMESPACE', 'REGION', 'ENDPOINT', 'LISTENERS', 'APPS', 'SUBSCRIPTION', 'NOTE'],
    items.map((h, i) => [
      ...(numbered ? [h.disabledReason ? '-' : String(i + 1)] : []),
      h.name,
      h.namespace,
      h.region,
      h.endpoint ?? '(none)',
      h.listenerCount === null ? '?' : String(h.listenerCount),
      h.apps.join(', ') || '-',
      h.subscriptionName,
      h.disabledReason ?? '',
    ]),
  );
}

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}
