import { EventEmitter } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { INSTALL_ID_FILE, LAST_RUN_FILE } from '../../src/core/updates/local-state.js';
import type { SchedulerClock } from '../../src/core/updates/scheduler.js';
import { type UpdaterInfo, type UpdaterPort, describeError, desktopUpdates } from '../../src/main/updates.js';
import type { UpdateState } from '../../src/shared/api.js';
import { idAt } from '../helpers/update-feed.js';

/** electron-updater's events as the contract's UpdateState, with a fake updater (the real one: test/integration/desktop-update.test.ts). */

class FakeUpdater extends EventEmitter {
  autoDownload = false;
  autoInstallOnAppQuit = false;
  allowPrerelease?: boolean;
  logger: UpdaterPort['logger'] = console;
  isUpdateSupported?: (info: UpdaterInfo) => boolean | Promise<boolean>;
  isUserWithinRollout?: (info: UpdaterInfo) => boolean | Promise<boolean>;
  feedUrls: unknown[] = [];
  checks = 0;
  installs: unknown[][] = [];
  fail: Error | null = null;
  setFeedURL(o: unknown) {
    this.feedUrls.push(o);
  }
  async checkForUpdates() {
    this.checks++;
    this.emit('checking-for-update');
    if (this.fail) {
      this.emit('error', this.fail);
      throw this.fail;
    }
    return { downloadPromise: null };
  }
  quitAndInstall(...args: unknown[]) {
    this.installs.push(args);
  }
}

const noTimers: SchedulerClock = { now: () => Date.now(), setTimeout: () => 0, clearTimeout: () => undefined, random: () => 0.5 };
const FEED = { HCM_UPDATE_URL: 'https://dl.example.test/hcm' };

describe('desktopUpdates', () => {
  it('says plainly when this run cannot update itself', async () => {
    const u = desktopUpdates({ currentVersion: '1.2.3', updater: null, notPackagedReason: 'this is a development run', env: FEED });
    expect(u.getState()).toMatchObject({ state: 'unsupported', currentVersion: '1.2.3', reason: 'this is a development run' });
    expect(u.getState().howToUpdate).toMatchObject({ kind: 'desktop', command: null });
    expect(await u.check()).toEqual(u.getState());
    await expect(u.install()).rejects.toThrow(/no downloaded update/);
  });

  it('checks nothing when checks are off or no feed is configured', async () => {
    const fake = new FakeUpdater();
    const off = desktopUpdates({ currentVersion: '1.2.3', updater: fake, env: { ...FEED, HCM_UPDATE_CHECK: 'off' }, clock: noTimers });
    expect(await off.check()).toMatchObject({ state: 'unsupported', reason: 'Update checks are turned off (HCM_UPDATE_CHECK=off).' });
    const none = desktopUpdates({ currentVersion: '1.2.3', updater: fake, env: {}, clock: noTimers });
    expect(await none.check()).toMatchObject({ state: 'unsupported', reason: expect.stringMatching(/No update feed is configured/) });
    expect(fake.checks).toBe(0);
    expect(fake.feedUrls).toEqual([]);
  });

  it('follows the updater from check to download to ready, and installs only then', async () => {
    const fake = new FakeUpdater();
    const u = desktopUpdates({ currentVersion: '1.2.3', updater: fake, env: FEED, clock: noTimers });
    const seen: UpdateState[] = [];
    u.onChange((s) => seen.push(s));
    expect(fake.autoDownload).toBe(true);
    expect(fake.autoInstallOnAppQuit).toBe(true);
    expect(fake.feedUrls).toEqual([{ provider: 'generic', url: 'https://dl.example.test/hcm/' }]);
    expect(u.getState()).toMatchObject({ state: 'idle', currentVersion: '1.2.3' });
    await expect(u.install()).rejects.toThrow();
    await u.check();
    fake.emit('update-available', { version: '1.3.0', releaseNotes: 'fixes', releaseDate: '2026-05-04T08:00:00.000Z' });
    fake.emit('download-progress', { percent: 42.5 });
    fake.emit('update-downloaded', { version: '1.3.0' });
    expect(seen.map((s) => s.state)).toEqual(['checking', 'available', 'downloading', 'ready']);
    const notes = { version: '1.3.0', notes: 'fixes', releaseDate: '2026-05-04T08:00:00.000Z' };
    expect(seen[1]).toMatchObject({ state: 'available', currentVersion: '1.2.3', ...notes });
    expect(seen[2]).toMatchObject({ state: 'downloading', ...notes, percent: 42.5 });
    expect(seen[3]).toMatchObject({ state: 'ready', ...notes, howToUpdate: { kind: 'desktop' } });
    // Once ready, checks stop (the next version comes after the restart).
    await u.check();
    expect(fake.checks).toBe(1);
    await u.install();
    expect(fake.installs).toEqual([[false, true]]);
  });

  it('shows "checking" for explicit checks only, so a background check never makes the banner flicker', async () => {
    const fake = new FakeUpdater();
    const u = desktopUpdates({ currentVersion: '1.2.3', updater: fake, env: FEED, clock: noTimers });
    fake.emit('update-not-available', {});
    const seen: string[] = [];
    u.onChange((s) => seen.push(s.state));
    fake.emit('checking-for-update'); // a scheduled check
    fake.emit('update-not-available', {});
    await u.check();
    expect(seen).toEqual(['up-to-date', 'checking']);
  });

  it('reports errors, and a wrong sha512 as a refused download', async () => {
    const fake = new FakeUpdater();
    const u = desktopUpdates({ currentVersion: '1.2.3', updater: fake, env: FEED, clock: noTimers });
    fake.emit('update-not-available', {});
    expect(u.getState()).toMatchObject({ state: 'up-to-date', currentVersion: '1.2.3' });
    fake.fail = new Error('getaddrinfo ENOTFOUND dl.example.test');
    expect(await u.check()).toMatchObject({ state: 'error', currentVersion: '1.2.3', message: 'getaddrinfo ENOTFOUND dl.example.test' });
    const mismatch = Object.assign(new Error('sha512 checksum mismatch, expected AAAA==, got BBBB=='), { code: 'ERR_CHECKSUM_MISMATCH' });
    expect(describeError(mismatch, '1.3.0')).toBe(
      'The download of version 1.3.0 was refused: its sha512 checksum does not match the one the update feed publishes ' +
        '(expected AAAA==, got BBBB==). Nothing was installed; the download is tried again later.',
    );
  });

  it('hands electron-updater the same pre-release and rollout decisions as every host', async () => {
    const home = mkdtempSync(join(tmpdir(), 'hcm-desk-upd-'));
    writeFileSync(join(home, INSTALL_ID_FILE), idAt(0.3));
    const fake = new FakeUpdater();
    desktopUpdates({ currentVersion: '1.2.3', updater: fake, env: FEED, home, clock: noTimers });
    expect(fake.allowPrerelease).toBe(false);
    expect(await fake.isUpdateSupported!({ version: '1.3.0-beta.1' })).toBe(false);
    expect(await fake.isUpdateSupported!({ version: '1.3.0' })).toBe(true);
    expect(await fake.isUserWithinRollout!({ version: '1.3.0', stagingPercentage: 20 })).toBe(false);
    expect(await fake.isUserWithinRollout!({ version: '1.3.0', stagingPercentage: 40 })).toBe(true);
    expect(await fake.isUserWithinRollout!({ version: '1.3.0' })).toBe(true);
    const beta = new FakeUpdater();
    desktopUpdates({ currentVersion: '1.2.3', updater: beta, env: { ...FEED, HCM_UPDATE_PRERELEASE: '1' }, clock: noTimers });
    expect(await beta.isUpdateSupported!({ version: '1.3.0-beta.1' })).toBe(true);
  });

  it('says once that the app was updated, in every state of that run', () => {
    const home = mkdtempSync(join(tmpdir(), 'hcm-desk-upd-'));
    writeFileSync(join(home, LAST_RUN_FILE), JSON.stringify({ desktop: '1.2.3' }));
    const fake = new FakeUpdater();
    const u = desktopUpdates({ currentVersion: '1.3.0', updater: fake, env: FEED, home, clock: noTimers });
    expect(u.getState()).toMatchObject({ state: 'idle', updatedFrom: '1.2.3' });
    fake.emit('update-not-available', {});
    expect(u.getState()).toMatchObject({ state: 'up-to-date', updatedFrom: '1.2.3' });
    expect(desktopUpdates({ currentVersion: '1.3.0', updater: fake, env: FEED, home, clock: noTimers }).getState()).not.toHaveProperty(
      'updatedFrom',
    );
  });
});
