import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HcmEnv } from '../helpers/agent.js';
import { waitFor } from '../helpers/emulator.js';
import { SCREENSHOTS, launchChromium, openPage } from './helpers/browser.js';
import { type UiHost, startUiHost } from './helpers/ui-host.js';

/**
 * Issue 9, item 4 (the UI part): "Try it with a local relay" on a new user's machine. `hcm ui`
 * starts on an EMPTY home (none of HCM_HOME, XDG_* set); the person clicks through the empty
 * state to the demo, sends test traffic, sees the counters and the log move, and removes it in one
 * click. The demo is labelled as such everywhere and never saved. Screenshots for the README.
 */

const DEMO_ID = 'local-demo/echo';

function newUser(): HcmEnv {
  const home = mkdtempSync(join(tmpdir(), 'hcm-ui-demo-'));
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
  for (const name of ['HCM_HOME', 'XDG_CONFIG_HOME', 'XDG_STATE_HOME', 'XDG_DATA_HOME', 'XDG_RUNTIME_DIR', 'NODE_OPTIONS', 'HCM_CA_FILE']) {
    delete env[name];
  }
  return { home, env };
}

let user: HcmEnv;
let host: UiHost;
let browser: Browser;
let page: Page;
let problems: string[];

const row = () => page.locator(`[data-connection="${DEMO_ID}"]`);
const details = () => page.getByTestId('details');

beforeAll(async () => {
  user = newUser();
  host = await startUiHost(user);
  browser = await launchChromium();
  ({ page, problems } = await openPage(browser, host.url));
});

afterAll(async () => {
  await browser?.close();
  await host?.stop();
});

describe('the demo in the UI, on an empty home', () => {
  it('offers the demo next to Add connection, saying what it is', async () => {
    const empty = page.getByTestId('empty-state');
    await empty.waitFor();
    const tryIt = empty.getByRole('button', { name: 'Try it with a local relay' });
    expect(await tryIt.isVisible()).toBe(true);
    expect(await empty.getByRole('button', { name: 'Add connection' }).isVisible()).toBe(true);
    const hint = await empty.getByText('a local relay on this machine').innerText();
    expect(hint).toContain('built-in echo service');
    expect(hint).toContain('No Azure account needed');
    expect(hint).toContain('nothing leaves this machine');
    // The explanation is the button's description for screen readers too.
    expect(await tryIt.getAttribute('aria-describedby')).toBe('demo-hint');
  });

  it('starts it with one click: the table shows it Connected, labelled Demo, in the header and the title too', async () => {
    await page.getByRole('button', { name: 'Try it with a local relay' }).click();
    await row().waitFor({ timeout: 20_000 });
    await waitFor(async () => (await row().locator('[data-status="Connected"]').count()) === 1, 20_000, 'the demo Connected');
    expect(await row().locator('[data-demo-badge]').innerText()).toBe('Demo');
    expect(await row().getByRole('button', { name: 'echo (demo), show details' }).isVisible()).toBe(true);
    expect(await page.getByTestId('header-demo').innerText()).toBe('Demo: Connected');
    // Never mixed with real connections: the header has no overall "Connected" for it, only its own badge.
    expect(await page.locator('[data-overall]').count()).toBe(0);
    await waitFor(async () => (await page.title()).endsWith('Demo connected — Hybrid Connection Manager'), 5000, 'the title');
    expect(await page.getByTestId('connections-count').innerText()).toContain('(the demo)');
    // The focus went from the button (gone with the empty state) to the demo's row.
    await waitFor(
      async () => page.evaluate(() => document.activeElement?.getAttribute('aria-label') === 'echo (demo), show details'),
      5000,
      'focus on the demo row',
    );
    await page
      .locator('.fui-Toast')
      .waitFor({ state: 'detached' })
      .catch(() => undefined);
    await page.screenshot({ path: `${SCREENSHOTS}demo-connected.png` });
  });

  it('labels it in the card layout too (narrow window, 200% zoom)', async () => {
    const { page: zoomed } = await openPage(browser, host.url, { viewport: { width: 640, height: 400 }, deviceScaleFactor: 2 });
    const card = zoomed.locator(`[data-connection="${DEMO_ID}"]`);
    await card.waitFor();
    expect(await zoomed.getByTestId('connections-cards').isVisible()).toBe(true);
    expect(await card.locator('[data-demo-badge]').innerText()).toBe('Demo');
    await zoomed.context().close();
  });

  it('explains the demo in its details', async () => {
    await row().getByRole('button', { name: 'echo (demo), show details' }).click();
    await details().waitFor();
    expect(await details().locator('[data-demo-badge]').innerText()).toBe('Demo');
    const explained = await details().getByTestId('demo-explained').innerText();
    expect(explained).toContain('This is the demo');
    expect(explained).toContain('nothing leaves this machine');
    expect(explained).toContain('never saved');
    expect(await details().getByRole('button', { name: 'Remove demo' }).isVisible()).toBe(true);
  });

  it('sends test traffic: the result line with its time, the counters move', async () => {
    await details().getByRole('button', { name: 'Send test traffic' }).click();
    const result = details().getByTestId('traffic-result');
    await result.waitFor({ timeout: 30_000 });
    expect(await result.getAttribute('data-ok')).toBe('true');
    expect(await result.innerText()).toMatch(
      /^Test traffic passed at \d{2}:\d{2}:\d{2}: 5 connections through the relay, 327680 bytes echoed back intact in \d+ ms$/,
    );
    const counters = details().getByTestId('counters');
    await waitFor(async () => (await counters.innerText()).includes('Total connections\n5'), 10_000, 'five connections counted');
    const shown = await counters.innerText();
    expect(shown).toContain('Sent to endpoint\n320 KB');
    expect(shown).toContain('Received from endpoint\n320 KB');
    expect(shown).toContain('Failed connections\n0');
    await page
      .locator('.fui-Toast')
      .waitFor({ state: 'detached' })
      .catch(() => undefined);
    // Tall enough to show the result line and the counters it moved together.
    await page.setViewportSize({ width: 1280, height: 1160 });
    await counters.scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SCREENSHOTS}demo-details.png` });
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('shows it in the Logs tab, filtered to the demo, with the date', async () => {
    await details().getByRole('button', { name: 'View logs' }).click();
    const lines = page.getByTestId('log-lines');
    await lines.waitFor();
    expect(await page.getByTestId('log-connections').innerText()).toBe('echo (demo)');
    await waitFor(async () => (await lines.innerText()).includes('test traffic: 5 connections through the relay'), 10_000, 'the log line');
    const texts = await lines.locator('li').allInnerTexts();
    expect(texts.every((t) => t.includes(`[${DEMO_ID}]`))).toBe(true);
    // Date and time, level, connection, message (innerText puts the columns on lines of their own).
    const line = texts.find((t) => t.includes('test traffic'))!.replace(/\s+/g, ' ');
    expect(line).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} info \[local-demo\/echo\] test traffic/i);
    await page.getByRole('tab', { name: 'Connections' }).click();
  });

  it('is never saved with real connections', () => {
    expect(existsSync(join(user.home, '.config', 'open-hcm', 'config.json'))).toBe(false);
  });

  it('removes it in one click, back to the empty state', async () => {
    await row().getByRole('button', { name: 'echo (demo), show details' }).click();
    await details().getByRole('button', { name: 'Remove demo' }).click();
    expect(await page.getByRole('alertdialog').count()).toBe(0);
    await page.getByTestId('empty-state').waitFor({ timeout: 20_000 });
    expect(await row().count()).toBe(0);
    expect(await page.getByTestId('header-demo').count()).toBe(0);
    await waitFor(async () => !(await page.title()).includes('Demo'), 5000, 'the title without the demo');
    await waitFor(
      async () => page.evaluate(() => document.activeElement?.hasAttribute('data-add-connection') ?? false),
      5000,
      'focus on Add connection',
    );
    expect(host.output()).toContain('demo removed');
  });

  it('showed no errors in the console (CSP violations included)', () => {
    expect(problems).toEqual([]);
  });
});
