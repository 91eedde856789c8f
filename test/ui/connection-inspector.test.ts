import { mkdtempSync, rmSync } from 'node:fs';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Forwarder, type HcmEnv, hcm, startForwarder } from '../helpers/agent.js';
import { type EmulatorProcess, startEmulator, testConfig } from '../helpers/emulator.js';
import { type TcpServer, startEchoServer } from '../helpers/tcp-servers.js';
import { connectTcp, echoRoundTrip } from '../helpers/tunnel.js';
import { launchChromium, openPage, screenshotBothThemes, until } from './helpers/browser.js';
import { type UiHost, startUiHost } from './helpers/ui-host.js';

/**
 * Issue 16, item 4 (the UI): the live connection inspector against the real `hcm ui`, the relay
 * emulator and `hcm connect`. Apps' connections held open through the relay appear in the
 * details as they open, without reopening them: the sender's address as the relay gave it, the
 * age ticking, the bytes each way moving as the apps write, and the endpoint address the agent
 * connected to. Close (after a confirmation) cuts one: that app sees its socket close while the
 * others keep working, and the row goes.
 */

let emu: EmulatorProcess;
let echo: TcpServer;
let env: HcmEnv;
let host: UiHost;
let forwarder: Forwarder;
let browser: Browser;
let page: Page;
let problems: string[];
const sockets: net.Socket[] = [];

const details = () => page.getByTestId('details');
const inspector = () => details().getByTestId('open-connections');
const rows = () => inspector().locator('[data-tunnel]');
const rowOf = (tunnelId: string) => inspector().locator(`[data-tunnel="${tunnelId}"]`);
const cell = (row: Locator, which: string) => row.getByTestId(which).innerText();

/** An app's connection through `hcm connect` and the relay, held open after `bytes` went there and back. */
async function openApp(bytes: number): Promise<net.Socket> {
  const socket = await connectTcp(forwarder.port);
  socket.on('error', () => undefined);
  sockets.push(socket);
  const back = await echoRoundTrip(socket, Buffer.alloc(bytes, 'x'));
  expect(back.length).toBe(bytes);
  return socket;
}

/** The row whose tunnel has carried exactly `bytes` to the endpoint (each app here writes its own amount). */
async function tunnelWith(bytes: number): Promise<string> {
  const row = inspector().locator(`[data-bytes-to="${bytes}"]`);
  await row.waitFor({ timeout: 20_000 });
  return (await row.getAttribute('data-tunnel'))!;
}

beforeAll(async () => {
  echo = await startEchoServer();
  emu = await startEmulator({ config: testConfig([{ name: 'orders', endpoint: `127.0.0.1:${echo.port}` }]) });
  const home = mkdtempSync(join(tmpdir(), 'hcm-ui-inspector-'));
  env = { home, env: { ...process.env, HCM_HOME: home, HCM_CA_FILE: emu.ca! } };
  delete env.env.NODE_OPTIONS;
  const added = await hcm({ ...env, env: { ...env.env, CS: emu.hybridConnections.orders!.listen } }, ['add', '--from-env', 'CS']);
  expect(added.code, added.stderr).toBe(0);
  host = await startUiHost(env);
  forwarder = await startForwarder(env, emu.hybridConnections.orders!.send);
  browser = await launchChromium();
  ({ page, problems } = await openPage(browser, host.url));
  await until(async () => (await page.locator('[data-connection$="/orders"] [data-status="Connected"]').count()) === 1, 'orders Connected');
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await browser?.close();
  await forwarder?.stop();
  await host?.stop();
  await emu?.stop();
  await echo?.close();
  if (env) rmSync(env.home, { recursive: true, force: true });
});

describe('the open connections of a real agent', () => {
  const ids: Record<string, string> = {};
  let closing: net.Socket;

  it('starts empty, and shows each app connection as it opens, live', async () => {
    await page.getByRole('button', { name: 'orders, show details' }).click();
    await details().waitFor();
    await inspector().getByTestId('open-connections-empty').waitFor();
    expect(await inspector().getByTestId('open-connections-count').innerText()).toBe('None open');

    await openApp(1000);
    ids.a = await tunnelWith(1000);
    closing = await openApp(2000);
    ids.b = await tunnelWith(2000);
    await openApp(5000);
    ids.c = await tunnelWith(5000);
    await until(async () => (await rows().count()) === 3, 'three rows');
    expect(await inspector().getByTestId('open-connections-count').innerText()).toBe('3 open');
    // Oldest first.
    expect(await rows().evaluateAll((els) => els.map((e) => e.getAttribute('data-tunnel')))).toEqual([ids.a, ids.b, ids.c]);

    for (const [id, to] of [
      [ids.a, '1000 B'],
      [ids.b, '2.0 KB'],
      [ids.c, '4.9 KB'],
    ] as const) {
      const row = rowOf(id);
      // The sender as the relay saw it: hcm connect's own socket to the relay, on this machine.
      expect(await cell(row, 'tunnel-sender')).toMatch(/^(127\.0\.0\.1|::1|::ffff:127\.0\.0\.1):\d+$/);
      expect(await cell(row, 'tunnel-to')).toBe(to);
      expect(await cell(row, 'tunnel-from')).toBe(to);
      expect(await cell(row, 'tunnel-endpoint')).toBe(`127.0.0.1:${echo.port}`);
      expect(await cell(row, 'tunnel-age')).toMatch(/^\d+ s$/);
    }
    const senders = await rows().evaluateAll((els) => els.map((e) => e.getAttribute('data-sender')));
    expect(new Set(senders).size).toBe(3);

    // The ages tick without anything happening on the tunnels.
    const age = await cell(rowOf(ids.a), 'tunnel-age');
    await until(async () => (await cell(rowOf(ids.a!), 'tunnel-age')) !== age, 'the age to tick', 5000);
  });

  it('moves the bytes of the connection an app writes on', async () => {
    await echoRoundTrip(closing, Buffer.alloc(20_000, 'y'));
    await until(async () => (await cell(rowOf(ids.b!), 'tunnel-to')) === '21.5 KB', 'the bytes to the endpoint');
    expect(await cell(rowOf(ids.b!), 'tunnel-from')).toBe('21.5 KB');
    expect(await cell(rowOf(ids.a!), 'tunnel-to')).toBe('1000 B');
    await page.mouse.move(0, 0);
    await inspector().scrollIntoViewIfNeeded();
    await screenshotBothThemes(page, 'details-open-connections');
  });

  it('closes one after a confirmation: that app sees its socket close, the others keep working', async () => {
    const sender = await cell(rowOf(ids.b!), 'tunnel-sender');
    const closed = new Promise<void>((resolve) => closing.once('close', () => resolve()));
    await rowOf(ids.b!)
      .getByRole('button', { name: `Close the connection from ${sender}` })
      .click();
    const dialog = page.getByRole('alertdialog', { name: `Close the connection from ${sender}?` });
    await dialog.waitFor();
    expect(await dialog.getByTestId('close-tunnel-what').innerText()).toContain(`to 127.0.0.1:${echo.port} is cut at once`);
    await page.getByTestId('confirm-close-tunnel').click();
    await page.locator('.fui-Toast').getByText(`Closed the connection from ${sender}`).waitFor();
    await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error("the app's socket did not close")), 10_000))]);
    await until(async () => (await rows().count()) === 2, 'the row gone');
    expect(await rowOf(ids.b!).count()).toBe(0);
    expect(await inspector().getByTestId('open-connections-count').innerText()).toBe('2 open');

    // The other two still carry traffic, and say so.
    const [a, , c] = sockets;
    expect((await echoRoundTrip(a!, Buffer.alloc(3000, 'a'))).length).toBe(3000);
    expect((await echoRoundTrip(c!, Buffer.alloc(3000, 'c'))).length).toBe(3000);
    await until(async () => (await cell(rowOf(ids.a!), 'tunnel-to')) === '3.9 KB', 'the bytes of the first');
    expect(host.output()).toMatch(/ended after [\d.]+ s: 22000 B to 127\.0\.0\.1:\d+, 22000 B back/);
  });

  it('goes back to the empty state when the apps close theirs', async () => {
    for (const s of sockets) s.end();
    await inspector().getByTestId('open-connections-empty').waitFor({ timeout: 20_000 });
    expect(await rows().count()).toBe(0);
    expect(problems).toEqual([]);
  });
});
