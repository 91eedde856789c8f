import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HcmEnv, hcm, hcmEnv, listLive, startAgent, startHcm } from '../helpers/agent.js';
import { type EmulatorAzure, type EmulatorProcess, startEmulator, waitFor } from '../helpers/emulator.js';
import { armAsAdmin, completeDeviceCode } from '../helpers/entra-pages.js';

/**
 * Azure from the terminal against the emulator's Entra ID and ARM, reached through configuration
 * alone (authority, ARM endpoint, the emulator's CA): hcm login --device-code completed on the
 * device page, hcm account, hcm azure list, hcm add from Azure, a key rotated in Azure recovered by
 * the agent itself while signed in (and explained when not), hcm logout removing the tokens.
 */

const USER = 'alice@contoso.onmicrosoft.com';
const PASSWORD = 'Alice-Pa55word!';
const config = {
  tenants: [{ name: 'Contoso', domain: 'contoso.onmicrosoft.com' }],
  users: [{ username: USER, password: PASSWORD, displayName: 'Alice Admin' }],
  subscriptions: [
    {
      name: 'Production',
      tenant: 'contoso.onmicrosoft.com',
      resourceGroups: [
        { name: 'rg-relay', location: 'westeurope', namespaces: ['contoso'] },
        { name: 'rg-legacy', location: 'northeurope', namespaces: ['fabrikam'] },
      ],
    },
  ],
  webApps: [{ name: 'orders-web', hybridConnections: ['orders'] }],
  namespaces: [
    { name: 'contoso', region: 'westeurope', hybridConnections: [{ name: 'orders', endpoint: '127.0.0.1:9' }, { name: 'noendpoint' }] },
    { name: 'fabrikam', region: 'northeurope', hybridConnections: [{ name: 'billing', endpoint: '127.0.0.1:9' }] },
  ],
};

let emulator: EmulatorProcess;
let azure: EmulatorAzure;
let env: HcmEnv;

beforeAll(async () => {
  emulator = await startEmulator({ config });
  azure = emulator.azure!;
  env = hcmEnv(emulator.ca, { HCM_AZURE_AUTHORITY: azure.authority, HCM_AZURE_ARM: azure.arm, HCM_NO_BROWSER: '1' });
});
afterAll(async () => {
  await emulator?.stop();
});

describe('Azure from the terminal', () => {
  let subscriptionId = '';

  it('hcm login --device-code: the code is shown, entered on the device page, and the account is signed in', async () => {
    const login = startHcm(env, ['login', '--device-code']);
    await waitFor(() => /enter the code ([A-Z0-9]+)/.test(login.output()) || login.proc.exitCode !== null, 20_000, 'the device code');
    const [, url, code] = /open the page (\S+) and enter the code ([A-Z0-9]+)/.exec(login.output())!;
    const done = await completeDeviceCode(url!, code!, USER, PASSWORD, emulator.caPem!);
    expect(done).toContain('You have signed in');
    expect(await login.exited).toBe(0);
    expect(login.output()).toContain(`signed in as ${USER}`);
    const account = await hcm(env, ['account']);
    expect(account.stdout).toContain(`account:  ${USER} (Alice Admin)`);
    expect(account.stdout).toMatch(/tokens: +.*azure-tokens\.json \(readable only by you, mode 0600; not encrypted/);
    const tokens = join(env.home, 'azure-tokens.json');
    expect((await import('node:fs')).statSync(tokens).mode & 0o777).toBe(0o600);
    // Tokens never reach the output or the log.
    expect(login.output()).not.toMatch(/eyJ[A-Za-z0-9_-]{20,}/);
  });

  it('hcm azure list --json: every Hybrid Connection with endpoint, region, listeners, apps, and why one cannot be picked', async () => {
    const r = await hcm(env, ['azure', 'list', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const listing = JSON.parse(r.stdout) as { items: Array<Record<string, unknown>>; problems: string[] };
    expect(listing.problems).toEqual([]);
    const byName = Object.fromEntries(listing.items.map((i) => [i.name, i]));
    expect(byName.orders).toMatchObject({
      namespace: 'contoso',
      region: 'West Europe',
      resourceGroup: 'rg-relay',
      subscriptionName: 'Production',
      endpoint: '127.0.0.1:9',
      listenerCount: 0,
      apps: ['orders-web'],
      connectionId: 'contoso/orders',
      disabledReason: null,
    });
    expect(byName.noendpoint!.disabledReason).toMatch(/^No endpoint configured/);
    expect(byName.billing).toMatchObject({ namespace: 'fabrikam', resourceGroup: 'rg-legacy', disabledReason: null });
    subscriptionId = byName.orders!.subscriptionId as string;
    const text = await hcm(env, ['azure', 'list']);
    expect(text.stdout).toMatch(/orders\s+contoso\s+West Europe\s+127\.0\.0\.1:9\s+0\s+orders-web\s+Production/);
  });

  it('hcm add --subscription … --name …: the Listen key fetched from Azure, where it came from saved', async () => {
    const r = await hcm(env, [
      'add',
      '--subscription',
      'Production',
      '--resource-group',
      'rg-relay',
      '--namespace',
      'contoso',
      '--name',
      'orders',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('added contoso/orders (key fetched from Azure)');
    const show = JSON.parse((await hcm(env, ['show', 'orders', '--json'])).stdout) as { azure: Record<string, string>; keyName: string };
    expect(show.keyName).toBe('defaultListener');
    expect(show.azure).toMatchObject({
      subscriptionId,
      resourceGroup: 'rg-relay',
      namespace: 'contoso',
      hybridConnection: 'orders',
      rule: 'defaultListener',
      ruleScope: 'hybridConnection',
    });
    expect(show.azure.portalUrl).toContain(
      `/resource/subscriptions/${subscriptionId}/resourceGroups/rg-relay/providers/Microsoft.Relay/namespaces/contoso/hybridConnections/orders`,
    );
    const again = await hcm(env, ['azure', 'list', '--json']);
    expect(
      (JSON.parse(again.stdout) as { items: Array<{ name: string; disabledReason: string | null }> }).items.find(
        (i) => i.name === 'orders',
      )!.disabledReason,
    ).toBe('Already added');
    const missing = await hcm(env, ['add', '--subscription', 'Production', '--resource-group', 'rg-relay', '--namespace', 'contoso']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('missing: --name');
  });

  it('a key rotated in Azure is fetched again by the agent while signed in; after logout it says how to fix it', async () => {
    const agent = await startAgent(env, { waitConnected: 1 });
    try {
      const hcPath = `/subscriptions/${subscriptionId}/resourceGroups/rg-relay/providers/Microsoft.Relay/namespaces/contoso/hybridConnections/orders/authorizationRules/defaultListener/regenerateKeys?api-version=2021-11-01`;
      expect(await armAsAdmin(emulator, USER, PASSWORD, hcPath, { keyType: 'PrimaryKey' })).toBe(200);
      await hcm(env, ['restart', 'orders']);
      await waitFor(
        () => agent.output().includes('the key was rotated in Azure: fetched the new key of rule defaultListener'),
        30_000,
        'the key fetched again',
      );
      await waitFor(async () => (await listLive(env))[0]!.status === 'Connected', 30_000, 'Connected with the new key');

      const logout = await hcm(env, ['logout']);
      expect(logout.stdout).toContain('the tokens were removed from this machine');
      expect(existsSync(join(env.home, 'azure-tokens.json'))).toBe(false);
      expect((await hcm(env, ['account'])).stdout).toContain('not signed in to Azure');

      expect(await armAsAdmin(emulator, USER, PASSWORD, hcPath, { keyType: 'PrimaryKey' })).toBe(200);
      await hcm(env, ['restart', 'orders']);
      await waitFor(async () => (await listLive(env))[0]!.status === 'Unauthorized', 30_000, 'Unauthorized');
      const [row] = await listLive(env);
      expect(row!.lastError!.message).toContain(
        'while you are signed in to Azure, HCM fetches a rotated key by itself; otherwise sign in (hcm login)',
      );
      await waitFor(() => agent.output().includes('sign in to Azure (hcm login'), 10_000, 'the hint in the log');
    } finally {
      await agent.stop();
    }
    expect(readFileSync(join(env.home, 'logs', 'hcm.log'), 'utf8')).not.toMatch(/eyJ[A-Za-z0-9_-]{20,}/);
  });
});
