import net from 'node:net';
import { hostname } from 'node:os';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Forwarder, type HcmEnv, startForwarder } from '../helpers/agent.js';
import { type EmulatorProcess, KEYS, startEmulator, testConfig, waitFor } from '../helpers/emulator.js';
import { type TcpServer, startEchoServer } from '../helpers/tcp-servers.js';
import { launchChromium, openPage, screenshotBothThemes, noToasts, until } from './helpers/browser.js';
import { type UiHost, startUiHost } from './helpers/ui-host.js';

/**
 * The HCM UI in Debian's Chromium against the real `hcm ui` and the relay emulator: what an
 * admin sees and does, from an empty machine to a removed connection. The tests run in order
 * and share one page, like a person working through the screens. Screenshots of each screen
 * (light and dark) go to docs/screenshots/.
 */

let emu: EmulatorProcess;
let echo: TcpServer;
let env: HcmEnv;
let host: UiHost;
let browser: Browser;
let page: Page;
let problems: string[];
let forwarder: Forwarder | undefined;
const config = testConfig([{ name: 'orders' }, { name: 'legacy' }]);
const ID = 'testns/orders';

const row = () => page.locator(`[data-connection="${ID}"]`);
const dialog = () => page.getByRole('dialog');
const details = () => page.getByTestId('details');
const text = (locator: ReturnType<Page['locator']>) => locator.innerText();

async function typeConnectionString(value: string): Promise<void> {
  const input = page.getByTestId('connection-string');
  await input.fill(value);
}

beforeAll(async () => {
  echo = await startEchoServer();
  config.namespaces[0]!.hybridConnections[0]!.endpoint = `127.0.0.1:${echo.port}`;
  emu = await startEmulator({ config });
  const home = mkdtempSync(join(tmpdir(), 'hcm-ui-home-'));
  env = { home, env: { ...process.env, HCM_HOME: home, HCM_CA_FILE: emu.ca! } };
  host = await startUiHost(env);
  browser = await launchChromium();
  ({ page, problems } = await openPage(browser, host.url, { permissions: ['clipboard-read', 'clipboard-write'] }));
});

afterAll(async () => {
  await browser?.close();
  await forwarder?.stop();
  await host?.stop();
  await emu?.stop();
  await echo?.close();
});

describe('the HCM UI in a browser', () => {
  it('opens without the token in the address bar and explains how to add a connection', async () => {
    await page.getByTestId('empty-state').waitFor();
    expect(page.url()).toBe(`http://127.0.0.1:${host.port}/`);
    expect(await page.getByRole('heading', { name: 'No Hybrid Connections yet' }).isVisible()).toBe(true);
    expect(await text(page.getByTestId('empty-state'))).toContain('Shared access policies');
    // The machine's name first: admins reach several servers' UIs through ssh -L.
    await until(async () => (await page.title()) === `${hostname()} — Hybrid Connection Manager`, 'the host name in the title');
    expect(await page.getByTestId('hostname').innerText()).toBe(hostname());
    await screenshotBothThemes(page, 'empty');
  });

  it('rejects malformed connection strings as you type, with the specific problem', async () => {
    await page.getByRole('button', { name: 'Add connection' }).click();
    await dialog().waitFor();
    // The empty dialog: the intro, the masked field and the example of the shape as its hint.
    expect(await text(dialog())).toContain('Endpoint=sb://<namespace>.servicebus.windows.net/;');
    await screenshotBothThemes(page, 'add-empty');
    const cases: Array<[string, RegExp]> = [
      ['hello', /part "hello" has no "="/],
      ['Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=a;SharedAccessKey=b', /no EntityPath/],
      ['Endpoint=https://x/;SharedAccessKeyName=a;SharedAccessKey=b;EntityPath=c', /must use the sb:\/\/ scheme/],
      ['Foo=bar', /unknown connection string key "Foo"/i],
    ];
    for (const [value, message] of cases) {
      await typeConnectionString(value);
      await until(async () => message.test(await text(dialog())), `"${message.source}" for ${value}`);
      expect(await page.getByRole('button', { name: 'Add', exact: true }).getAttribute('aria-disabled')).toBe('true');
    }
    // A key pasted on its own: the error describes it without showing any of it.
    const loneKey = 'XKv4zZ0b5hd3q8d2mD6e7sVb1FzJQm0kS9cW5Yt3uQ0';
    await typeConnectionString(loneKey);
    await until(
      async () => /Connection string part \(43 characters, not shown: it may hold a key\) has no "="/.test(await text(dialog())),
      'the key described, not quoted',
    );
    expect(await text(dialog())).not.toContain(loneKey.slice(0, 8));
  });

  it('asks the relay, and says when it refuses the key or does not know the Hybrid Connection', async () => {
    const good = emu.hybridConnections.orders!.listen;
    await typeConnectionString(good.replace(KEYS.listen, 'V3JvbmdLZXlXcm9uZ0tleVdyb25nS2V5V3Jvbmc='));
    await until(
      async () => /The relay did not accept it: the relay refused the key \(401\)/.test(await text(dialog())),
      'a 401 explanation',
    );
    await screenshotBothThemes(page, 'add-invalid');
    await typeConnectionString(good.replace('EntityPath=orders', 'EntityPath=nope'));
    await until(async () => /Hybrid Connection "nope" does not exist/.test(await text(dialog())), 'a not-found explanation');
  });

  it('keeps the string masked unless asked, and never echoes the key', async () => {
    const input = page.getByTestId('connection-string');
    expect(await input.getAttribute('type')).toBe('password');
    await page.getByRole('button', { name: 'Show connection string' }).click();
    expect(await input.getAttribute('type')).toBe('text');
    await page.getByRole('button', { name: 'Hide connection string' }).click();
    expect(await input.getAttribute('type')).toBe('password');
  });

  it('asks for an endpoint by hand when the Hybrid Connection has none, checking it as typed', async () => {
    await typeConnectionString(emu.hybridConnections.legacy!.listen);
    const endpoint = page.getByTestId('endpoint');
    await endpoint.waitFor();
    expect(await text(page.getByTestId('resolved-endpoint'))).toContain('not set in the Hybrid Connection');
    await endpoint.fill('db.internal');
    await endpoint.blur();
    await until(async () => (await text(dialog())).includes('Add the port after a colon'), 'the endpoint hint');
    await endpoint.fill(`127.0.0.1:${echo.port}`);
    await until(async () => !(await text(dialog())).includes('Add the port after a colon'), 'the endpoint error to clear');
  });

  it('shows the resolved endpoint before saving, and adds on Enter', async () => {
    const good = emu.hybridConnections.orders!.listen;
    await typeConnectionString(good);
    await until(async () => (await text(page.getByTestId('resolved-endpoint'))) === `127.0.0.1:${echo.port}`, 'the resolved endpoint');
    const summary = await text(page.getByTestId('resolved'));
    expect(summary).toContain('orders');
    expect(summary).toContain('defaultListener');
    expect(summary).not.toContain(KEYS.listen);
    expect(await text(dialog())).toContain('Valid connection string.');
    await screenshotBothThemes(page, 'add-resolved');
    await page.getByTestId('connection-string').press('Enter');
    await dialog().waitFor({ state: 'detached' });
    await row().waitFor();
  });

  it('shows the new row with its status reaching Connected, live', async () => {
    await until(async () => (await text(row())).includes('Connected'), 'Connected in the table');
    // The first cell holds the row's selection box.
    const cells = await row().locator('td').allInnerTexts();
    expect(cells[1]).toBe('orders');
    expect(cells[2]).toBe('testns');
    expect(cells[3]).toBe(`127.0.0.1:${echo.port}`);
    expect(cells[4]).toContain('Connected');
    expect(await row().locator('[data-status="Connected"]').count()).toBe(1);
    expect(await page.title()).toBe(`${hostname()} · Connected — Hybrid Connection Manager`);
    expect(await text(page.locator('body'))).not.toContain(KEYS.listen);
  });

  it('moves the counters when traffic flows through hcm connect', async () => {
    forwarder = await startForwarder(env, emu.hybridConnections.orders!.send);
    const socket = net.connect(forwarder.port, '127.0.0.1');
    let echoed = 0;
    socket.on('data', (d: Buffer) => (echoed += d.length));
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(Buffer.alloc(10_000, 'x'));
    await waitFor(() => echoed === 10_000, 20_000, 'the echo through the relay');
    await until(async () => (await text(row().getByTestId('active-connections'))) === '1', 'one active connection');
    await until(
      async () => (await text(row().getByTestId('traffic'))).replace(/\s+/g, ' ').includes('to endpoint 9.8 KB'),
      'bytes to the endpoint',
    );
    expect((await text(row().getByTestId('traffic'))).replace(/\s+/g, ' ')).toContain('from endpoint 9.8 KB');
    await noToasts(page);
    await screenshotBothThemes(page, 'connections');
    socket.end();
    await until(async () => (await text(row().getByTestId('active-connections'))) === '0', 'the connection to close');
  });

  it('shows the details: addresses, dates, listeners, key name (never the key), counters', async () => {
    await page.getByRole('button', { name: 'orders, show details' }).click();
    await details().waitFor();
    const essentials = page.getByTestId('essentials');
    await until(async () => !(await text(essentials)).includes('…'), 'details from the relay');
    const facts = await text(essentials);
    for (const expected of [
      'Name\norders',
      'Namespace\ntestns',
      `Endpoint\n127.0.0.1:${echo.port}\n(from the Hybrid Connection's metadata: change it in Azure)`,
      'Status\nConnected',
      `Service Bus address\nsb://testns.localhost:${emu.port}/`,
      'Key name\ndefaultListener',
      'Client authorization\nRequired',
      'Last error\nNone',
    ]) {
      expect(facts).toContain(expected);
    }
    expect(facts).toMatch(/Created\n\w{3} \d+, \d{4}/);
    expect(facts).toMatch(/Last updated\n\w{3} \d+, \d{4}/);
    expect(facts).toMatch(/Listeners online\n1 /);
    const counters = await text(page.getByTestId('counters'));
    expect(counters).toContain('Total connections\n1');
    expect(counters).toContain('Sent to endpoint\n9.8 KB');
    expect(counters).toContain('Received from endpoint\n9.8 KB');
    expect(await text(details())).not.toContain(KEYS.listen);
  });

  it('tests the connection from the details', async () => {
    await details().getByRole('button', { name: 'Test', exact: true }).click();
    await page.getByTestId('test-result').waitFor({ timeout: 30_000 });
    const result = await text(details());
    expect(result).toContain('Test passed');
    expect(result).not.toContain('failed');
    await noToasts(page);
    await screenshotBothThemes(page, 'details');
  });

  it('restarts the connection from the details: it reconnects by itself', async () => {
    const before = host.output().match(/listening \(listener id/g)?.length ?? 0;
    await details().getByRole('button', { name: 'Restart' }).click();
    await details().getByRole('button', { name: 'Restarted ✓' }).waitFor();
    await page.locator('.fui-Toast').getByText('Restarted orders ✓').waitFor();
    await until(async () => (host.output().match(/listening \(listener id/g)?.length ?? 0) > before, 'a new control channel');
    expect(host.output()).toContain('[testns/orders] restart requested');
    await until(async () => (await details().locator('[data-status="Connected"]').count()) === 1, 'Connected again in the details');
    await page.keyboard.press('Escape');
    await details().waitFor({ state: 'detached' });
  });

  it('shows Not connected with the reason when the relay goes away, and recovers by itself', async () => {
    const { port, stateDir } = emu;
    await emu.stop();
    await until(async () => (await text(row())).includes('Not connected'), 'Not connected', 30_000);
    expect(await row().locator('[data-status="NotConnected"]').count()).toBe(1);
    expect((await text(row().getByTestId('status-error'))).trim()).not.toBe('');
    expect(await page.title()).toBe(`${hostname()} · 0 of 1 connected — Hybrid Connection Manager`);
    await screenshotBothThemes(page, 'connections-down');
    // The details say what went wrong and when (to the second).
    const reason = (await text(row().getByTestId('status-error'))).trim();
    await page.getByRole('button', { name: 'orders, show details' }).click();
    await details().waitFor();
    const lastError = /Last error\n(.+) — (.+)/.exec(await text(details().getByTestId('essentials')));
    expect(lastError?.[1]).toContain(reason.slice(0, 20));
    expect(lastError?.[2]).toMatch(/\d{1,2}:\d{2}:\d{2}/);
    expect(lastError?.[2]).toContain(String(new Date().getFullYear()));
    await page.keyboard.press('Escape');
    await details().waitFor({ state: 'detached' });
    emu = await startEmulator({ config, port, stateDir });
    await until(async () => (await row().locator('[data-status="Connected"]').count()) === 1, 'Connected again', 45_000);
  });

  it('shows the log live, filters it and copies what is shown', async () => {
    await page.getByRole('tab', { name: 'Logs' }).click();
    const lines = page.getByTestId('log-lines');
    await until(async () => (await text(lines)).includes('control channel lost'), 'the drop in the log');
    const all = await text(lines);
    expect(all).toContain('added, endpoint');
    expect(all).not.toContain(KEYS.listen);
    await page.getByTestId('log-search').fill('control channel lost');
    await until(
      async () =>
        (await lines.locator('li').count()) >= 1 &&
        (await lines.locator('li').allInnerTexts()).every((l) => l.includes('control channel lost')),
      'only matching lines',
    );
    await page.getByRole('button', { name: 'Copy shown lines' }).click();
    await until(async () => (await page.evaluate(() => navigator.clipboard.readText())).includes('control channel lost'), 'the clipboard');
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied.split('\n').every((l) => /^\d{4}-\d\d-\d\dT.* WARN {2}\[testns\/orders\] control channel lost/.test(l))).toBe(true);
    await page.getByTestId('log-search').fill('');
    await page.getByTestId('log-level').click();
    await page.getByRole('option', { name: 'Warnings and errors' }).click();
    await until(
      async () =>
        (await lines.locator('li').evaluateAll((els) => els.map((e) => e.getAttribute('data-level')))).every(
          (l) => l === 'warn' || l === 'error',
        ),
      'warnings and errors only',
    );
    expect(await lines.locator('li').count()).toBeGreaterThan(0);
    await page.getByTestId('log-level').click();
    await page.getByRole('option', { name: 'Info and up' }).click();
    await noToasts(page);
    await screenshotBothThemes(page, 'logs');
    await page.getByRole('tab', { name: 'Connections' }).click();
  });

  it('shows the version, where files live and why this host does not update itself', async () => {
    await page.getByRole('tab', { name: 'About' }).click();
    const about = page.getByRole('main');
    await until(async () => (await about.innerText()).includes('Settings folder'), 'the About page');
    const shown = await about.innerText();
    expect(shown).toContain('Running as\nBrowser (hcm ui)');
    expect(shown).toContain(`Settings folder\n${env.home}`);
    // No feed is set for a test run: the page says so, and how to set one.
    expect(shown).toContain('No update feed is configured for this build (set HCM_UPDATE_URL or settings.updates.url to check).');
    expect(await page.getByRole('button', { name: 'Check for updates' }).isDisabled()).toBe(true);
    await screenshotBothThemes(page, 'about');
    await page.getByRole('tab', { name: 'Connections' }).click();
  });

  it('removes a connection only after confirmation', async () => {
    await page.getByRole('button', { name: 'orders, show details' }).click();
    await details().getByRole('button', { name: 'Remove' }).click();
    const confirm = page.getByRole('alertdialog', { name: 'Remove orders?' });
    await confirm.waitFor();
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'detached' });
    expect(await row().count()).toBe(1);
    await details().getByRole('button', { name: 'Remove' }).click();
    await page.getByTestId('confirm-remove').click();
    await page.getByTestId('empty-state').waitFor();
    expect(await row().count()).toBe(0);
    // The row that held the focus is gone; the focus goes on to Add connection, not to the page.
    await until(
      async () => page.evaluate(() => document.activeElement?.hasAttribute('data-add-connection') ?? false),
      'focus on Add connection',
      5000,
    );
  });

  it('showed no errors in the console (CSP violations included)', () => {
    expect(problems).toEqual([]);
  });

  it('never wrote a key or token to the host output', () => {
    expect(host.output()).not.toContain(KEYS.listen);
    expect(host.output()).not.toContain(KEYS.send);
    expect(
      host
        .output()
        .split('\n')
        .filter((l) => l.includes(host.token)),
    ).toEqual([`HCM UI: ${host.url}`]);
  });
});
