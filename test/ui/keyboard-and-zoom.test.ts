import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HcmEnv } from '../helpers/agent.js';
import { type EmulatorProcess, startEmulator, testConfig, waitFor } from '../helpers/emulator.js';
import { SCREENSHOTS, launchChromium, openPage } from './helpers/browser.js';
import { type UiHost, startUiHost } from './helpers/ui-host.js';

/**
 * The UI used with the keyboard alone, and at 200% zoom (a 1280×800 window at 200% leaves
 * 640×400 CSS pixels), in Debian's Chromium against the real `hcm ui` and the emulator.
 */

let emu: EmulatorProcess;
let host: UiHost;
let browser: Browser;
const config = testConfig([{ name: 'keys', endpoint: '127.0.0.1:9' }]);
const ID = 'testns/keys';

beforeAll(async () => {
  emu = await startEmulator({ config });
  const home = mkdtempSync(join(tmpdir(), 'hcm-ui-keys-'));
  const env: HcmEnv = { home, env: { ...process.env, HCM_HOME: home, HCM_CA_FILE: emu.ca! } };
  host = await startUiHost(env);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await host?.stop();
  await emu?.stop();
});

/** What has the focus: its role-ish tag, accessible label or text, and whether it shows a focus ring. */
function focused(page: Page) {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el) return { tag: '', name: '', ring: false, testid: '' };
    const name = el.getAttribute('aria-label') ?? el.textContent?.trim() ?? '';
    // Fluent draws its focus ring on elements it marks as focused from the keyboard.
    const ring = el.hasAttribute('data-fui-focus-visible') || !!el.closest('[data-fui-focus-within]');
    return { tag: el.tagName.toLowerCase(), name, ring, testid: el.getAttribute('data-testid') ?? '' };
  });
}

async function tabTo(page: Page, matches: (f: Awaited<ReturnType<typeof focused>>) => boolean, limit = 25): Promise<string[]> {
  const visited: string[] = [];
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    visited.push(f.name);
    if (matches(f)) return visited;
  }
  throw new Error(`not reached with Tab; focus went through: ${visited.join(' | ')}`);
}

describe('keyboard only', () => {
  let page: Page;
  let problems: string[];
  beforeAll(async () => {
    ({ page, problems } = await openPage(browser, host.url));
    await page.getByTestId('empty-state').waitFor();
  });

  it('reaches Add connection with Tab, after the section tabs, with a visible focus ring', async () => {
    const path = await tabTo(page, (f) => f.name === 'Add connection');
    expect(path.indexOf('Connections')).toBeGreaterThanOrEqual(0);
    expect(path.indexOf('Connections')).toBeLessThan(path.indexOf('Add connection'));
    expect((await focused(page)).ring).toBe(true);
  });

  it('opens the dialog with Enter, focused on the string; Escape closes it and gives the focus back', async () => {
    await page.keyboard.press('Enter');
    await page.getByRole('dialog').waitFor();
    expect((await focused(page)).testid).toBe('connection-string');
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    expect((await focused(page)).name).toBe('Add connection');
  });

  it('adds a connection with the keyboard: paste, wait for the check, Enter', async () => {
    await page.keyboard.press('Enter');
    await page.getByRole('dialog').waitFor();
    await page.keyboard.insertText(emu.hybridConnections.keys!.listen);
    await waitFor(
      async () =>
        (await page
          .getByTestId('resolved-endpoint')
          .innerText()
          .catch(() => '')) === '127.0.0.1:9',
      20_000,
      'the resolved endpoint',
    );
    // The show toggle is the next stop after the field, and works with Space.
    await page.keyboard.press('Tab');
    expect((await focused(page)).name).toBe('Show connection string');
    await page.keyboard.press('Space');
    expect(await page.getByTestId('connection-string').getAttribute('type')).toBe('text');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await page.locator(`[data-connection="${ID}"]`).waitFor();
  });

  it('puts the focus on the new row, then opens its details with Enter, moves inside with Tab, closes with Escape', async () => {
    // The button that opened the dialog went away with the empty state; the new row takes the focus.
    await waitFor(async () => (await focused(page)).name === 'keys, show details', 5000, 'focus on the new row');
    await page.keyboard.press('Enter');
    await page.getByTestId('details').waitFor();
    const inside = await tabTo(page, (f) => f.name === 'Remove', 10);
    expect(inside).toContain('Test');
    await page.keyboard.press('Enter');
    await page.getByRole('alertdialog').waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('alertdialog').waitFor({ state: 'detached' });
    expect(await page.getByTestId('details').isVisible()).toBe(true);
    await page.keyboard.press('Escape');
    await page.getByTestId('details').waitFor({ state: 'detached' });
    expect((await focused(page)).name).toBe('keys, show details');
  });

  it('switches sections with the arrow keys on the tab list', async () => {
    await page.getByRole('tab', { name: 'Connections' }).focus();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Enter');
    await page.getByTestId('log-lines').waitFor();
    expect(await page.getByRole('tab', { name: 'Logs' }).getAttribute('aria-selected')).toBe('true');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('Enter');
    await page.locator(`[data-connection="${ID}"]`).waitFor();
  });

  it('logged no errors', () => {
    expect(problems).toEqual([]);
  });
});

describe('200% zoom', () => {
  let page: Page;
  beforeAll(async () => {
    ({ page } = await openPage(browser, host.url, { viewport: { width: 640, height: 400 }, deviceScaleFactor: 2 }));
    await page.locator(`[data-connection="${ID}"]`).waitFor();
  });

  const overflowsSideways = () => page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);

  it('stacks the connections as cards that fit the width, with the status in words', async () => {
    expect(await page.getByTestId('connections-cards').isVisible()).toBe(true);
    expect(await page.getByTestId('connections-table').count()).toBe(0);
    expect(await overflowsSideways()).toBe(false);
    const card = page.locator(`[data-connection="${ID}"]`);
    await waitFor(async () => /Connected|Not connected|Connecting/.test(await card.innerText()), 20_000, 'a status in words');
    const box = (await card.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(640);
    await page.screenshot({ path: `${SCREENSHOTS}zoom-200-light.png` });
  });

  it('fits the add dialog and the details in the window', async () => {
    await page.getByRole('button', { name: 'Add connection' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    const d = (await dialog.boundingBox())!;
    expect(d.x).toBeGreaterThanOrEqual(0);
    expect(d.x + d.width).toBeLessThanOrEqual(640);
    expect(await page.getByRole('button', { name: 'Cancel' }).isVisible()).toBe(true);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'keys, show details' }).click();
    const drawer = page.getByTestId('details');
    await drawer.waitFor();
    const r = (await drawer.boundingBox())!;
    expect(r.width).toBeLessThanOrEqual(640);
    expect(await page.getByRole('button', { name: 'Close details' }).isVisible()).toBe(true);
    expect(await overflowsSideways()).toBe(false);
    await page.keyboard.press('Escape');
  });

  it('keeps the logs inside the width', async () => {
    await page.getByRole('tab', { name: 'Logs' }).click();
    await page.getByTestId('log-lines').waitFor();
    expect(await overflowsSideways()).toBe(false);
    await page.getByRole('tab', { name: 'Connections' }).click();
  });
});
