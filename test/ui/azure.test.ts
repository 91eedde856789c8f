import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Forwarder, type HcmEnv, hcmEnv, startForwarder } from '../helpers/agent.js';
import { type EmulatorAzure, type EmulatorProcess, startEmulator } from '../helpers/emulator.js';
import { type TcpServer, startEchoServer } from '../helpers/tcp-servers.js';
import { echoedBytes } from '../helpers/tunnel.js';
import { armAsAdmin } from '../helpers/entra-pages.js';
import { SCREENSHOTS, launchChromium, openPage, screenshotBothThemes, noToasts, until } from './helpers/browser.js';
import { type UiHost, startUiHost } from './helpers/ui-host.js';

/**
 * Issue 13's UI, the whole path in Chromium against the real `hcm ui` and the relay emulator's
 * Entra ID and ARM, reached through configuration alone (HCM_AZURE_AUTHORITY, HCM_AZURE_ARM,
 * HCM_CA_FILE): Sign in opens the emulator's sign-in page in a new tab, whose answer goes to MSAL's
 * loopback server in the agent; the header shows the account. Add › Select with Azure lists two
 * subscriptions' namespaces with Region, Endpoint, listeners and the App Service app, the Hybrid
 * Connection without endpoint shown off with the reason; two picked in two namespaces are added,
 * Connected, and carry traffic through `hcm connect`. A key regenerated through the emulator's ARM
 * is fetched again by the agent itself after a restart. Sign out removes the tokens from disk.
 */

const USER = 'alice@contoso.onmicrosoft.com';
const PASSWORD = 'Alice-Pa55word!';

let echo: TcpServer;
let emulator: EmulatorProcess;
let azure: EmulatorAzure;
let env: HcmEnv;
let host: UiHost;
let browser: Browser;
let page: Page;
let problems: string[];
const forwarders: Forwarder[] = [];

const row = (id: string) => page.locator(`[data-connection="${id}"]`);
const pick = (id: string) => page.locator(`[data-pick="${id}"]`);
const details = () => page.getByTestId('details');
const tokens = () => join(env.home, 'azure-tokens.json');

beforeAll(async () => {
  echo = await startEchoServer();
  const endpoint = `127.0.0.1:${echo.port}`;
  emulator = await startEmulator({
    config: {
      tenants: [{ name: 'Contoso', domain: 'contoso.onmicrosoft.com' }],
      users: [{ username: USER, password: PASSWORD, displayName: 'Alice Admin' }],
      subscriptions: [
        {
          name: 'Production',
          tenant: 'contoso.onmicrosoft.com',
          resourceGroups: [{ name: 'rg-relay', location: 'westeurope', namespaces: ['contoso'] }],
        },
        {
          name: 'Legacy',
          tenant: 'contoso.onmicrosoft.com',
          resourceGroups: [{ name: 'rg-legacy', location: 'northeurope', namespaces: ['fabrikam'] }],
        },
      ],
      webApps: [{ name: 'orders-web', hybridConnections: ['orders'] }],
      namespaces: [
        { name: 'contoso', region: 'westeurope', hybridConnections: [{ name: 'orders', endpoint }, { name: 'noendpoint' }] },
        { name: 'fabrikam', region: 'northeurope', hybridConnections: [{ name: 'billing', endpoint }] },
      ],
    },
  });
  azure = emulator.azure!;
  env = hcmEnv(emulator.ca, { HCM_AZURE_AUTHORITY: azure.authority, HCM_AZURE_ARM: azure.arm, HCM_NO_BROWSER: '1' });
  host = await startUiHost(env);
  browser = await launchChromium();
  // The emulator's pages are HTTPS with its own CA, which this browser profile does not know.
  ({ page, problems } = await openPage(browser, host.url, { ignoreHTTPSErrors: true }));
  await page.getByTestId('empty-state').waitFor();
  mkdirSync(SCREENSHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  for (const f of forwarders) await f.stop();
  await host?.stop();
  await emulator?.stop();
  await echo?.close();
});

describe('signing in (issue 13, item 1)', () => {
  it('opens the sign-in page in a new tab from the header, and the header shows the account when it is done', async () => {
    const open = page.getByTestId('azure-sign-in-open');
    expect(await open.innerText()).toBe('Sign in to Azure');
    await open.click();
    const dialog = page.getByRole('dialog', { name: 'Sign in to Azure' });
    await dialog.waitFor();
    // A custom cloud (the emulator's, from HCM_AZURE_AUTHORITY) is the one in use; the three public ones are offered.
    const clouds = await dialog.getByTestId('azure-cloud').locator('option').allInnerTexts();
    expect(clouds[0]).toMatch(/^custom cloud \(127\.0\.0\.1:\d+\)$/);
    expect(clouds.slice(1)).toEqual(['Azure (global)', 'Azure US Government', 'Azure operated by 21Vianet (China)']);
    expect(await dialog.getByTestId('azure-tenant').inputValue()).toBe('organizations');
    expect(await dialog.innerText()).toContain('azure-tokens.json');
    await screenshotBothThemes(page, 'azure-sign-in');

    const popup = page.waitForEvent('popup');
    await dialog.getByTestId('azure-sign-in-button').click();
    const tab = await popup;
    await tab.locator('#username').waitFor({ timeout: 20_000 });
    expect(new URL(tab.url()).origin).toBe(new URL(azure.authority).origin);
    expect(new URL(tab.url()).pathname).toMatch(/\/oauth2\/v2\.0\/authorize$/);
    // No way back from the sign-in page to this one.
    expect(await tab.evaluate(() => window.opener === null)).toBe(true);
    await tab.setViewportSize({ width: 1000, height: 700 });
    await tab.screenshot({ path: `${SCREENSHOTS}azure-sign-in-page.png` });

    // Meanwhile the dialog says what to do, with the page to open again.
    const pending = dialog.getByTestId('azure-pending');
    await pending.waitFor();
    expect(await pending.innerText()).toContain('Sign in on the page that opened in a new tab');
    expect(await dialog.getByTestId('sign-in-page-link').getAttribute('href')).toBe(tab.url());
    expect(await page.getByTestId('azure-sign-in-open').innerText()).toBe('Signing in to Azure…');
    await page.screenshot({ path: `${SCREENSHOTS}azure-signing-in.png` });

    await tab.locator('#username').fill(USER);
    await tab.locator('#password').fill(PASSWORD);
    await tab.getByRole('button', { name: 'Sign in' }).click();
    await tab.waitForLoadState();
    if ((await tab.title()) === 'Permissions requested') await tab.getByRole('button', { name: 'Accept' }).click();
    await until(
      async () => (await tab.locator('body').innerText()).includes('You are signed in to Hybrid Connection Manager'),
      'the tab to say signed in',
    );
    await tab.close();

    const account = page.getByTestId('azure-account');
    await account.waitFor({ timeout: 20_000 });
    await dialog.waitFor({ state: 'detached' });
    expect(await page.getByTestId('azure-account-name').innerText()).toBe(USER);
    expect(await account.getAttribute('aria-label')).toMatch(new RegExp(`^Azure account: ${USER}, custom cloud`));
    await page.locator('.fui-Toast').getByText(`Signed in to Azure as ${USER}`).waitFor();
    // The focus went from the dialog to the account's button, not to the page.
    await until(async () => page.evaluate(() => document.activeElement?.getAttribute('data-testid') === 'azure-account'), 'the focus');
    expect(existsSync(tokens())).toBe(true);
    expect(host.output()).toContain(`signed in to Azure as ${USER}`);
    await noToasts(page);
  });
});

describe('Add › Select with Azure (issue 13, item 2)', () => {
  it('lists every Hybrid Connection the account can see, with Region, Endpoint, listeners and the app; one without endpoint is off', async () => {
    await page.getByRole('button', { name: 'Add connection' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add a Hybrid Connection' });
    await dialog.waitFor();
    // Signed in: the Azure way is the one shown first.
    expect(await dialog.getByRole('tab', { name: 'Select with Azure' }).getAttribute('aria-selected')).toBe('true');
    await dialog.getByTestId('picker-table').waitFor({ timeout: 30_000 });
    const orders = pick('contoso/orders');
    const cells = await orders.locator('td').allInnerTexts();
    expect(cells[1]).toContain('orders');
    expect(cells[1]).toContain('Production / rg-relay');
    expect(cells.slice(2)).toEqual(['contoso', 'West Europe', `127.0.0.1:${echo.port}`, '0', 'orders-web']);
    const billing = await pick('fabrikam/billing').locator('td').allInnerTexts();
    expect(billing[1]).toContain('Legacy / rg-legacy');
    expect(billing.slice(2)).toEqual(['fabrikam', 'North Europe', `127.0.0.1:${echo.port}`, '0', '—']);

    const off = pick('contoso/noendpoint');
    expect(await off.getAttribute('data-disabled')).toBe('true');
    expect(await off.getByRole('checkbox').isDisabled()).toBe(true);
    expect(await off.getByTestId('pick-blocked').innerText()).toMatch(/^No endpoint configured/);
    await off.click({ force: true });
    expect(await dialog.getByTestId('picker-selected').innerText()).toBe('None selected');

    // Filtering narrows the rows by any column.
    await dialog.getByTestId('picker-filter').fill('north');
    await until(async () => (await dialog.locator('[data-pick]').count()) === 1, 'the filter');
    expect(await dialog.locator('[data-pick]').getAttribute('data-pick')).toBe('fabrikam/billing');
    await dialog.getByTestId('picker-filter').fill('');
    await until(async () => (await dialog.locator('[data-pick]').count()) === 3, 'all rows again');
  });

  it('adds two picked in two namespaces: their keys are fetched, both Connected', async () => {
    const dialog = page.getByRole('dialog', { name: 'Add a Hybrid Connection' });
    await pick('contoso/orders').getByRole('checkbox').check();
    await pick('fabrikam/billing').click();
    expect(await dialog.getByTestId('picker-selected').innerText()).toBe('2 selected');
    await screenshotBothThemes(page, 'azure-picker');
    const add = dialog.getByTestId('picker-add');
    expect(await add.innerText()).toBe('Add 2');
    await add.click();
    await dialog.waitFor({ state: 'detached', timeout: 30_000 });
    await page.locator('.fui-Toast').getByText('Added orders and billing').waitFor();
    for (const id of ['contoso/orders', 'fabrikam/billing'])
      await until(async () => (await row(id).locator('[data-status="Connected"]').count()) === 1, `${id} Connected`, 30_000);
    expect(host.output()).toContain('added from Azure');
    await noToasts(page);
  });

  it('carries traffic through hcm connect on both, and the counters move', async () => {
    for (const name of ['orders', 'billing']) forwarders.push(await startForwarder(env, emulator.hybridConnections[name]!.send));
    expect(await echoedBytes(forwarders[0]!.port, 3000)).toBe(3000);
    expect(await echoedBytes(forwarders[1]!.port, 5000)).toBe(5000);
    await until(async () => (await row('contoso/orders').getByTestId('traffic').innerText()).includes('2.9 KB'), 'the orders counters');
    await until(async () => (await row('fabrikam/billing').getByTestId('traffic').innerText()).includes('4.9 KB'), 'the billing counters');
  });

  it('offers the rows added already as off, "Already added"', async () => {
    await page.getByRole('button', { name: 'Add connection' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add a Hybrid Connection' });
    await dialog.getByTestId('picker-table').waitFor({ timeout: 30_000 });
    for (const id of ['contoso/orders', 'fabrikam/billing']) {
      expect(await pick(id).getAttribute('data-disabled')).toBe('true');
      expect(await pick(id).getByTestId('pick-blocked').innerText()).toBe('Already added');
    }
    // Listeners online now: this agent.
    expect((await pick('contoso/orders').locator('td').allInnerTexts())[5]).toBe('1');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
  });
});

describe('a key rotated in Azure (issue 13, item 4)', () => {
  it('is fetched again by the agent itself after a restart while signed in: Connected, and the log says so', async () => {
    await page.getByRole('button', { name: 'orders, show details' }).click();
    await details().waitFor();
    const portal = details().getByTestId('portal-link');
    await portal.waitFor();
    const href = (await portal.getAttribute('href'))!;
    const subscription = /\/subscriptions\/([^/]+)\/resourceGroups\/rg-relay\//.exec(href)?.[1];
    expect(subscription).toBeTruthy();
    const path = `/subscriptions/${subscription}/resourceGroups/rg-relay/providers/Microsoft.Relay/namespaces/contoso/hybridConnections/orders/authorizationRules/defaultListener/regenerateKeys?api-version=2021-11-01`;
    expect(await armAsAdmin(emulator, USER, PASSWORD, path, { keyType: 'PrimaryKey' })).toBe(200);
    await details().getByTestId('restart').click();
    await until(
      async () => host.output().includes('the key was rotated in Azure: fetched the new key of rule defaultListener'),
      'the key fetched again',
      30_000,
    );
    await until(
      async () => (await row('contoso/orders').locator('[data-status="Connected"]').count()) === 1,
      'Connected with the new key',
      30_000,
    );
    await page.keyboard.press('Escape');
    await details().waitFor({ state: 'detached' });
    // The new key carries traffic.
    expect(await echoedBytes(forwarders[0]!.port, 1000)).toBe(1000);
    await page.getByRole('tab', { name: 'Logs' }).click();
    await until(
      async () => (await page.getByTestId('log-lines').innerText()).includes('the key was rotated in Azure'),
      'the line in the Logs tab',
    );
    await page.getByRole('tab', { name: 'Connections' }).click();
  });
});

describe('the account and signing out (issue 13, item 1)', () => {
  it('shows who is signed in and where in the account menu; Sign out removes the tokens from disk', async () => {
    await noToasts(page);
    await page.getByTestId('azure-account').click();
    const facts = page.getByTestId('azure-account-facts');
    await facts.waitFor();
    const text = await facts.innerText();
    expect(text).toContain(`Alice Admin (${USER})`);
    expect(text).toMatch(/Cloud: custom cloud/);
    expect(text).toContain('azure-tokens.json');
    await screenshotBothThemes(page, 'azure-account-menu');
    await page.getByTestId('azure-sign-out').click();
    await page.locator('.fui-Toast').getByText('Signed out of Azure').waitFor();
    await page.getByTestId('azure-sign-in-open').waitFor();
    expect(existsSync(tokens())).toBe(false);
    expect(host.output()).toContain(`signed out of Azure (${USER}); the tokens were removed from this machine`);
    // Signed out, Add opens on the connection string; the Azure way starts with signing in.
    await page.getByRole('button', { name: 'Add connection' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add a Hybrid Connection' });
    await dialog.getByTestId('connection-string').waitFor();
    await dialog.getByRole('tab', { name: 'Select with Azure' }).click();
    await dialog.getByTestId('azure-sign-in').waitFor();
    expect(await dialog.getByTestId('azure-sign-in').innerText()).toContain('Sign in to Azure to pick Hybrid Connections');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
  });

  it('showed no errors in the console, and no token in the page or the output', async () => {
    expect(problems).toEqual([]);
    expect(await page.content()).not.toMatch(/eyJ[A-Za-z0-9_-]{20,}/);
    expect(host.output()).not.toMatch(/eyJ[A-Za-z0-9_-]{20,}/);
  });
});
