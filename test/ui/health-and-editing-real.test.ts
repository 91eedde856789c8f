import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Forwarder, type HcmEnv, hcm, startForwarder } from '../helpers/agent.js';
import { type EmulatorProcess, KEYS, startEmulator, testConfig } from '../helpers/emulator.js';
import { freePort } from '../helpers/ports.js';
import { type TcpServer, startEchoServer } from '../helpers/tcp-servers.js';
import { echoedBytes } from '../helpers/tunnel.js';
import { isOff, launchChromium, openPage, screenshotBothThemes, noToasts, until } from './helpers/browser.js';
import { type UiHost, startUiHost } from './helpers/ui-host.js';

/**
 * Issue 12, items 6, 8 and 10 against the real `hcm ui` and the relay emulator, where what the
 * agent does matters: an app's connection to an endpoint that refuses marks the Connected row with
 * the agent's own reason; Edit endpoint… fixes it and bytes flow; a key rotated in Azure makes the
 * connection Unauthorized with its next try counted down and "Retry now"; Replace connection
 * string… turns away the old key, another Hybrid Connection's string and a rule that can only send
 * (in the agent's words), then takes the new key and the connection is Connected again; the log
 * level changed in the Logs tab is the running agent's (hcm log-level says so).
 */

const NEW_KEY = 'Um90YXRlZExpc3RlbktleUZvclVpVGVzdHNPbmx5MDE=';

let emu: EmulatorProcess;
let echo: TcpServer;
let env: HcmEnv;
let host: UiHost;
let browser: Browser;
let page: Page;
let problems: string[];
let forwarder: Forwarder | undefined;
let closedPort: number;
const config = testConfig([{ name: 'orders' }, { name: 'legacy' }]);

const row = (name: string) => page.locator(`[data-connection$="/${name}"]`);
const details = () => page.getByTestId('details');
const text = (locator: ReturnType<Page['locator']>) => locator.innerText();
const withCs = (cs: string): HcmEnv => ({ ...env, env: { ...env.env, CS: cs } });

async function openDetails(name: string): Promise<void> {
  await page.getByRole('button', { name: `${name}, show details` }).click();
  await details().waitFor();
  await until(async () => !(await text(details().getByTestId('essentials'))).includes('…'), 'the details');
}

async function closeDetails(): Promise<void> {
  await page.keyboard.press('Escape');
  await details().waitFor({ state: 'detached' });
}

beforeAll(async () => {
  echo = await startEchoServer();
  closedPort = await freePort();
  config.namespaces[0]!.hybridConnections[0]!.endpoint = `127.0.0.1:${echo.port}`;
  emu = await startEmulator({ config });
  const home = mkdtempSync(join(tmpdir(), 'hcm-ui-edit-'));
  env = { home, env: { ...process.env, HCM_HOME: home, HCM_CA_FILE: emu.ca! } };
  delete env.env.NODE_OPTIONS;
  const orders = await hcm(withCs(emu.hybridConnections.orders!.listen), ['add', '--from-env', 'CS']);
  expect(orders.code, orders.stderr).toBe(0);
  // legacy has no endpoint metadata: set by hand, to a port where nothing listens.
  const legacy = await hcm(withCs(emu.hybridConnections.legacy!.listen), [
    'add',
    '--from-env',
    'CS',
    '--endpoint',
    `127.0.0.1:${closedPort}`,
  ]);
  expect(legacy.code, legacy.stderr).toBe(0);
  host = await startUiHost(env);
  browser = await launchChromium();
  ({ page, problems } = await openPage(browser, host.url));
  for (const name of ['orders', 'legacy'])
    await until(async () => (await row(name).locator('[data-status="Connected"]').count()) === 1, name);
});

afterAll(async () => {
  await browser?.close();
  await forwarder?.stop();
  await host?.stop();
  await emu?.stop();
  await echo?.close();
});

describe('endpoint failures and a hand-set endpoint (items 6 and 8)', () => {
  it("marks the Connected row when an app's connection cannot reach the endpoint, with the agent's reason", async () => {
    expect(await row('legacy').getByTestId('failure-mark').count()).toBe(0);
    forwarder = await startForwarder(env, emu.hybridConnections.legacy!.send);
    expect(await echoedBytes(forwarder.port, 100)).toBe(0);
    const mark = row('legacy').getByTestId('failure-mark');
    await mark.waitFor({ timeout: 20_000 });
    expect(await text(mark.getByTestId('failure-count'))).toBe('1 failed');
    // Still Connected: the channel is fine, the endpoint is not.
    expect(await row('legacy').locator('[data-status="Connected"]').count()).toBe(1);
    await mark.hover();
    const tip = await text(page.getByTestId('failure-tip'));
    expect(tip).toContain('1 of 1 connections not bridged.');
    expect(tip).toContain(`endpoint 127.0.0.1:${closedPort} refused the connection`);
    await page.mouse.move(0, 0);
    expect(await row('orders').getByTestId('failure-mark').count()).toBe(0);
  });

  it('changes the hand-set endpoint with Edit endpoint…, and the next connection gets through', async () => {
    await openDetails('legacy');
    expect(await text(details().getByTestId('endpoint-failures'))).toContain(`could not be bridged to 127.0.0.1:${closedPort}`);
    expect(await text(details().getByTestId('endpoint-source'))).toBe('(set by hand)');
    await details().getByRole('button', { name: 'Edit endpoint…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Edit the endpoint of legacy' });
    await dialog.getByTestId('endpoint').fill(`127.0.0.1:${echo.port}`);
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.locator('.fui-Toast').getByText('Endpoint of legacy changed').waitFor();
    await until(async () => (await text(row('legacy').locator('td').nth(3))) === `127.0.0.1:${echo.port}`, 'the new endpoint in the row');
    expect(await text(details().getByTestId('essentials'))).toContain(`127.0.0.1:${echo.port}`);
    expect(host.output()).toContain(`endpoint changed by hand: 127.0.0.1:${closedPort} -> 127.0.0.1:${echo.port}`);
    expect(await echoedBytes(forwarder!.port, 5000)).toBe(5000);
    await until(async () => (await text(details().getByTestId('counters'))).includes('Sent to endpoint\n4.9 KB'), 'the bytes counted');
    await closeDetails();
  });

  it('says a metadata endpoint is changed in Azure, and offers no Edit endpoint… for it', async () => {
    await openDetails('orders');
    expect(await text(details().getByTestId('endpoint-source'))).toBe("(from the Hybrid Connection's metadata: change it in Azure)");
    expect(await details().getByRole('button', { name: 'Edit endpoint…' }).count()).toBe(0);
    await closeDetails();
  });
});

describe('a key rotated in Azure (items 6 and 8)', () => {
  it('shows Unauthorized with the reason in full, counts down to the next try, and "Retry now" tries at once', async () => {
    const rotated = structuredClone(config);
    rotated.namespaces[0]!.hybridConnections[0]!.rules[0]!.primaryKey = NEW_KEY;
    expect(await emu.reload(rotated)).toBe('reloaded');
    await openDetails('orders');
    await details().getByTestId('restart').click();
    await closeDetails();
    await until(async () => (await row('orders').locator('[data-status="Unauthorized"]').count()) === 1, 'Unauthorized', 30_000);
    const reason = await text(row('orders').getByTestId('status-error'));
    expect(reason).toMatch(/401/);
    const countdown = row('orders').getByTestId('retry-in');
    await countdown.waitFor();
    expect(await text(countdown)).toMatch(/^Retrying in \d+( s| min( \d+ s)?)$/);
    const restarts = () =>
      host
        .output()
        .split('\n')
        .filter((l) => /\/orders\] restart requested/.test(l)).length;
    const before = restarts();
    await row('orders').getByRole('button', { name: 'Retry orders now' }).click();
    await until(async () => restarts() === before + 1, 'the restart in the log');
    expect(await details().count()).toBe(0);
    // It tried, was refused again, and counts down to the next try.
    await until(async () => /^Retrying in \d/.test(await text(countdown)), 'a new countdown', 30_000);
    expect(await row('orders').locator('[data-status="Unauthorized"]').count()).toBe(1);
  });

  it('shows its listeners as unknown, and offers to replace the connection string where the error is', async () => {
    await openDetails('orders');
    expect(await text(details().getByTestId('essentials'))).toContain('Listeners online\nunknown while not connected');
    await details().getByTestId('last-error').getByRole('button', { name: 'Replace connection string…' }).click();
    await page.getByRole('dialog', { name: 'Replace the connection string of orders' }).waitFor();
  });

  it('turns away the old key, another Hybrid Connection and a rule that can only send, as it does in Add', async () => {
    const dialog = page.getByRole('dialog', { name: 'Replace the connection string of orders' });
    const input = dialog.getByTestId('connection-string');
    const replace = dialog.getByRole('button', { name: 'Replace' });
    expect(await isOff(replace)).toBe(true);

    await input.fill(emu.hybridConnections.orders!.listen);
    await until(async () => /The relay did not accept it: .*401/.test(await text(dialog)), 'the old key refused');
    expect(await isOff(replace)).toBe(true);

    await input.fill(emu.hybridConnections.legacy!.listen);
    await until(
      async () =>
        /This connection string is for \S+\/legacy, not \S+\/orders: add it as a new connection instead\./.test(await text(dialog)),
      'another Hybrid Connection',
    );
    expect(await isOff(replace)).toBe(true);

    await input.fill(emu.hybridConnections.orders!.send);
    await until(
      async () => (await text(dialog)).includes('This policy can only send: copy the defaultListener connection string instead'),
      'a Send-only rule refused in the agent’s words',
    );
    expect(await text(dialog)).not.toContain('The relay did not accept it');
    expect(await isOff(replace)).toBe(true);
    await noToasts(page);
    await screenshotBothThemes(page, 'replace-key-send-only');
  });

  it('takes the new key: Connected again, with the new string kept by the agent', async () => {
    const dialog = page.getByRole('dialog', { name: 'Replace the connection string of orders' });
    await dialog.getByTestId('connection-string').fill(emu.hybridConnections.orders!.listen.replace(KEYS.listen, NEW_KEY));
    await until(async () => (await text(dialog)).includes('Valid connection string for orders (rule defaultListener).'), 'valid');
    await dialog.getByRole('button', { name: 'Replace' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.locator('.fui-Toast').getByText('Replaced the connection string of orders').waitFor();
    await until(async () => (await details().locator('[data-status="Connected"]').count()) === 1, 'Connected with the new key', 30_000);
    expect(host.output()).toMatch(/\/orders\] connection string replaced \(rule defaultListener\)/);
    await until(async () => (await text(details().getByTestId('essentials'))).includes('Listeners online\n1 '), 'the listener counted');
    await closeDetails();
    expect(await row('orders').getByTestId('retry-line').count()).toBe(0);
  });

  it('says a Send-only rule in the agent’s words in Add too', async () => {
    await page.getByRole('button', { name: 'Add connection' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add a Hybrid Connection' });
    await dialog.getByTestId('connection-string').fill(emu.hybridConnections.legacy!.send);
    await until(
      async () => (await text(dialog)).includes('This policy can only send: copy the defaultListener connection string instead'),
      'the rights message',
    );
    expect(await text(dialog)).not.toContain('The relay did not accept it');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
  });
});

describe("the agent's log level (item 10)", () => {
  it('is the running agent’s: changed in the Logs tab, seen by hcm log-level', async () => {
    await page.getByRole('tab', { name: 'Logs' }).click();
    const level = page.getByTestId('agent-log-level');
    await until(async () => (await text(level)) === 'Info: connections and tunnels', 'the level shown');
    expect((await hcm(env, ['log-level'])).stdout.trim()).toBe('info');
    await level.click();
    await page.getByRole('option', { name: 'Debug: everything' }).click();
    await until(async () => (await hcm(env, ['log-level'])).stdout.trim() === 'debug', 'the agent at debug');
    await until(async () => (await text(page.getByTestId('log-lines'))).includes('log level set to debug'), 'the debug line shown');
    await level.click();
    await page.getByRole('option', { name: 'Warnings and errors' }).click();
    await until(async () => (await hcm(env, ['log-level'])).stdout.trim() === 'warn', 'the agent at warn');
    // The browser host has no folder to open for you (the desktop app has).
    expect(await page.getByTestId('open-log-folder').count()).toBe(0);
    await page.getByRole('tab', { name: 'Connections' }).click();
  });

  it('showed no errors in the console, and no key anywhere', async () => {
    expect(problems).toEqual([]);
    const body = await text(page.locator('body'));
    for (const key of [KEYS.listen, KEYS.send, NEW_KEY]) {
      expect(body).not.toContain(key);
      expect(host.output()).not.toContain(key);
    }
  });
});
