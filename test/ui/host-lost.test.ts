import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/emulator.js';
import { isOff, launchChromium, openPage, screenshotBothThemes } from './helpers/browser.js';
import { FAKE_HOSTNAME, type FakeHost, connection, startFakeHost } from './helpers/fake-host.js';

/**
 * Issue 12, defect 1 (stale green) and the host-lost half of defect 4: the page loses its host
 * (`hcm ui` stopped) with connections Connected. Nothing may stay green: every status reads
 * "Status unknown", the header and the tab title say since when the agent is not reachable, and
 * the actions are off until the host is back (same port, same token, like a restarted agent).
 * Every banner wraps inside its box, in the details panel too. The host is the real browser host
 * (startUiServer) in front of a scripted service, so the statuses are known exactly.
 */

let host: FakeHost;
let browser: Browser;
let wide: Page;
let narrow: Page;
let problems: string[];

const active = (n: number) => ({
  activeConnections: n,
  totalConnections: n + 4,
  failedConnections: 0,
  bytesToEndpoint: 2048,
  bytesFromEndpoint: 4096,
  lastConnectionAt: new Date().toISOString(),
});

beforeAll(async () => {
  host = await startFakeHost([connection('orders', 'Connected', { counters: active(2) }), connection('billing')]);
  browser = await launchChromium();
  ({ page: wide, problems } = await openPage(browser, host.url));
  ({ page: narrow } = await openPage(browser, host.url, { viewport: { width: 640, height: 400 }, deviceScaleFactor: 2 }));
  for (const page of [wide, narrow]) await page.locator('[data-connection="contoso/orders"] [data-status="Connected"]').waitFor();
});

afterAll(async () => {
  await browser?.close();
  await host?.stop();
});

async function statuses(page: Page): Promise<string[]> {
  return page
    .locator('[data-connection] [data-status]')
    .evaluateAll((els) => els.map((e) => `${e.getAttribute('data-status')}:${e.textContent}`));
}

/** Elements (by description) whose content is wider than their box, or whose text runs out of it at the bottom. */
async function spills(page: Page, scope: string): Promise<string[]> {
  return page.evaluate((scope) => {
    const found: string[] = [];
    for (const root of Array.from(document.querySelectorAll<HTMLElement>(scope))) {
      const boxes = [root, ...Array.from(root.querySelectorAll<HTMLElement>('.fui-MessageBar, .fui-DrawerBody'))];
      for (const el of boxes) {
        const name = `${el.className.split(' ')[0]} "${(el.textContent ?? '').slice(0, 40)}"`;
        if (el.scrollWidth > el.clientWidth + 1) found.push(`${name} scrolls sideways (${el.scrollWidth} > ${el.clientWidth})`);
        if (el.classList.contains('fui-MessageBar')) {
          const box = el.getBoundingClientRect();
          const body = el.querySelector('.fui-MessageBarBody')!.getBoundingClientRect();
          if (body.bottom > box.bottom + 1 || body.right > box.right + 1) found.push(`${name} text runs out of its box`);
        }
      }
    }
    return found;
  }, scope);
}

describe('when the UI loses its host', () => {
  it('shows Connected and live actions while the host is there', async () => {
    expect(await statuses(wide)).toEqual(['Connected:Connected', 'Connected:Connected']);
    await wide.getByRole('button', { name: 'orders, show details' }).click();
    await wide.getByTestId('details').waitFor();
    expect(await isOff(wide.getByTestId('details').getByRole('button', { name: 'Restart' }))).toBe(false);
  });

  it('turns every status to "Status unknown", says since when in the header and the title, and turns the actions off', async () => {
    // A details fetch is under way when the host goes (the status just changed): its failure must not widen the panel.
    const getConnection = host.hcm.getConnection;
    host.hcm.getConnection = () => new Promise(() => undefined);
    host.update('contoso/orders', { status: 'Connecting' });
    await wide.getByTestId('details').locator('[data-status="Connecting"]').waitFor();
    const lostFrom = new Date();
    await host.stop();
    host.hcm.getConnection = getConnection;

    for (const page of [wide, narrow]) {
      await page.getByTestId('link-lost').waitFor({ timeout: 15_000 });
      await waitFor(async () => (await statuses(page)).every((s) => s === 'Unknown:Status unknown'), 5000, 'every status unknown');
      expect(await statuses(page)).toHaveLength(2);
      const body = await page.locator('body').innerText();
      expect(body).not.toMatch(/\bConnected\b/);
      expect(body).not.toMatch(/\bConnecting\b/);
      const header = await page.locator('[data-overall]').innerText();
      expect(header).toMatch(/^Agent not reachable since \d{2}:\d{2}$/);
      const since = header.slice(-5);
      const hhmm = (d: Date) => `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
      expect([hhmm(lostFrom), hhmm(new Date())]).toContain(since);
      expect(await page.title()).toBe(`${FAKE_HOSTNAME} · Agent not reachable since ${since} — Hybrid Connection Manager`);
      expect(await page.getByTestId('link-lost').innerText()).toContain(`Agent not reachable since ${since}`);
      expect(await isOff(page.locator('[data-add-connection]'))).toBe(true);
    }

    const details = wide.getByTestId('details');
    expect(await details.locator('[data-status]').getAttribute('data-status')).toBe('Unknown');
    for (const name of ['Test', 'Restart', 'Remove']) {
      expect(await isOff(details.getByRole('button', { name, exact: true })), name).toBe(true);
    }
    expect(await details.getByTestId('essentials').innerText()).toContain('Status\nStatus unknown');
    // Keyboard users keep their place: the disabled buttons stay focusable, the drawer keeps the focus.
    await details.getByRole('button', { name: 'Restart', exact: true }).focus();
    await wide.keyboard.press('Enter');
    expect(host.calls.filter((c) => c.method === 'restartConnection')).toEqual([]);
  });

  it('keeps every banner inside its box: the page, the details panel (defect 4)', async () => {
    expect(await spills(wide, '[data-testid="details"]')).toEqual([]);
    expect(await wide.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth)).toBe(true);
    await wide.keyboard.press('Escape');
    await wide.getByTestId('details').waitFor({ state: 'detached' });
    for (const page of [wide, narrow]) {
      expect(await spills(page, '[data-testid="link-lost"]')).toEqual([]);
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth)).toBe(true);
    }
    await screenshotBothThemes(wide, 'host-lost');
    await narrow.getByRole('button', { name: 'orders, show details' }).click();
    await narrow.getByTestId('details').waitFor();
    expect(await spills(narrow, '[data-testid="details"]')).toEqual([]);
    await narrow.keyboard.press('Escape');
  });

  it('comes back by itself when the host is back: statuses, title and actions', async () => {
    host.update('contoso/orders', { status: 'Connected' });
    await host.start();
    for (const page of [wide, narrow]) {
      await page.getByTestId('link-lost').waitFor({ state: 'detached', timeout: 15_000 });
      await waitFor(async () => (await statuses(page)).every((s) => s === 'Connected:Connected'), 10_000, 'Connected again');
      await waitFor(
        async () => (await page.title()) === `${FAKE_HOSTNAME} · All 2 connected — Hybrid Connection Manager`,
        10_000,
        'the title',
      );
      expect(await isOff(page.locator('[data-add-connection]'))).toBe(false);
    }
  });

  it('logged nothing but the refused reconnects', () => {
    expect(problems.filter((p) => !/WebSocket connection to .* failed/.test(p))).toEqual([]);
  });
});
