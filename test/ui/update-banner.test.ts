import { rmSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UpdateState } from '../../src/shared/api.js';
import { type HcmEnv, hcmEnv } from '../helpers/agent.js';
import { ROOT } from '../helpers/paths.js';
import { type FeedServer, type Release, makeRelease, startFeedServer } from '../helpers/update-feed.js';
import { isOff, launchChromium, openPage, screenshotBothThemes, until } from './helpers/browser.js';
import { type FakeHost, connection, startFakeHost } from './helpers/fake-host.js';
import { type UiHost, startUiHost } from './helpers/ui-host.js';

/**
 * Issue 14, item 3 (the UI): a banner, not a modal, on every screen when there is a new version.
 * Against the real `hcm ui` and a local update feed written by the real release-feed script: the
 * banner shows the version, the release notes (expandable) and, this being a git checkout, the
 * exact command with a copy button, on every tab; Dismiss hides it for that version, also after
 * a reload; About's "Check for updates" still checks, and a newer version brings the banner back.
 * With a scripted host, what only the desktop app does: "Downloading…", the download's progress,
 * "Restart to update" calling installUpdate(), and "Updated to X" once after an update.
 */

const NOTES = 'Reconnects faster after a network change.\nThe details list every open connection.';
const NEWER_NOTES = 'A newer one, with a fix for the fix.';
const CHECKOUT = ROOT.replace(/\/$/, '');
const COMMAND = `git -C ${CHECKOUT} pull && npm --prefix ${CHECKOUT} ci && npm --prefix ${CHECKOUT} run build`;

const banner = (p: Page) => p.getByTestId('update-banner');
const title = async (p: Page) => (await banner(p).locator('.fui-MessageBarTitle').innerText()).trim();

describe('a new version, from a real feed, in the browser UI (hcm ui in a git checkout)', () => {
  let feed: FeedServer;
  let release: Release;
  let newer: Release;
  let env: HcmEnv;
  let host: UiHost;
  let browser: Browser;
  let page: Page;
  let problems: string[];

  beforeAll(async () => {
    release = makeRelease('0.2.0', { notes: NOTES, date: '2026-05-04T08:00:00Z' });
    newer = makeRelease('0.3.0', { notes: NEWER_NOTES });
    feed = await startFeedServer({ dir: release.dir });
    env = hcmEnv(null, { HCM_UPDATE_URL: feed.url, HCM_UPDATE_FIRST_CHECK_MS: '100' });
    host = await startUiHost(env);
    browser = await launchChromium();
    ({ page, problems } = await openPage(browser, host.url, { permissions: ['clipboard-read', 'clipboard-write'] }));
  });

  afterAll(async () => {
    await browser?.close();
    await host?.stop();
    await feed?.close();
    for (const dir of [release?.dir, newer?.dir, env?.home]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows the version, the notes and the command with a copy button on every tab, and About agrees', async () => {
    await banner(page).waitFor({ timeout: 20_000 });
    expect(feed.requests).toContain('/hcm/latest-linux.yml');
    expect(await title(page)).toMatch(/^Version 0\.2\.0 is available \(released May 4, 2026\)$/);
    // It is not a dialog: the page stays usable under it.
    expect(await page.getByRole('dialog').count()).toBe(0);
    expect(await banner(page).getByTestId('update-how').innerText()).toBe(
      `This is 0.1.0. Run from a git checkout (${CHECKOUT}): pull, install and build, then restart it.`,
    );
    expect(await banner(page).getByTestId('update-command').innerText()).toBe(COMMAND);
    // The notes are folded away until asked for.
    expect(await banner(page).getByTestId('update-notes').count()).toBe(0);
    const toggle = banner(page).getByRole('button', { name: 'Release notes' });
    expect(await toggle.getAttribute('aria-expanded')).toBe('false');
    await toggle.click();
    expect(await toggle.getAttribute('aria-expanded')).toBe('true');
    expect(await banner(page).getByTestId('update-notes').innerText()).toBe(NOTES);

    await banner(page).getByRole('button', { name: 'Copy update command' }).click();
    await until(async () => (await page.evaluate(() => navigator.clipboard.readText())) === COMMAND, 'the command on the clipboard');

    for (const tab of ['Logs', 'About', 'Connections']) {
      await page.getByRole('tab', { name: tab }).click();
      await page.getByRole('main', { name: tab }).waitFor();
      expect(await title(page), tab).toBe('Version 0.2.0 is available (released May 4, 2026)');
      expect(await banner(page).getByTestId('update-command').innerText(), tab).toBe(COMMAND);
      expect(await banner(page).getByTestId('update-notes').innerText(), tab).toBe(NOTES);
      if (tab === 'About') {
        // Not "is being downloaded": nothing downloads on a host that cannot install it itself.
        const about = await page.getByTestId('update-state').innerText();
        expect(about).toContain('Version 0.2.0 is available (this is 0.1.0). Run from a git checkout');
        expect(about).not.toContain('download');
        expect(await page.getByTestId('update-state').getByTestId('update-command').innerText()).toBe(COMMAND);
      }
    }
    await page.mouse.move(0, 0);
    await page
      .locator('.fui-Toast')
      .last()
      .waitFor({ state: 'detached', timeout: 15_000 })
      .catch(() => undefined);
    await screenshotBothThemes(page, 'update-banner');

    // A long command in a small window or at 200% zoom (640×400 CSS px) wraps inside the banner.
    await page.setViewportSize({ width: 640, height: 400 });
    await until(
      async () =>
        page.evaluate(() => {
          const box = document.querySelector('[data-testid="update-banner"]')!.getBoundingClientRect();
          return document.documentElement.scrollWidth <= document.documentElement.clientWidth && box.right <= window.innerWidth;
        }),
      'no sideways scrolling at 640×400',
      5000,
    );
    expect(await banner(page).getByTestId('update-command').innerText()).toBe(COMMAND);
    // The page under it keeps at least as much room as the banners, which scroll within their part.
    const [main, shown] = [(await page.getByRole('main').boundingBox())!, (await page.getByTestId('update-banners').boundingBox())!];
    expect(main.height).toBeGreaterThanOrEqual(shown.height);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('hides it for that version when dismissed, also after a reload', async () => {
    await banner(page).getByRole('button', { name: 'Dismiss the notice about version 0.2.0' }).click();
    await banner(page).waitFor({ state: 'detached' });
    for (const tab of ['Logs', 'About', 'Connections']) {
      await page.getByRole('tab', { name: tab }).click();
      expect(await banner(page).count(), tab).toBe(0);
    }
    expect(await page.evaluate(() => localStorage.getItem('hcm.updateBanner.dismissed'))).toBe('0.2.0');
    await page.reload();
    await page.getByRole('tab', { name: 'About' }).click();
    // The host still says 0.2.0 is available; the page keeps it to About.
    await until(async () => (await page.getByTestId('update-state').innerText()).includes('Version 0.2.0 is available'), 'About');
    await page.waitForTimeout(500);
    expect(await banner(page).count()).toBe(0);
  });

  it("checks again with About's Check for updates; a newer version brings the banner back", async () => {
    const before = feed.requests.length;
    feed.serve(newer.dir);
    const check = page.getByRole('button', { name: 'Check for updates' });
    expect(await isOff(check)).toBe(false);
    await check.click();
    await until(async () => (await page.getByTestId('update-state').innerText()).includes('Version 0.3.0 is available'), 'About');
    expect(feed.requests.length).toBeGreaterThan(before);
    await banner(page).waitFor();
    expect(await title(page)).toMatch(/^Version 0\.3\.0 is available/);
    await banner(page).getByRole('button', { name: 'Release notes' }).click();
    expect(await banner(page).getByTestId('update-notes').innerText()).toBe(NEWER_NOTES);
    expect(problems).toEqual([]);
  });
});

describe('what the desktop app adds, with a scripted host', () => {
  const NOW = '2026-05-04T08:00:00.000Z';
  const desktop = {
    kind: 'desktop',
    command: null,
    description: 'The app downloads updates itself; Restart to update installs them.',
  } as const;
  const offered = { version: '0.2.0', notes: 'Faster reconnects.', releaseDate: NOW };
  let host: FakeHost;
  let browser: Browser;
  let state: UpdateState;

  const push = (next: UpdateState) => {
    state = next;
    host.emit('update', next);
  };

  beforeAll(async () => {
    host = await startFakeHost([connection('orders')], { appInfo: { host: 'electron' } });
    host.script('getUpdateState', async () => state);
    host.script('checkForUpdates', async () => state);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await host?.stop();
  });

  it('says "Downloading…", shows the progress, then "Restart to update" calls installUpdate()', async () => {
    state = { state: 'idle', currentVersion: '0.1.0', howToUpdate: desktop };
    const { page, problems } = await openPage(browser, host.url);
    await page.getByRole('button', { name: 'orders, show details' }).waitFor();
    expect(await banner(page).count()).toBe(0);

    // Checking, up to date, unsupported and failed checks are About's business, not a banner's.
    for (const quiet of [
      { state: 'checking', currentVersion: '0.1.0' },
      { state: 'up-to-date', currentVersion: '0.1.0', checkedAt: NOW },
      { state: 'error', currentVersion: '0.1.0', message: 'cannot read the feed' },
      { state: 'unsupported', currentVersion: '0.1.0', reason: 'checks are off' },
    ] as UpdateState[]) {
      push(quiet);
      await page.waitForTimeout(150);
      expect(await banner(page).count(), quiet.state).toBe(0);
    }

    push({ state: 'available', currentVersion: '0.1.0', howToUpdate: desktop, ...offered });
    await banner(page).waitFor();
    expect(await title(page)).toBe('Version 0.2.0 is available (released May 4, 2026). Downloading…');
    expect(await banner(page).getByTestId('update-command').count()).toBe(0);
    await page.getByRole('tab', { name: 'About' }).click();
    expect(await page.getByTestId('update-state').innerText()).toBe('Version 0.2.0 is available; it is being downloaded.');
    await page.getByRole('tab', { name: 'Connections' }).click();

    push({ state: 'downloading', currentVersion: '0.1.0', howToUpdate: desktop, ...offered, percent: 41.6 });
    await until(async () => (await title(page)) === 'Downloading version 0.2.0: 42%', 'the progress');
    const bar = banner(page).getByTestId('update-progress');
    expect(await bar.getAttribute('aria-valuetext')).toBe('42%');
    expect(Number(await bar.getAttribute('aria-valuenow'))).toBeCloseTo(0.42, 2);
    await screenshotBothThemes(page, 'update-downloading');

    // Dismissed while it downloads: it comes back when there is something to do.
    await banner(page).getByRole('button', { name: 'Dismiss the notice about version 0.2.0' }).click();
    await banner(page).waitFor({ state: 'detached' });
    push({ state: 'downloading', currentVersion: '0.1.0', howToUpdate: desktop, ...offered, percent: 80 });
    await page.waitForTimeout(200);
    expect(await banner(page).count()).toBe(0);

    push({ state: 'ready', currentVersion: '0.1.0', howToUpdate: desktop, ...offered });
    await banner(page).waitFor();
    expect(await title(page)).toBe('Version 0.2.0 is ready to install');
    const restart = banner(page).getByRole('button', { name: 'Restart to update' });
    const installs = () => host.calls.filter((c) => c.method === 'installUpdate').length;
    expect(installs()).toBe(0);
    await screenshotBothThemes(page, 'update-ready');
    await restart.click();
    await until(async () => installs() === 1, 'installUpdate()');

    // A refusal is said, headed by what was being done.
    host.script('installUpdate', async () => {
      throw new Error('no downloaded update to install');
    });
    await restart.click();
    await page.locator('.fui-Toast').getByText('Could not restart to update').waitFor();
    expect(await page.locator('.fui-Toast').innerText()).toContain('No downloaded update to install');
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('says "Updated to X" on the first run after an update, once', async () => {
    state = { state: 'up-to-date', currentVersion: '0.2.0', updatedFrom: '0.1.0', checkedAt: NOW, howToUpdate: desktop };
    const { page, problems } = await openPage(browser, host.url);
    const notice = page.getByTestId('updated-notice');
    await notice.waitFor();
    expect(await notice.innerText()).toContain('Updated to 0.2.0');
    expect(await notice.innerText()).toContain('Hybrid Connection Manager was updated from 0.1.0. Connections resume by themselves.');
    for (const tab of ['Logs', 'About', 'Connections']) {
      await page.getByRole('tab', { name: tab }).click();
      expect(await notice.count(), tab).toBe(1);
    }
    // Said once: a reload (the host still says updatedFrom all this run) does not say it again.
    await page.reload();
    await page.getByRole('button', { name: 'orders, show details' }).waitFor();
    await page.waitForTimeout(500);
    expect(await notice.count()).toBe(0);
    expect(problems).toEqual([]);
    await page.context().close();

    // Another browser profile is told too, and can dismiss it at once.
    state = { state: 'up-to-date', currentVersion: '0.3.0', updatedFrom: '0.2.0', checkedAt: NOW, howToUpdate: desktop };
    const other = await openPage(browser, host.url);
    const again = other.page.getByTestId('updated-notice');
    await again.waitFor();
    await again.getByRole('button', { name: 'Dismiss the notice about the update to 0.3.0' }).click();
    await again.waitFor({ state: 'detached' });
    await other.page.context().close();
  });

  it('on a command-line host, About and the banner give the command instead of "being downloaded"', async () => {
    const npm = {
      kind: 'npm-global',
      command: 'npm install -g open-hcm@0.2.0',
      description: 'Installed with npm (global): install the new version with npm, then restart hcm.',
    } as const;
    state = { state: 'available', currentVersion: '0.1.0', howToUpdate: npm, ...offered, notes: null };
    const { page, problems } = await openPage(browser, host.url);
    await banner(page).waitFor();
    expect(await title(page)).toBe('Version 0.2.0 is available (released May 4, 2026)');
    expect(await banner(page).getByTestId('update-command').innerText()).toBe('npm install -g open-hcm@0.2.0');
    // No notes: no toggle for them.
    expect(await banner(page).getByRole('button', { name: 'Release notes' }).count()).toBe(0);
    await page.getByRole('tab', { name: 'About' }).click();
    const about = await page.getByTestId('update-state').innerText();
    expect(about).toContain('Version 0.2.0 is available (this is 0.1.0). Installed with npm (global)');
    expect(about).toContain('npm install -g open-hcm@0.2.0');
    expect(about).not.toContain('being downloaded');
    expect(problems).toEqual([]);
    await page.context().close();
  });
});
