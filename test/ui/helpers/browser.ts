import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContextOptions, type Locator, type Page, chromium } from 'playwright-core';
import { waitFor } from '../../helpers/emulator.js';

/** Debian's Chromium driven by playwright-core (never a downloaded browser). */

export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS = fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url));

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: install it with "apt-get install -y chromium" (.ci/install-deps does)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

export interface WatchedPage {
  page: Page;
  /** Console errors and page errors seen so far (CSP violations show up here). */
  problems: string[];
}

export async function openPage(browser: Browser, url: string, options: BrowserContextOptions = {}): Promise<WatchedPage> {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    colorScheme: 'light',
    reducedMotion: 'reduce',
    ...options,
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(url);
  return { page, problems };
}

/** True when the app's background is dark, i.e. the dark theme is in use. */
export async function isDark(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const el = document.querySelector('.fui-FluentProvider') as HTMLElement;
    const [r, g, b] = (getComputedStyle(el).backgroundColor.match(/\d+/g) ?? ['255', '255', '255']).map(Number);
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * b! < 128;
  });
}

/** Saves docs/screenshots/<name>-light.png and <name>-dark.png, switching the OS colour scheme live. */
export async function screenshotBothThemes(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.emulateMedia({ colorScheme: 'light' });
  await page.waitForFunction(() => !!document.querySelector('.fui-FluentProvider'));
  await waitForTheme(page, false);
  await page.screenshot({ path: `${SCREENSHOTS}${name}-light.png` });
  await page.emulateMedia({ colorScheme: 'dark' });
  await waitForTheme(page, true);
  await page.screenshot({ path: `${SCREENSHOTS}${name}-dark.png` });
  await page.emulateMedia({ colorScheme: 'light' });
  await waitForTheme(page, false);
}

async function waitForTheme(page: Page, dark: boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while ((await isDark(page)) !== dark) {
    if (Date.now() > deadline) throw new Error(`the UI did not switch to the ${dark ? 'dark' : 'light'} theme`);
    await page.waitForTimeout(25);
  }
}

/** A control that cannot be used: disabled, or aria-disabled (Fluent's disabledFocusable, which keeps it in the tab order). */
export async function isOff(locator: Locator): Promise<boolean> {
  return locator.evaluate((el) => (el as HTMLButtonElement).disabled || el.getAttribute('aria-disabled') === 'true');
}

/** Waits until `check` holds; a check that throws (an element not there yet) counts as "not yet". */
export async function until(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  await waitFor(async () => check().catch(() => false), timeoutMs, what);
}

/** Waits until no toast is showing (fails after 15 s), so the next step or screenshot starts clean. */
export async function noToasts(page: Page): Promise<void> {
  await until(async () => (await page.locator('.fui-Toast').count()) === 0, 'toasts to go away', 15_000);
}

/** Gives the last toast up to 15 s to leave, then goes on either way: only where a lingering toast is harmless. */
export async function letToastsClear(page: Page): Promise<void> {
  await page
    .locator('.fui-Toast')
    .last()
    .waitFor({ state: 'detached', timeout: 15_000 })
    .catch(() => undefined);
}
