import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/emulator.js';
import { SCREENSHOTS, isOff, launchChromium, openPage } from './helpers/browser.js';
import { FAKE_HOSTNAME, type FakeHost, connection, startFakeHost } from './helpers/fake-host.js';

/**
 * Issue 12, items 7, 9 and 10: an admin with many connections on several servers. Sortable
 * columns, a filter box, row selection with a toolbar (Test, Restart, Remove, View logs for several
 * at once; Restart and Remove confirm when tunnels are open); the machine's name in the header and
 * the title; copy buttons; the Test result stamped with its time and kept; "Restarted ✓"; the
 * date in the log's time column and "View logs" filtered to a connection. The host is the real
 * browser host in front of a scripted service.
 */

const GATEWAYS = ['g12-prod-am3-003-sb.servicebus.windows.net', 'g7-prod-db5-010-sb.servicebus.windows.net'];
const counters = (active: number, kb: number) => ({
  activeConnections: active,
  totalConnections: active + 7,
  failedConnections: 0,
  bytesToEndpoint: kb * 1024,
  bytesFromEndpoint: kb * 2048,
  lastConnectionAt: new Date().toISOString(),
});

let host: FakeHost;
let browser: Browser;
let page: Page;
let problems: string[];

const rowIds = () => page.locator('[data-connection]').evaluateAll((els) => els.map((e) => e.getAttribute('data-connection')));
const names = async () => (await rowIds()).map((id) => id!.split('/')[1]);
const calls = (method: string) => host.calls.filter((c) => c.method === method).map((c) => c.args[0]);
const details = () => page.getByTestId('details');
const clipboard = () => page.evaluate(() => navigator.clipboard.readText());
const TIME = /\d{2}:\d{2}:\d{2}/;

async function tick(...ids: string[]): Promise<void> {
  for (const id of ids) await page.locator(`[data-connection="${id}"]`).getByRole('checkbox').check();
}

async function closeDetails(): Promise<void> {
  await page.keyboard.press('Escape');
  await details().waitFor({ state: 'detached' });
}

beforeAll(async () => {
  host = await startFakeHost([
    connection('orders', 'Connected', { counters: counters(3, 900), extra: { gatewayHosts: GATEWAYS } }),
    connection('billing', 'Connected', { counters: counters(0, 40) }),
    connection('inventory', 'Unauthorized', {
      lastError: { message: 'the relay refused the key (401: InvalidSignature)', at: new Date().toISOString() },
    }),
    connection('reports', 'Connecting', { namespace: 'fabrikam', endpoint: 'bi.fabrikam.local:1433' }),
    connection('archive', 'NotConnected', { namespace: 'fabrikam', endpoint: 'files.fabrikam.local:445', counters: counters(0, 5000) }),
  ]);
  for (const c of host.connections()) {
    host.log(`listening (listener id ${c.name}-1)`, 'info', c.id);
    host.log(`tunnel opened for ${c.name}`, 'info', c.id);
  }
  host.log('agent started');
  browser = await launchChromium();
  ({ page, problems } = await openPage(browser, host.url, { permissions: ['clipboard-read', 'clipboard-write'] }));
  await page.locator('[data-connection="contoso/orders"]').waitFor();
});

afterAll(async () => {
  await browser?.close();
  await host?.stop();
});

describe('where am I (item 9)', () => {
  it("shows the machine's name in the header and first in the tab title", async () => {
    expect(await page.getByTestId('hostname').innerText()).toBe(FAKE_HOSTNAME);
    await waitFor(async () => (await page.title()) === `${FAKE_HOSTNAME} · 2 of 5 connected — Hybrid Connection Manager`, 10_000, 'title');
  });
});

describe('many connections (item 7)', () => {
  it('sorts by any column, both ways, by mouse and keyboard, and says so to screen readers', async () => {
    expect(await names()).toEqual(['archive', 'billing', 'inventory', 'orders', 'reports']);
    const header = (name: string) => page.getByRole('columnheader', { name, exact: true });
    expect(await header('Name').getAttribute('aria-sort')).toBe('ascending');
    await header('Name').click();
    expect(await names()).toEqual(['reports', 'orders', 'inventory', 'billing', 'archive']);
    expect(await header('Name').getAttribute('aria-sort')).toBe('descending');
    await header('Status').click();
    expect(await names()).toEqual(['billing', 'orders', 'reports', 'archive', 'inventory']);
    expect(await header('Status').getAttribute('aria-sort')).toBe('ascending');
    expect(await header('Name').getAttribute('aria-sort')).toBe('none');
    await header('Status').click();
    expect(await names()).toEqual(['inventory', 'archive', 'reports', 'billing', 'orders']);
    await header('Traffic (to / from endpoint)').click();
    await header('Traffic (to / from endpoint)').click();
    expect((await names())[0]).toBe('archive');
    // Keyboard: the header is a button; Enter sorts.
    await header('Active connections').getByRole('button').focus();
    await page.keyboard.press('Enter');
    await page.keyboard.press('Enter');
    expect((await names())[0]).toBe('orders');
    await header('Name').getByRole('button').focus();
    await page.keyboard.press('Enter');
    expect(await names()).toEqual(['archive', 'billing', 'inventory', 'orders', 'reports']);
  });

  it('filters by name, namespace, endpoint or status as you type, and says how many are shown', async () => {
    const filter = page.getByRole('searchbox', { name: 'Filter connections' });
    await filter.fill('fabrikam');
    expect(await names()).toEqual(['archive', 'reports']);
    expect(await page.getByTestId('connections-count').innerText()).toContain('2 of 5 connections');
    await filter.fill('unauthorized');
    expect(await names()).toEqual(['inventory']);
    await filter.fill('1433');
    expect(await names()).toEqual(['reports']);
    await filter.fill('nothing like this');
    expect(await names()).toEqual([]);
    await page.getByRole('button', { name: 'Clear the filter' }).click();
    expect(await names()).toHaveLength(5);
    expect(await filter.inputValue()).toBe('');
  });

  it('tests several at once: one line each, failures with their reason', async () => {
    const toolbar = page.getByRole('toolbar', { name: 'Actions on the selected connections' });
    expect(await isOff(toolbar.getByRole('button', { name: 'Test' }))).toBe(true);
    await tick('contoso/orders', 'contoso/billing', 'contoso/inventory');
    expect(await page.getByTestId('selection-count').innerText()).toBe('3 selected');
    await toolbar.getByRole('button', { name: 'Test' }).click();
    const banner = page.getByTestId('bulk-test');
    await banner.waitFor();
    const shown = await banner.innerText();
    expect(shown).toMatch(new RegExp(`Tested 3 at ${TIME.source}: 2 passed, 1 failed`));
    expect(shown).toContain('inventory: failed (Endpoint TCP: connection refused)');
    expect(shown).toContain('orders: passed');
    expect(calls('testConnection').sort()).toEqual(['contoso/billing', 'contoso/inventory', 'contoso/orders']);
    await page
      .locator('.fui-Toast')
      .waitFor({ state: 'detached' })
      .catch(() => undefined);
    await page.screenshot({ path: `${SCREENSHOTS}connections-selection.png` });
  });

  it('asks before restarting when tunnels are open, saying how many will be closed', async () => {
    const toolbar = page.getByRole('toolbar', { name: 'Actions on the selected connections' });
    await toolbar.getByRole('button', { name: 'Restart' }).click();
    const confirm = page.getByRole('alertdialog', { name: 'Restart 3 connections?' });
    await confirm.waitFor();
    expect(await confirm.getByTestId('open-tunnels').innerText()).toBe('3 open connections will be closed.');
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'detached' });
    expect(calls('restartConnection')).toEqual([]);
    await toolbar.getByRole('button', { name: 'Restart' }).click();
    await page.getByTestId('confirm-restart').click();
    await page.locator('.fui-Toast').getByText('Restarted 3 connections ✓').waitFor();
    expect(calls('restartConnection').sort()).toEqual(['contoso/billing', 'contoso/inventory', 'contoso/orders']);
  });

  it('restarts without asking when no tunnel is open', async () => {
    const toolbar = page.getByRole('toolbar', { name: 'Actions on the selected connections' });
    await toolbar.getByRole('button', { name: 'Clear selection' }).click();
    expect(await page.getByTestId('selection-count').innerText()).toBe('None selected');
    await tick('contoso/billing');
    host.calls.length = 0;
    await toolbar.getByRole('button', { name: 'Restart' }).click();
    await page.locator('.fui-Toast').getByText('Restarted billing ✓').waitFor();
    expect(await page.getByRole('alertdialog').count()).toBe(0);
    expect(calls('restartConnection')).toEqual(['contoso/billing']);
  });

  it('shows the logs of the selected connections only', async () => {
    await tick('contoso/orders');
    await page.getByRole('toolbar', { name: 'Actions on the selected connections' }).getByRole('button', { name: 'View logs' }).click();
    const lines = page.getByTestId('log-lines');
    await lines.waitFor();
    expect(await page.getByRole('tab', { name: 'Logs' }).getAttribute('aria-selected')).toBe('true');
    expect(await page.getByTestId('log-connections').innerText()).toContain('billing, orders');
    const texts = await lines.locator('li').allInnerTexts();
    expect(texts.length).toBeGreaterThanOrEqual(4);
    expect(texts.every((t) => t.includes('[contoso/orders]') || t.includes('[contoso/billing]'))).toBe(true);
    await page.getByRole('tab', { name: 'Connections' }).click();
    // The selection is still there when coming back.
    expect(await page.getByTestId('selection-count').innerText()).toBe('2 selected');
  });

  it('selects all shown rows from the header, and clears them', async () => {
    await page.getByRole('searchbox', { name: 'Filter connections' }).fill('fabrikam');
    await page.getByRole('checkbox', { name: 'Select all shown connections' }).check();
    // Only what is shown counts: the two ticked contoso rows are filtered out.
    expect(await page.getByTestId('selection-count').innerText()).toBe('2 selected');
    await page.getByRole('checkbox', { name: 'Clear the selection' }).uncheck();
    expect(await page.getByTestId('selection-count').innerText()).toBe('None selected');
    await page.getByRole('searchbox', { name: 'Filter connections' }).fill('');
  });

  it('removes several after one confirmation that lists them and the tunnels it closes', async () => {
    await page
      .getByRole('toolbar', { name: 'Actions on the selected connections' })
      .getByRole('button', { name: 'Clear selection' })
      .click();
    await tick('fabrikam/reports', 'fabrikam/archive', 'contoso/orders');
    await page.getByRole('toolbar', { name: 'Actions on the selected connections' }).getByRole('button', { name: 'Remove' }).click();
    const confirm = page.getByRole('alertdialog', { name: 'Remove 3 connections?' });
    await confirm.waitFor();
    const said = await confirm.innerText();
    expect(said).toContain('3 open connections will be closed.');
    for (const name of ['reports', 'archive', 'orders']) expect(said).toContain(name);
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('[data-connection="contoso/orders"]').getByRole('checkbox').uncheck();
    await page.getByRole('toolbar', { name: 'Actions on the selected connections' }).getByRole('button', { name: 'Remove' }).click();
    const two = page.getByRole('alertdialog', { name: 'Remove 2 connections?' });
    await two.waitFor();
    expect(await two.getByTestId('open-tunnels').count()).toBe(0);
    await page.getByTestId('confirm-remove').click();
    await two.waitFor({ state: 'detached' });
    await waitFor(async () => (await names()).length === 3, 5000, 'the rows to go');
    expect(await names()).toEqual(['billing', 'inventory', 'orders']);
    expect(calls('removeConnection').sort()).toEqual(['fabrikam/archive', 'fabrikam/reports']);
    expect(await page.getByTestId('selection-count').innerText()).toBe('None selected');
  });
});

describe('the details (item 9)', () => {
  it('copies the endpoint, the Service Bus address and each gateway host', async () => {
    await page.getByRole('button', { name: 'orders, show details' }).click();
    await details().waitFor();
    await details().getByRole('button', { name: 'Copy endpoint' }).click();
    await waitFor(async () => (await clipboard()) === 'orders.internal:5432', 5000, 'the endpoint in the clipboard');
    await details().getByRole('button', { name: 'Copy Service Bus address' }).click();
    await waitFor(async () => (await clipboard()) === 'sb://contoso.servicebus.windows.net/', 5000, 'the address in the clipboard');
    const essentials = await details().getByTestId('essentials').innerText();
    expect(essentials).toContain(`Gateway hosts\n${GATEWAYS[0]}\n${GATEWAYS[1]}`);
    await details()
      .getByRole('button', { name: `Copy gateway host ${GATEWAYS[1]}` })
      .click();
    await waitFor(async () => (await clipboard()) === GATEWAYS[1], 5000, 'the gateway in the clipboard');
  });

  it('stamps the Test result with its time and keeps it when the details are opened again', async () => {
    await details().getByRole('button', { name: 'Test', exact: true }).click();
    const title = details().getByTestId('test-title');
    await title.waitFor();
    const stamped = await title.innerText();
    expect(stamped).toMatch(new RegExp(`^Test passed at ${TIME.source}$`));
    await closeDetails();
    await page.getByRole('button', { name: 'orders, show details' }).click();
    await details().waitFor();
    expect(await details().getByTestId('test-title').innerText()).toBe(stamped);
    expect(await details().getByTestId('test-result').isVisible()).toBe(true);
  });

  it('asks before a restart that closes tunnels, then says "Restarted ✓"', async () => {
    host.calls.length = 0;
    await details().getByTestId('restart').click();
    const confirm = page.getByRole('alertdialog', { name: 'Restart orders?' });
    await confirm.waitFor();
    expect(await confirm.getByTestId('open-tunnels').innerText()).toBe('3 open connections will be closed.');
    await page.getByTestId('confirm-restart').click();
    await confirm.waitFor({ state: 'detached' });
    await details().getByRole('button', { name: 'Restarted ✓' }).waitFor();
    expect(calls('restartConnection')).toEqual(['contoso/orders']);
    await page.screenshot({ path: `${SCREENSHOTS}details-test-kept.png` });
    await closeDetails();
  });

  it('restarts at once when nothing is open through the connection', async () => {
    await page.getByRole('button', { name: 'billing, show details' }).click();
    await details().getByTestId('restart').click();
    await details().getByRole('button', { name: 'Restarted ✓' }).waitFor();
    expect(await page.getByRole('alertdialog').count()).toBe(0);
  });
});

describe('logs (item 10)', () => {
  it('"View logs" in the details opens the Logs filtered to that connection, with the date in the time column', async () => {
    await details().getByRole('button', { name: 'View logs' }).click();
    const lines = page.getByTestId('log-lines');
    await lines.waitFor();
    await details().waitFor({ state: 'detached' });
    expect(await page.getByTestId('log-connections').innerText()).toBe('billing');
    const texts = await lines.locator('li').allInnerTexts();
    expect(texts.length).toBeGreaterThanOrEqual(2);
    expect(texts.every((t) => t.includes('[contoso/billing]'))).toBe(true);
    const times = await lines.locator('time').allInnerTexts();
    const today = new Date();
    const date = `${today.getFullYear()}-${String(today.getMonth() + 1).padStart(2, '0')}-${String(today.getDate()).padStart(2, '0')}`;
    for (const t of times) expect(t).toMatch(new RegExp(`^${date} ${TIME.source}$`));
    // Back to every line.
    await page.getByTestId('log-connections').click();
    await page.getByRole('menuitemcheckbox', { name: 'All connections' }).click();
    await page.keyboard.press('Escape');
    await waitFor(async () => (await lines.locator('li').allInnerTexts()).some((t) => t.includes('agent started')), 5000, 'all lines');
    await page.getByRole('tab', { name: 'Connections' }).click();
  });

  it('logged no errors', () => {
    expect(problems).toEqual([]);
  });
});

describe('many connections at 200% zoom (cards)', () => {
  it('sorts from a list and selects cards', async () => {
    const { page: zoomed } = await openPage(browser, host.url, { viewport: { width: 640, height: 400 }, deviceScaleFactor: 2 });
    await zoomed.getByTestId('connections-cards').waitFor();
    await zoomed.getByRole('combobox', { name: 'Sort by' }).selectOption({ label: 'Status, problems first' });
    const order = await zoomed.locator('[data-connection]').evaluateAll((els) => els.map((e) => e.getAttribute('data-connection')));
    expect(order).toEqual(['contoso/inventory', 'contoso/billing', 'contoso/orders']);
    await zoomed.getByRole('checkbox', { name: 'Select inventory' }).check();
    expect(await zoomed.getByTestId('selection-count').innerText()).toBe('1 selected');
    expect(await zoomed.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth)).toBe(true);
    await zoomed.screenshot({ path: `${SCREENSHOTS}zoom-200-selection.png` });
    await zoomed.context().close();
  });
});
