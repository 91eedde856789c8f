import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { desktopUpdates } from '../../src/main/updates.js';
import type { UpdateState } from '../../src/shared/api.js';

/** electron-updater's events as the contract's UpdateState, with a fake updater. */

class FakeUpdater extends EventEmitter {
  autoDownload = false;
  autoInstallOnAppQuit = false;
  checks = 0;
  installs: unknown[][] = [];
  fail: Error | null = null;
  async checkForUpdates() {
    this.checks++;
    if (this.fail) throw this.fail;
    this.emit('checking-for-update');
  }
  quitAndInstall(...args: unknown[]) {
    this.installs.push(args);
  }
}

describe('desktopUpdates', () => {
  it('says plainly when this run cannot update itself', async () => {
    const u = desktopUpdates('1.2.3', null, 'this is a development run');
    expect(u.getState()).toEqual({ state: 'unsupported', currentVersion: '1.2.3', reason: 'this is a development run' });
    expect(await u.check()).toEqual(u.getState());
    await expect(u.install()).rejects.toThrow(/no downloaded update/);
  });

  it('follows the updater from check to download to ready, and installs only then', async () => {
    const fake = new FakeUpdater();
    const u = desktopUpdates('1.2.3', fake);
    const seen: UpdateState[] = [];
    u.onChange((s) => seen.push(s));
    expect(fake.autoDownload).toBe(true);
    expect(u.getState()).toEqual({ state: 'idle', currentVersion: '1.2.3' });
    await expect(u.install()).rejects.toThrow();
    await u.check();
    fake.emit('update-available', { version: '1.3.0', releaseNotes: 'fixes' });
    fake.emit('download-progress', { percent: 42.5 });
    fake.emit('update-downloaded', { version: '1.3.0' });
    expect(seen.map((s) => s.state)).toEqual(['checking', 'available', 'downloading', 'ready']);
    expect(seen[1]).toEqual({ state: 'available', currentVersion: '1.2.3', version: '1.3.0', notes: 'fixes' });
    expect(seen[2]).toEqual({ state: 'downloading', currentVersion: '1.2.3', version: '1.3.0', percent: 42.5 });
    await u.install();
    expect(fake.installs).toEqual([[false, true]]);
  });

  it('reports up to date and errors', async () => {
    const fake = new FakeUpdater();
    const u = desktopUpdates('1.2.3', fake);
    fake.emit('update-not-available', {});
    expect(u.getState()).toMatchObject({ state: 'up-to-date', currentVersion: '1.2.3' });
    fake.fail = new Error('getaddrinfo ENOTFOUND updates.example.invalid');
    expect(await u.check()).toEqual({ state: 'error', currentVersion: '1.2.3', message: 'getaddrinfo ENOTFOUND updates.example.invalid' });
  });
});
