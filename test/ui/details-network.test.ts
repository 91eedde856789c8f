import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayInfo, TestResult, TunnelInfo, TunnelList } from '../../src/shared/api.js';
import { launchChromium, openPage, screenshotBothThemes, until } from './helpers/browser.js';
import { type FakeHost, connection, startFakeHost } from './helpers/fake-host.js';

/**
 * Issue 15, items 3 and 4 (the UI) and the inspector's edges (issue 16, item 4), with exact
 * values from a scripted host: the relay's clock off by more than a minute is a warning banner in
 * the details (and the Clock fact says by how much); a test step that passed with a warning reads
 * as a warning, not "passed", and so does the test; each gateway host keeps its copy button and
 * says what it was used for and when last. The open connections: none (the empty state), more
 * than are shown (the total), a `tunnels` event moving the bytes, and Close answered true or false.
 * The same inspector against a real agent and relay: connection-inspector.test.ts.
 */

const NAMESPACE_HOST = 'contoso.servicebus.windows.net';
const GATEWAY = 'g7-prod-am3-001-sb.servicebus.windows.net';
const CLOCK_PROBLEM = "this machine's clock is 3 minutes off (relay time 2026-05-04T08:03:05Z, this machine is behind)";
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

let host: FakeHost;
let browser: Browser;
let page: Page;
let problems: string[];

const details = () => page.getByTestId('details');
const inspector = () => details().getByTestId('open-connections');
const calls = (method: string) => host.calls.filter((c) => c.method === method).map((c) => c.args);

async function openDetails(name: string): Promise<void> {
  await page.getByRole('button', { name: `${name}, show details` }).click();
  await details().waitFor();
  await until(async () => !(await details().getByTestId('essentials').innerText()).includes('…'), 'the details', 10_000);
}

async function closeDetails(): Promise<void> {
  await page.keyboard.press('Escape');
  await details().waitFor({ state: 'detached' });
}

function tunnel(n: number, change: Partial<TunnelInfo> = {}): TunnelInfo {
  return {
    id: `contoso/orders#${n}`,
    connectionId: 'contoso/orders',
    sender: `203.0.113.${n}:5${String(n).padStart(4, '0')}`,
    openedAt: ago(60_000 + n * 1000),
    bytesToEndpoint: 1000 * n,
    bytesFromEndpoint: 2000 * n,
    endpoint: 'orders.internal:5432',
    endpointAddress: '10.0.0.5:5432',
    ...change,
  };
}

const list = (tunnels: TunnelInfo[], total = tunnels.length): TunnelList => ({
  connectionId: 'contoso/orders',
  tunnels,
  total,
  at: new Date().toISOString(),
});

/** When the fixture's rendezvous gateway was last used (set with the fixture, compared to the second). */
let rendezvousSeen: Date;

beforeAll(async () => {
  rendezvousSeen = new Date(Date.now() - 90_000);
  const gateways: GatewayInfo[] = [
    { host: NAMESPACE_HOST, port: 443, role: 'control', lastSeen: ago(5_000) },
    { host: GATEWAY, port: 443, role: 'rendezvous', lastSeen: rendezvousSeen.toISOString() },
    // An older use of the same gateway on another port: the latest one counts.
    { host: GATEWAY, port: 9350, role: 'rendezvous', lastSeen: ago(3_600_000) },
  ];
  host = await startFakeHost([
    connection('orders', 'Connected', {
      counters: {
        activeConnections: 3,
        totalConnections: 9,
        failedConnections: 0,
        bytesToEndpoint: 6000,
        bytesFromEndpoint: 12000,
        lastConnectionAt: ago(61_000),
      },
      extra: { clockSkewSeconds: -185, clockProblem: CLOCK_PROBLEM, gatewayHosts: [NAMESPACE_HOST, GATEWAY], gateways },
    }),
    connection('billing', 'Connected', { extra: { clockSkewSeconds: 0.4, clockProblem: null, gatewayHosts: [], gateways: [] } }),
  ]);
  host.script('testConnection', async (id: string): Promise<TestResult> => ({
    target: id,
    ok: true,
    steps: [
      { name: 'Endpoint DNS', ok: true, detail: 'orders.internal resolves to 10.0.0.5', ms: 2 },
      { name: 'Endpoint TCP', ok: true, detail: 'port answers', ms: 3 },
      { name: 'Clock', ok: true, warning: true, detail: CLOCK_PROBLEM, ms: 41 },
    ],
  }));
  host.script('listTunnels', async (id: string) => (id === 'contoso/orders' ? list([tunnel(1), tunnel(2), tunnel(3)]) : list([], 0)));
  browser = await launchChromium();
  ({ page, problems } = await openPage(browser, host.url));
  await page.getByRole('button', { name: 'orders, show details' }).waitFor();
});

afterAll(async () => {
  await browser?.close();
  await host?.stop();
});

describe("the relay's clock, test warnings and gateways (issue 15, items 3 and 4)", () => {
  it('warns in the details when the clocks are more than a minute apart, and says by how much', async () => {
    await openDetails('orders');
    const banner = details().getByTestId('clock-problem');
    expect(await banner.innerText()).toContain("Check this machine's clock");
    expect(await banner.innerText()).toContain(
      "This machine's clock is 3 minutes off (relay time 2026-05-04T08:03:05Z, this machine is behind). The relay judges every token",
    );
    expect(await details().getByTestId('clock-skew').innerText()).toBe('This machine is 3 min 05 s behind the relay');
  });

  it('lists each gateway host with its copy button, what it was used for and when last', async () => {
    const hosts = details().locator('[data-gateway]');
    expect(await hosts.count()).toBe(2);
    const [control, rendezvous] = [
      details().locator(`[data-gateway="${NAMESPACE_HOST}"]`),
      details().locator(`[data-gateway="${GATEWAY}"]`),
    ];
    expect(await control.getByTestId('gateway-seen').innerText()).toMatch(/^control channel, last used at \d\d:\d\d:\d\d$/);
    expect(await rendezvous.getByTestId('gateway-seen').innerText()).toMatch(/^rendezvous, last used at \d\d:\d\d:\d\d$/);
    const seen = await rendezvous.getByTestId('gateway-seen').innerText();
    // From the fixture's own time: a time taken now could fall in the next minute.
    const two = (n: number) => String(n).padStart(2, '0');
    expect(seen).toContain(`${two(rendezvousSeen.getHours())}:${two(rendezvousSeen.getMinutes())}:${two(rendezvousSeen.getSeconds())}`);
    expect(await control.getByRole('button', { name: `Copy gateway host ${NAMESPACE_HOST}` }).count()).toBe(1);
    expect(await rendezvous.getByRole('button', { name: `Copy gateway host ${GATEWAY}` }).count()).toBe(1);
  });

  it('shows a step that passed with a warning as a warning, and the test as passed with a warning', async () => {
    await details().getByRole('button', { name: 'Test', exact: true }).click();
    const title = details().getByTestId('test-title');
    await title.waitFor();
    expect(await title.innerText()).toMatch(/^Test passed with a warning at \d\d:\d\d:\d\d$/);
    const steps = details().getByTestId('test-result').locator('li');
    expect(await steps.evaluateAll((els) => els.map((e) => e.getAttribute('data-outcome')))).toEqual(['passed', 'passed', 'warning']);
    const clock = await steps.nth(2).innerText();
    expect(clock).toMatch(/^Clock: warning/);
    expect(clock).not.toContain('passed');
    expect(await details().getByTestId('test-result').getAttribute('aria-label')).toBe('Test of contoso/orders: passed with a warning');
    await details().getByTestId('clock-problem').scrollIntoViewIfNeeded();
    await screenshotBothThemes(page, 'details-clock-warning');
    await closeDetails();
  });

  it('shows neither banner nor gateway row where the clocks agree and no gateway is known', async () => {
    await openDetails('billing');
    expect(await details().getByTestId('clock-problem').count()).toBe(0);
    expect(await details().getByTestId('clock-skew').innerText()).toBe('This machine is in step with the relay');
    expect(await details().locator('[data-gateway]').count()).toBe(0);
    await closeDetails();
  });
});

describe('the open connections (issue 16, item 4), edges', () => {
  it('says when none is open', async () => {
    await openDetails('billing');
    expect(await inspector().getByTestId('open-connections-empty').innerText()).toContain('No app is connected through billing right now.');
    expect(await inspector().getByTestId('open-connections-count').innerText()).toBe('None open');
    await closeDetails();
  });

  it('lists the tunnels, moves with the tunnels event, and ignores other connections', async () => {
    await openDetails('orders');
    const rows = inspector().locator('[data-tunnel]');
    await until(async () => (await rows.count()) === 3, 'three rows', 10_000);
    expect(await inspector().getByTestId('open-connections-count').innerText()).toBe('3 open');
    const first = inspector().locator('[data-tunnel="contoso/orders#1"]');
    expect(await first.getByTestId('tunnel-sender').innerText()).toBe('203.0.113.1:50001');
    expect(await first.getByTestId('tunnel-to').innerText()).toBe('1000 B');
    expect(await first.getByTestId('tunnel-from').innerText()).toBe('2.0 KB');
    expect(await first.getByTestId('tunnel-endpoint').innerText()).toBe('10.0.0.5:5432');
    expect(await first.getByTestId('tunnel-age').innerText()).toMatch(/^1 min 0[01] s$/);
    // The age ticks by itself.
    const age = await first.getByTestId('tunnel-age').innerText();
    await until(async () => (await first.getByTestId('tunnel-age').innerText()) !== age, 'the age to tick', 3000);

    host.emit('tunnels', { ...list([tunnel(1)]), connectionId: 'contoso/billing' });
    host.emit('tunnels', list([tunnel(1, { bytesToEndpoint: 5 * 1024 * 1024 }), tunnel(3, { endpoint: 'old.internal:5432' })]));
    await until(async () => (await rows.count()) === 2, 'the event applied', 10_000);
    expect(await first.getByTestId('tunnel-to').innerText()).toBe('5.0 MB');
    // A tunnel opened before the endpoint was changed says where it was meant to go.
    expect(await inspector().locator('[data-tunnel="contoso/orders#3"]').getByTestId('tunnel-endpoint').innerText()).toBe(
      '10.0.0.5:5432\nfor old.internal:5432',
    );
  });

  it('gives the total when more are open than are shown', async () => {
    const many = Array.from({ length: 100 }, (_, i) => tunnel(i + 1));
    host.emit('tunnels', list(many, 523));
    await until(
      async () => (await inspector().getByTestId('open-connections-count').innerText()) === 'Showing the 100 oldest of 523 open',
      'the total',
      10_000,
    );
    expect(await inspector().locator('[data-tunnel]').count()).toBe(100);
    host.emit('tunnels', list([tunnel(1), tunnel(2)]));
    await until(async () => (await inspector().locator('[data-tunnel]').count()) === 2, 'two rows', 10_000);
  });

  it('closes one after a confirmation, and says when it had already ended', async () => {
    host.script('closeTunnel', async () => true);
    const second = inspector().locator('[data-tunnel="contoso/orders#2"]');
    await second.getByRole('button', { name: 'Close the connection from 203.0.113.2:50002' }).click();
    const dialog = page.getByRole('alertdialog', { name: 'Close the connection from 203.0.113.2:50002?' });
    await dialog.waitFor();
    expect(await dialog.getByTestId('close-tunnel-what').innerText()).toBe(
      "The app's connection to 10.0.0.5:5432 is cut at once, whatever it is doing.",
    );
    // Cancel closes nothing.
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect(calls('closeTunnel')).toEqual([]);

    await second.getByRole('button', { name: 'Close the connection from 203.0.113.2:50002' }).click();
    await page.getByTestId('confirm-close-tunnel').click();
    await page.locator('.fui-Toast').getByText('Closed the connection from 203.0.113.2:50002').waitFor();
    expect(calls('closeTunnel')).toEqual([['contoso/orders', 'contoso/orders#2']]);
    // The focus is back in the details (a modal panel without it is hidden from screen readers).
    await until(
      async () => page.evaluate(() => !!document.querySelector('[data-testid="details"]')?.contains(document.activeElement)),
      'the focus back in the details',
      10_000,
    );

    host.script('closeTunnel', async () => false);
    await inspector().getByRole('button', { name: 'Close the connection from 203.0.113.1:50001' }).click();
    await page.getByTestId('confirm-close-tunnel').click();
    await page.locator('.fui-Toast').getByText('The connection from 203.0.113.1:50001 had already ended').waitFor();
    expect(problems).toEqual([]);
  });
});
