import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AzureSelection, AzureState } from '../../src/shared/api.js';
import { waitFor } from '../helpers/emulator.js';
import { SCREENSHOTS, launchChromium, openPage } from './helpers/browser.js';
import { type FakeHost, SIGNED_OUT, connection, startFakeHost } from './helpers/fake-host.js';
import { aPickerItem } from '../helpers/picker-items.js';

/**
 * "Select with Azure" where the exact answers matter, with a scripted host behind the real browser
 * host (the whole path against the emulator: azure.test.ts): the listing's progress as the host
 * reports it, parts of Azure that could not be read, a Hybrid Connection that cannot be picked and
 * why, some added and some refused (one line each, the dialog stays), a sign-in by device code,
 * a sign-in that ends in an error, the picker as cards in a small window, and a 401 on a connection
 * added through Azure shown in the agent's words.
 */

const USER = 'rita@contoso.com';
const SIGNED_IN: AzureState = {
  ...SIGNED_OUT,
  account: { username: USER, name: 'Rita Reader', tenantId: '00000000-0000-0000-0000-0000000000aa' },
};

const ITEMS = [
  aPickerItem('contoso', 'orders', { apps: ['orders-web', 'orders-api'], listenerCount: 2 }),
  aPickerItem('contoso', 'reports'),
  aPickerItem('contoso', 'legacy', { endpoint: null, disabledReason: 'No endpoint configured (the user metadata has no "endpoint")' }),
  aPickerItem('fabrikam', 'billing', { region: 'North Europe', listenerCount: null }),
];
const PROBLEM = 'Subscription "Old" (sub-9): not allowed to list Relay namespaces (AuthorizationFailed)';

let host: FakeHost;
let browser: Browser;
let page: Page;
let problems: string[];
let azureState: AzureState = SIGNED_IN;
let releaseListing: () => void = () => undefined;

const dialog = () => page.getByRole('dialog', { name: 'Add a Hybrid Connection' });
const pick = (id: string) => page.locator(`[data-pick="${id}"]`);
const calls = (method: string) => host.calls.filter((c) => c.method === method).map((c) => c.args);

beforeAll(async () => {
  host = await startFakeHost([connection('inventory')]);
  host.script('getAzureState', async () => azureState);
  host.script('listAzureHybridConnections', async () => {
    host.emit('azureProgress', { stage: 'tenants', done: 0, total: 0 });
    host.emit('azureProgress', { stage: 'subscriptions', done: 1, total: 2 });
    await new Promise<void>((resolve) => (releaseListing = resolve));
    host.emit('azureProgress', { stage: 'done', done: 4, total: 4 });
    return { items: ITEMS, problems: [PROBLEM] };
  });
  host.script('addFromAzure', async (selections: AzureSelection[]) =>
    selections.map((selection) => {
      if (selection.name === 'billing')
        return { selection, ok: false, error: 'this account cannot list the keys of billing (AuthorizationFailed)' };
      host.setConnections([...host.connections(), connection(selection.name, 'Connecting', { namespace: selection.namespace })]);
      return { selection, ok: true, id: `${selection.namespace}/${selection.name}` };
    }),
  );
  browser = await launchChromium();
  ({ page, problems } = await openPage(browser, host.url));
  await page.getByTestId('azure-account').waitFor();
});

afterAll(async () => {
  await browser?.close();
  await host?.stop();
});

describe('the picker', () => {
  it('shows the progress the host reports while it lists', async () => {
    await page.getByRole('button', { name: 'Add connection' }).click();
    await dialog().waitFor();
    const progress = dialog().getByTestId('picker-progress');
    await progress.waitFor();
    await waitFor(async () => (await progress.innerText()).includes('Reading subscriptions: 1 of 2…'), 5000, 'the progress');
    expect(await progress.getByRole('progressbar').getAttribute('aria-valuenow')).toBe('0.5');
    releaseListing();
    await dialog().getByTestId('picker-table').waitFor();
    expect(await progress.count()).toBe(0);
  });

  it('lists what could not be read, and every row with its facts', async () => {
    expect(await dialog().getByTestId('picker-problems').innerText()).toContain(PROBLEM);
    expect(await pick('contoso/orders').locator('td').allInnerTexts()).toEqual([
      '',
      'orders\nProduction / rg-contoso',
      'contoso',
      'West Europe',
      'orders.internal:443',
      '2',
      'orders-web, orders-api',
    ]);
    expect((await pick('fabrikam/billing').locator('td').allInnerTexts())[5]).toBe('unknown');
    const legacy = pick('contoso/legacy');
    expect(await legacy.getByRole('checkbox').isDisabled()).toBe(true);
    expect(await legacy.getByTestId('pick-blocked').innerText()).toBe('No endpoint configured (the user metadata has no "endpoint")');
    // The reason is what a screen reader hears with the checkbox.
    expect(await legacy.getByRole('checkbox').getAttribute('aria-describedby')).toBe(
      await legacy.getByTestId('pick-blocked').getAttribute('id'),
    );
  });

  it('selects all that can be added with the header checkbox, and filters by app', async () => {
    await dialog().getByRole('checkbox', { name: 'Select all shown Hybrid Connections that can be added' }).check();
    expect(await dialog().getByTestId('picker-selected').innerText()).toBe('3 selected');
    await dialog().getByRole('checkbox', { name: 'Clear the selection' }).uncheck();
    expect(await dialog().getByTestId('picker-selected').innerText()).toBe('None selected');
    await dialog().getByTestId('picker-filter').fill('orders-api');
    await waitFor(async () => (await dialog().locator('[data-pick]').count()) === 1, 5000, 'the filter');
    await dialog().getByTestId('picker-filter').fill('nothing like it');
    await dialog().getByText('No Hybrid Connection matches').waitFor();
    await dialog().getByRole('button', { name: 'Clear the filter' }).click();
    await waitFor(async () => (await dialog().locator('[data-pick]').count()) === 4, 5000, 'every row');
  });

  it('adds what it can and says, per Hybrid Connection, what was refused; the dialog stays for another try', async () => {
    await pick('contoso/orders').getByRole('checkbox').check();
    await pick('fabrikam/billing').getByRole('checkbox').check();
    await dialog().getByTestId('picker-add').click();
    const results = dialog().getByTestId('picker-results');
    await results.waitFor();
    expect(calls('addFromAzure')).toEqual([
      [
        [
          { tenantId: ITEMS[0]!.tenantId, subscriptionId: 'sub-1', resourceGroup: 'rg-contoso', namespace: 'contoso', name: 'orders' },
          { tenantId: ITEMS[3]!.tenantId, subscriptionId: 'sub-1', resourceGroup: 'rg-fabrikam', namespace: 'fabrikam', name: 'billing' },
        ],
      ],
    ]);
    const text = await results.innerText();
    expect(text).toContain('1 of 2 added');
    expect(text).toContain('orders in contoso: added');
    expect(text).toContain('billing in fabrikam: this account cannot list the keys of billing (AuthorizationFailed)');
    // orders is here now: off, "Already added"; billing stays ticked.
    await waitFor(async () => (await pick('contoso/orders').getAttribute('data-disabled')) === 'true', 5000, 'orders off');
    expect(await pick('contoso/orders').getByTestId('pick-blocked').innerText()).toBe('Already added');
    expect(await dialog().getByTestId('picker-selected').innerText()).toBe('1 selected');
    await page.locator('[data-connection="contoso/orders"]').waitFor();
    await dialog().getByRole('button', { name: 'Close' }).click();
    await dialog().waitFor({ state: 'detached' });
  });

  it('shows cards in a small window, without sideways scrolling', async () => {
    await page.setViewportSize({ width: 800, height: 600 });
    await page.getByRole('button', { name: 'Add connection' }).click();
    await dialog().waitFor();
    releaseListing();
    await dialog().getByTestId('picker-cards').waitFor();
    const box = (await dialog().boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(800);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(800);
    expect(await pick('contoso/legacy').getByTestId('pick-blocked').isVisible()).toBe(true);
    await page.screenshot({ path: `${SCREENSHOTS}azure-picker-800x600.png` });
    await page.keyboard.press('Escape');
    await dialog().waitFor({ state: 'detached' });
    await page.setViewportSize({ width: 1280, height: 800 });
  });
});

describe('signing in by device code, and a sign-in that fails', () => {
  it('shows the code and the page to open; the account appears when it is entered', async () => {
    azureState = SIGNED_OUT;
    host.emit('azure', SIGNED_OUT);
    await page.getByTestId('azure-sign-in-open').waitFor();
    host.script('beginAzureSignIn', async () => {
      azureState = { ...SIGNED_OUT, signingIn: true };
      host.emit('azure', azureState);
      return {
        deviceCode: {
          userCode: 'KX7Q2PLM',
          verificationUri: 'https://microsoft.com/devicelogin',
          message: 'To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code KX7Q2PLM.',
        },
      };
    });
    await page.getByTestId('azure-sign-in-open').click();
    const signIn = page.getByRole('dialog', { name: 'Sign in to Azure' });
    await signIn.getByText('A code, on any device').click();
    await signIn.getByTestId('azure-tenant').fill('contoso.com');
    await signIn.getByTestId('azure-sign-in-button').click();
    await signIn.getByTestId('azure-device-code').waitFor();
    expect(calls('beginAzureSignIn')).toEqual([[{ method: 'device-code', tenant: 'contoso.com' }]]);
    expect(await signIn.getByTestId('azure-device-code').innerText()).toBe('KX7Q2PLM');
    expect(await signIn.getByTestId('sign-in-page-link').getAttribute('href')).toBe('https://microsoft.com/devicelogin');
    await page.screenshot({ path: `${SCREENSHOTS}azure-device-code.png` });
    azureState = SIGNED_IN;
    host.emit('azure', SIGNED_IN);
    await page.getByTestId('azure-account').waitFor();
    await signIn.waitFor({ state: 'detached' });
    await page.locator('.fui-Toast').getByText(`Signed in to Azure as ${USER}`).waitFor();
  });

  it('says why the last sign-in did not complete', async () => {
    azureState = { ...SIGNED_OUT, lastError: 'Azure sign-in failed (access_denied): the user declined' };
    host.emit('azure', azureState);
    await page.getByTestId('azure-sign-in-open').click();
    const signIn = page.getByRole('dialog', { name: 'Sign in to Azure' });
    expect(await signIn.getByTestId('azure-last-error').innerText()).toContain('Azure sign-in failed (access_denied): the user declined');
    host.script('beginAzureSignIn', async () => {
      throw Object.assign(new Error('a sign-in is already waiting for you; finish it or wait for it to time out'), { code: 'E_INVALID' });
    });
    await signIn.getByText('A code, on any device').click();
    await signIn.getByTestId('azure-sign-in-button').click();
    const error = signIn.getByTestId('azure-sign-in-error');
    await error.waitFor();
    expect(await error.innerText()).toContain('Not accepted');
    expect(await error.innerText()).toContain('A sign-in is already waiting for you');
    await page.keyboard.press('Escape');
    await signIn.waitFor({ state: 'detached' });
  });
});

describe('where the sign-in page opens', () => {
  const PAGE = 'https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize?client_id=x';

  async function signInWith(options: { appInfo?: { host: 'electron' }; blockPopups?: boolean }) {
    const other = await startFakeHost([], options.appInfo ? { appInfo: options.appInfo } : {});
    let state: AzureState = SIGNED_OUT;
    other.script('getAzureState', async () => state);
    other.script('beginAzureSignIn', async () => {
      state = { ...SIGNED_OUT, signingIn: true };
      other.emit('azure', state);
      return { url: PAGE };
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, reducedMotion: 'reduce' });
    if (options.blockPopups) await context.addInitScript(() => (window.open = () => null));
    const app = await context.newPage();
    const popups: string[] = [];
    context.on('page', (p) => popups.push(p.url()));
    await app.goto(other.url);
    return { other, app, context, popups, signIn: () => app.getByTestId('azure-sign-in-open').click() };
  }

  it('in the desktop app: no tab from the page; it says to continue in the browser, with a link', async () => {
    const { other, app, context, popups, signIn } = await signInWith({ appInfo: { host: 'electron' } });
    try {
      await signIn();
      expect(await app.getByRole('radio', { name: 'Your browser' }).isChecked()).toBe(true);
      await app.getByTestId('azure-sign-in-button').click();
      const pending = app.getByTestId('azure-pending');
      await pending.getByText('Continue in your browser').waitFor();
      expect(await app.getByTestId('sign-in-page-link').getAttribute('href')).toBe(PAGE);
      expect(await app.getByTestId('sign-in-page-link').getAttribute('target')).toBe('_blank');
      expect(popups).toEqual([]);
    } finally {
      await context.close();
      await other.stop();
    }
  });

  it('in a browser that blocks the new tab: it says so and offers the page as a link', async () => {
    const { other, app, context, signIn } = await signInWith({ blockPopups: true });
    try {
      await signIn();
      await app.getByTestId('azure-sign-in-button').click();
      const blocked = app.getByTestId('azure-popup-blocked');
      await blocked.waitFor();
      expect(await blocked.innerText()).toContain('The browser did not open a new tab');
      expect(await blocked.getByTestId('sign-in-page-link').getAttribute('href')).toBe(PAGE);
    } finally {
      await context.close();
      await other.stop();
    }
  });

  it('from Add › Select with Azure: the picker follows the sign-in', async () => {
    const { other, app, context } = await signInWith({});
    try {
      other.script('listAzureHybridConnections', async () => ({ items: ITEMS, problems: [] }));
      await app.getByRole('button', { name: 'Add connection' }).click();
      const add = app.getByRole('dialog', { name: 'Add a Hybrid Connection' });
      await add.getByRole('tab', { name: 'Select with Azure' }).click();
      const popup = app.waitForEvent('popup');
      await add.getByTestId('azure-sign-in-button').click();
      const tab = await popup;
      await add.getByTestId('azure-pending').waitFor();
      await tab.close();
      other.emit('azure', SIGNED_IN);
      await add.getByTestId('picker-table').waitFor();
      expect(await add.locator('[data-pick]').count()).toBe(4);
      await app.getByTestId('azure-account').waitFor();
    } finally {
      await context.close();
      await other.stop();
    }
  });
});

describe('a connection added through Azure whose key is refused', () => {
  it("shows the agent's words on the row and in the details", async () => {
    const hint =
      'the relay refused the key (401: InvalidSignature). Added from Azure: while you are signed in to Azure, HCM fetches a rotated key by itself; otherwise sign in (hcm login) or replace it (hcm set-key)';
    host.update('contoso/inventory', { status: 'Unauthorized', lastError: { message: hint, at: new Date().toISOString() } });
    const row = page.locator('[data-connection="contoso/inventory"]');
    await waitFor(
      async () =>
        (await row
          .getByTestId('status-error')
          .innerText()
          .catch(() => '')) === hint,
      5000,
      'the reason on the row',
    );
    await row.getByRole('button', { name: 'inventory, show details' }).click();
    const details = page.getByTestId('details');
    const banner = details.getByTestId('last-error');
    await banner.waitFor();
    expect(await banner.innerText()).toContain(hint);
    await page.keyboard.press('Escape');
    await details.waitFor({ state: 'detached' });
  });

  it('showed no errors in the console', () => {
    expect(problems).toEqual([]);
  });
});
