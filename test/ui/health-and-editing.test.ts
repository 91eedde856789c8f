import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AzureOrigin } from '../../src/shared/api.js';
import { waitFor } from '../helpers/emulator.js';
import { isOff, launchChromium, openPage, screenshotBothThemes, letToastsClear } from './helpers/browser.js';
import { type FakeHost, connection, startFakeHost } from './helpers/fake-host.js';

/**
 * Issue 12, items 6, 8 and 10 with exact statuses: the real browser host in front of a scripted
 * service. Health in the table (a warning mark on Connected rows whose apps' connections failed
 * lately, with the last error and when; the reason a connection is down in full; "Retrying in N s"
 * and "Retry now"; listeners unknown while disconnected), editing in place (Edit endpoint… for a
 * hand-set endpoint, none for a metadata one, View in Azure portal), and the agent's log level
 * changed at run time ("Open log folder" only in the desktop app). The same with a real agent and
 * relay emulator: health-and-editing-real.test.ts.
 */

const MINUTE = 60_000;
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
const later = (ms: number) => new Date(Date.now() + ms).toISOString();

const REFUSED = 'connection not bridged: cannot connect to orders.internal:5432: connect ECONNREFUSED 10.0.0.5:5432';
// What a relay says when it drops a channel: long runs without spaces, which used to be cut with "…".
const DOWN_REASON =
  'control channel lost: the relay closed the connection (1011: Internal server error. TrackingId:0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6_G14,' +
  'SystemTracker:contoso.servicebus.windows.net:inventory,Timestamp:2026-01-05T14:03:22)';
const UNAUTHORIZED = 'the relay refused the key (401: InvalidSignature: The token has an invalid signature.)';
const PORTAL =
  'https://portal.azure.com/#@contoso.onmicrosoft.com/resource/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-apps/providers/Microsoft.Relay/namespaces/contoso/hybridConnections/reports/overview';
const AZURE: AzureOrigin = {
  cloud: 'public',
  tenantId: '00000000-0000-0000-0000-0000000000aa',
  subscriptionId: '00000000-0000-0000-0000-000000000001',
  resourceGroup: 'rg-apps',
  namespace: 'contoso',
  hybridConnection: 'reports',
  rule: 'defaultListener',
  ruleScope: 'hybridConnection',
  portalUrl: PORTAL,
};

const counters = (total: number, failed: number) => ({
  activeConnections: 0,
  totalConnections: total,
  failedConnections: failed,
  bytesToEndpoint: 4096,
  bytesFromEndpoint: 8192,
  lastConnectionAt: ago(2 * MINUTE),
});

let host: FakeHost;
let browser: Browser;
let page: Page;
let problems: string[];

const row = (name: string) => page.locator(`[data-connection="contoso/${name}"]`);
const details = () => page.getByTestId('details');
const calls = (method: string) => host.calls.filter((c) => c.method === method).map((c) => c.args);

async function openDetails(name: string): Promise<void> {
  await page.getByRole('button', { name: `${name}, show details` }).click();
  await details().waitFor();
  await waitFor(async () => !(await details().getByTestId('essentials').innerText()).includes('…'), 5000, 'the details');
}

async function closeDetails(): Promise<void> {
  await page.keyboard.press('Escape');
  await details().waitFor({ state: 'detached' });
}

beforeAll(async () => {
  host = await startFakeHost([
    // Up for an hour; three of ten connections could not reach the endpoint, the last two minutes ago.
    connection('orders', 'Connected', {
      statusSince: ago(60 * MINUTE),
      lastError: { message: REFUSED, at: ago(2 * MINUTE) },
      counters: counters(10, 3),
    }),
    // Its last error is from the outage before it connected again: history, not a warning.
    connection('billing', 'Connected', {
      statusSince: ago(5 * MINUTE),
      lastError: { message: 'control channel lost: network down', at: ago(6 * MINUTE) },
      counters: counters(4, 0),
    }),
    connection('inventory', 'NotConnected', { lastError: { message: DOWN_REASON, at: ago(MINUTE / 2) }, retryAt: later(42_000) }),
    connection('payroll', 'Unauthorized', { lastError: { message: UNAUTHORIZED, at: ago(MINUTE) }, retryAt: later(5 * MINUTE + 4000) }),
    connection('legacy', 'Connected', { endpoint: 'db.internal:5432', extra: { endpointSource: 'manual' } }),
    connection('reports', 'Connected', { extra: { azure: AZURE } }),
  ]);
  host.log('agent started');
  browser = await launchChromium();
  ({ page, problems } = await openPage(browser, host.url));
  await row('orders').waitFor();
});

afterAll(async () => {
  await browser?.close();
  await host?.stop();
});

describe('health in the table (item 6)', () => {
  it('marks the Connected row whose apps’ connections failed lately, and only that one', async () => {
    const marks = page.locator('[data-testid="failure-mark"]');
    expect(await marks.count()).toBe(1);
    const mark = row('orders').getByTestId('failure-mark');
    expect(await mark.getByTestId('failure-count').innerText()).toBe('3 failed');
    expect(await row('orders').locator('[data-status="Connected"]').count()).toBe(1);
    // The reason goes with the mark for screen readers, not only in the tooltip.
    expect(await mark.textContent()).toContain(REFUSED);
    expect(await row('billing').getByTestId('failure-mark').count()).toBe(0);
  });

  it('says the last error and when in the tooltip, by mouse and by keyboard', async () => {
    const mark = row('orders').getByTestId('failure-mark');
    await mark.hover();
    const tip = page.getByTestId('failure-tip');
    await tip.waitFor();
    const text = await tip.innerText();
    expect(text).toContain('3 of 10 connections not bridged.');
    expect(text).toContain(REFUSED);
    expect(text).toMatch(/Last at \w{3} \d+, \d{4}, \d{1,2}:\d{2}:\d{2}/);
    expect(text).toContain('2 minutes ago');
    await page.mouse.move(0, 0);
    await tip.waitFor({ state: 'detached' });
    await mark.focus();
    await tip.waitFor();
    await page.keyboard.press('Escape');
    await tip.waitFor({ state: 'detached' });
  });

  it('shows why a connection is down in full, wrapped in its cell, never cut', async () => {
    const reason = row('inventory').getByTestId('status-error');
    expect(await reason.innerText()).toBe(DOWN_REASON);
    const fit = await reason.evaluate((el) => {
      const style = getComputedStyle(el);
      const line = parseFloat(style.lineHeight) || 16;
      return {
        cut: el.scrollWidth > el.clientWidth + 1 || style.textOverflow === 'ellipsis' || style.whiteSpace === 'nowrap',
        lines: Math.round(el.getBoundingClientRect().height / line),
        inCell: el.getBoundingClientRect().right <= el.closest('td')!.getBoundingClientRect().right + 1,
      };
    });
    expect(fit.cut).toBe(false);
    expect(fit.lines).toBeGreaterThan(1);
    expect(fit.inCell).toBe(true);
    expect(await row('payroll').getByTestId('status-error').innerText()).toBe(UNAUTHORIZED);
  });

  it('counts down to the next try: "Retrying in N s", in minutes when it is far', async () => {
    // The next try from now: the page was opened a while ago on a slow machine.
    host.update('contoso/inventory', { retryAt: later(42_000) });
    const countdown = row('inventory').getByTestId('retry-in');
    await waitFor(async () => Number(await countdown.getAttribute('data-seconds')) >= 35, 5000, 'the new next try');
    const first = Number(await countdown.getAttribute('data-seconds'));
    expect(first).toBeGreaterThanOrEqual(35);
    expect(first).toBeLessThanOrEqual(43); // by the host's clock, as the page estimates it
    expect(await countdown.innerText()).toBe(`Retrying in ${first} s`);
    await waitFor(async () => Number(await countdown.getAttribute('data-seconds')) <= first - 2, 5000, 'the countdown to move');
    expect(await row('payroll').getByTestId('retry-in').innerText()).toMatch(/^Retrying in [45] min( \d+ s)?$/);
    // Connected rows have nothing to retry.
    expect(await row('orders').getByTestId('retry-line').count()).toBe(0);
  });

  it('"Retry now" tries at once (a restart of that connection) without opening the details', async () => {
    host.calls.length = 0;
    await row('inventory').getByRole('button', { name: 'Retry inventory now' }).click();
    await waitFor(async () => (await row('inventory').getByTestId('retry-in').innerText()) === 'Retrying now…', 5000, 'Retrying now…');
    expect(calls('restartConnection')).toEqual([['contoso/inventory']]);
    expect(await details().count()).toBe(0);
    // The agent tried, failed again and set the next try: the countdown is back.
    host.update('contoso/inventory', { retryAt: later(9000), lastError: { message: DOWN_REASON, at: new Date().toISOString() } });
    await waitFor(
      async () => /^Retrying in \d s$/.test(await row('inventory').getByTestId('retry-in').innerText()),
      5000,
      'a new countdown',
    );
  });

  it('shows the mark, the reason and the countdown in the card layout too (800×600)', async () => {
    host.update('contoso/inventory', { retryAt: later(60_000) });
    const { page: small } = await openPage(browser, host.url, { viewport: { width: 800, height: 600 } });
    try {
      await small.getByTestId('connections-cards').waitFor();
      const card = (name: string) => small.locator(`[data-connection="contoso/${name}"]`);
      expect(await card('orders').getByTestId('failure-count').innerText()).toBe('3 failed');
      expect(await card('inventory').getByTestId('status-error').innerText()).toBe(DOWN_REASON);
      expect(await card('inventory').getByTestId('retry-in').innerText()).toMatch(/^Retrying in \d+ s$/);
      expect(await card('inventory').getByRole('button', { name: 'Retry inventory now' }).isVisible()).toBe(true);
      expect(await small.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth)).toBe(true);
    } finally {
      await small.context().close();
    }
  });

  it('takes the screenshot of the health marks, with the tooltip open', async () => {
    await letToastsClear(page);
    await row('orders').getByTestId('failure-mark').hover();
    await page.getByTestId('failure-tip').waitFor();
    await screenshotBothThemes(page, 'connections-health');
    await page.mouse.move(0, 0);
  });
});

describe('health in the details (item 6)', () => {
  it('says when a down connection tries again, with Retry now, and shows its listeners as unknown', async () => {
    host.update('contoso/inventory', { retryAt: later(50_000) });
    await openDetails('inventory');
    const essentials = await details().getByTestId('essentials').innerText();
    expect(essentials).toContain('Listeners online\nunknown while not connected');
    expect(await details().getByTestId('retry-in').innerText()).toMatch(/^Retrying in \d+ s$/);
    expect(await details().getByTestId('last-error').innerText()).toContain(DOWN_REASON);
    host.calls.length = 0;
    await details().getByRole('button', { name: 'Retry now' }).click();
    await waitFor(async () => calls('restartConnection').length === 1, 5000, 'the retry');
    expect(calls('restartConnection')).toEqual([['contoso/inventory']]);
    await closeDetails();
  });

  it('counts listeners while connected, and explains the endpoint failures of a Connected connection', async () => {
    await openDetails('orders');
    expect(await details().getByTestId('essentials').innerText()).toContain('Listeners online\n1 (all agents on this Hybrid Connection)');
    const failures = await details().getByTestId('endpoint-failures').innerText();
    expect(failures).toContain('3 of 10 connections through the relay could not be bridged to orders.internal:5432');
    expect(failures).toContain(REFUSED);
    expect(failures).toContain('2 minutes ago');
    await closeDetails();
    await openDetails('billing');
    expect(await details().getByTestId('endpoint-failures').count()).toBe(0);
    await closeDetails();
  });
});

describe('editing in place (item 8)', () => {
  it('offers Edit endpoint… only for an endpoint set by hand, and says where a metadata endpoint is changed', async () => {
    await openDetails('orders');
    expect(await details().getByTestId('endpoint-source').innerText()).toBe("(from the Hybrid Connection's metadata: change it in Azure)");
    expect(await details().getByRole('button', { name: 'Edit endpoint…' }).count()).toBe(0);
    expect(await details().getByRole('button', { name: 'Replace connection string…' }).isVisible()).toBe(true);
    await closeDetails();
    await openDetails('legacy');
    expect(await details().getByTestId('endpoint-source').innerText()).toBe('(set by hand)');
    expect(await details().getByRole('button', { name: 'Edit endpoint…' }).isVisible()).toBe(true);
  });

  it('checks the new endpoint as typed and saves it with setEndpoint', async () => {
    host.calls.length = 0;
    await details().getByRole('button', { name: 'Edit endpoint…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Edit the endpoint of legacy' });
    await dialog.waitFor();
    const input = dialog.getByTestId('endpoint');
    expect(await input.inputValue()).toBe('db.internal:5432');
    const save = dialog.getByRole('button', { name: 'Save' });
    expect(await isOff(save)).toBe(true);
    await input.fill('db2.internal');
    await waitFor(async () => (await dialog.innerText()).includes('Add the port after a colon'), 5000, 'the endpoint problem');
    expect(await isOff(save)).toBe(true);
    await input.fill('db2.internal:5433');
    await waitFor(async () => !(await isOff(save)), 5000, 'Save to turn on');
    await input.press('Enter');
    await dialog.waitFor({ state: 'detached' });
    expect(calls('setEndpoint')).toEqual([['contoso/legacy', 'db2.internal:5433']]);
    await page.locator('.fui-Toast').getByText('Endpoint of legacy changed').waitFor();
    await waitFor(async () => (await row('legacy').locator('td').nth(3).innerText()) === 'db2.internal:5433', 5000, 'the new endpoint');
    // The drawer stayed open on the same connection.
    expect(await details().getByRole('heading', { name: 'legacy' }).isVisible()).toBe(true);
  });

  it('keeps the dialog open with the reason when the host refuses', async () => {
    host.script('setEndpoint', async () => {
      throw new Error('the endpoint of contoso/legacy comes from the metadata now');
    });
    await details().getByRole('button', { name: 'Edit endpoint…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Edit the endpoint of legacy' });
    await dialog.getByTestId('endpoint').fill('db3.internal:5433');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.getByRole('alert').waitFor();
    expect(await dialog.getByRole('alert').innerText()).toContain('The endpoint of contoso/legacy comes from the metadata now');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    await closeDetails();
  });

  it('links a connection added through Azure to the portal, in a new tab', async () => {
    await openDetails('reports');
    const link = details().getByTestId('portal-link');
    expect(await link.innerText()).toContain('View in Azure portal');
    expect(await link.getAttribute('href')).toBe(PORTAL);
    expect(await link.getAttribute('target')).toBe('_blank');
    expect(await link.getAttribute('rel')).toContain('noopener');
    expect(await details().getByTestId('essentials').innerText()).toContain('In Azure\nrg-apps / contoso / reports (rule defaultListener)');
    await page
      .context()
      .route('https://portal.azure.com/**', (route) => route.fulfill({ contentType: 'text/html', body: '<p>portal</p>' }));
    const [popup] = await Promise.all([page.waitForEvent('popup'), link.click()]);
    expect(popup.url()).toBe(PORTAL);
    await popup.close();
    await closeDetails();
    // Not added through Azure: no link.
    await openDetails('billing');
    expect(await details().getByTestId('portal-link').count()).toBe(0);
    await closeDetails();
  });
});

describe("the agent's log level (item 10)", () => {
  it('shows what the agent records and changes it at run time; the view follows down to debug', async () => {
    host.calls.length = 0;
    await page.getByRole('tab', { name: 'Logs' }).click();
    const level = page.getByTestId('agent-log-level');
    await level.waitFor();
    expect(await level.innerText()).toBe('Info: connections and tunnels');
    // The browser host has no folder to open for you.
    expect(await page.getByTestId('open-log-folder').count()).toBe(0);
    await level.click();
    await page.getByRole('option', { name: 'Debug: everything' }).click();
    await waitFor(async () => host.logLevel() === 'debug', 5000, 'the agent at debug');
    expect(calls('setLogLevel')).toEqual([['debug']]);
    await waitFor(async () => (await level.innerText()) === 'Debug: everything', 5000, 'the new level shown');
    expect(await page.getByTestId('log-level').innerText()).toBe('Everything (debug and up)');
    await waitFor(async () => (await page.getByTestId('log-lines').innerText()).includes('log level set to debug'), 5000, 'the debug line');
  });

  it('keeps the level as it was when the host refuses, and says why', async () => {
    host.script('setLogLevel', async () => {
      throw new Error('the agent is shutting down');
    });
    const level = page.getByTestId('agent-log-level');
    await level.click();
    await page.getByRole('option', { name: 'Errors only' }).click();
    await page.locator('.fui-Toast').getByText('Could not change the log level').waitFor();
    expect(await page.locator('.fui-Toast').last().innerText()).toContain('The agent is shutting down');
    expect(await level.innerText()).toBe('Debug: everything');
    expect(host.logLevel()).toBe('debug');
  });

  it('offers "Open log folder" in the desktop app only, and opens it there', async () => {
    const desktop = await startFakeHost([connection('orders')], { appInfo: { host: 'electron' } });
    const { page: app } = await openPage(browser, desktop.url);
    try {
      await app.getByRole('tab', { name: 'Logs' }).click();
      const open = app.getByTestId('open-log-folder');
      await open.waitFor();
      await open.click();
      await waitFor(() => desktop.calls.some((c) => c.method === 'openLogFolder'), 5000, 'openLogFolder');
    } finally {
      await app.context().close();
      await desktop.stop();
    }
  });

  it('showed no errors in the console', () => {
    expect(problems).toEqual([]);
  });
});
