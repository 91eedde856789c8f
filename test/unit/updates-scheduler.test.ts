import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { feedUpdates } from '../../src/core/updates/feed-updates.js';
import { INSTALL_ID_FILE } from '../../src/core/updates/local-state.js';
import { type SchedulerClock, UpdateScheduler } from '../../src/core/updates/scheduler.js';
import type { UpdateState } from '../../src/shared/api.js';
import { type FeedServer, idAt, makeRelease, startFeedServer } from '../helpers/update-feed.js';

/** When checks run (on a fake clock), and the command-line hosts' provider against a real local feed. */

const HOUR = 3600_000;

class FakeClock implements SchedulerClock {
  t = 1_000_000;
  rand = 0.5;
  timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private next = 1;
  now = () => this.t;
  random = () => this.rand;
  setTimeout = (fn: () => void, ms: number) => {
    const id = this.next++;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  };
  clearTimeout = (id: unknown) => {
    this.timers = this.timers.filter((x) => x.id !== id);
  };
  /** Moves time on, running what falls due, and lets the checks' promises settle. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = due.at;
      due.fn();
      await settle();
    }
    this.t = end;
    await settle();
  }
}

const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

describe('UpdateScheduler', () => {
  it('checks shortly after start, then about every 12 hours', async () => {
    const clock = new FakeClock();
    const runs: number[] = [];
    const s = new UpdateScheduler(
      async () => {
        runs.push(clock.now());
        return true;
      },
      { firstDelayMs: 3000, retryDelayMs: 15 * 60_000, clock },
    );
    const t0 = clock.now();
    s.start();
    // 3 s plus up to as much again (random 0.5 → 1.5 s).
    expect(s.nextAt()).toBe(t0 + 4500);
    await clock.advance(4500);
    expect(runs).toEqual([t0 + 4500]);
    // 12 h ± 1 h: random 0.5 → exactly 12 h; 0 → 11 h; 0.999 → ~13 h.
    expect(s.nextAt()).toBe(t0 + 4500 + 12 * HOUR);
    clock.rand = 0;
    await clock.advance(12 * HOUR);
    expect(runs).toHaveLength(2);
    expect(s.nextAt()! - clock.now()).toBe(11 * HOUR);
    clock.rand = 0.999;
    await clock.advance(11 * HOUR);
    expect(s.nextAt()! - clock.now()).toBeGreaterThan(12.99 * HOUR);
    s.stop();
    expect(s.nextAt()).toBeNull();
    expect(clock.timers).toHaveLength(0);
  });

  it('retries a failed check quietly: 15 min, doubling, never beyond the regular interval', async () => {
    const clock = new FakeClock();
    let ok = false;
    const s = new UpdateScheduler(async () => ok, { firstDelayMs: 1000, retryDelayMs: 15 * 60_000, clock });
    s.start();
    await clock.advance(1500);
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      delays.push(s.nextAt()! - clock.now());
      await clock.advance(s.nextAt()! - clock.now());
    }
    expect(delays.slice(0, 4)).toEqual([15 * 60_000, 30 * 60_000, 60 * 60_000, 120 * 60_000]);
    expect(Math.max(...delays)).toBe(12 * HOUR);
    ok = true;
    await clock.advance(s.nextAt()! - clock.now());
    expect(s.nextAt()! - clock.now()).toBe(12 * HOUR);
    s.stop();
  });

  it('lets an explicit check join one that runs, and plans the next from it', async () => {
    const clock = new FakeClock();
    let release!: (ok: boolean) => void;
    let calls = 0;
    const s = new UpdateScheduler(
      () => {
        calls++;
        return new Promise<boolean>((r) => (release = r));
      },
      { firstDelayMs: 1000, retryDelayMs: 60_000, clock },
    );
    s.start();
    const a = s.checkNow(true);
    const b = s.checkNow(true);
    expect(calls).toBe(1);
    expect(s.nextAt()).toBeNull();
    release(true);
    expect(await a).toBe(true);
    expect(await b).toBe(true);
    expect(s.nextAt()! - clock.now()).toBe(12 * HOUR);
    s.stop();
  });

  it('survives a check that throws', async () => {
    const clock = new FakeClock();
    const s = new UpdateScheduler(
      () => {
        return Promise.reject(new Error('boom'));
      },
      { firstDelayMs: 1000, retryDelayMs: 60_000, clock },
    );
    s.start();
    expect(await s.checkNow()).toBe(false);
    expect(s.nextAt()! - clock.now()).toBe(60_000);
    s.stop();
  });
});

describe('feedUpdates (hcm run, hcm ui) against a local feed', () => {
  let feed: FeedServer;
  let current: string;
  let next: string;
  let staged: string;
  beforeAll(async () => {
    current = makeRelease('0.1.0').dir;
    next = makeRelease('0.2.0', { notes: 'Reconnects faster.', date: '2026-05-04T08:00:00Z' }).dir;
    staged = makeRelease('0.2.0', { staging: 10 }).dir;
    feed = await startFeedServer({ dir: current });
  });
  afterAll(async () => {
    await feed?.close();
  });

  const home = (id?: string) => {
    const h = mkdtempSync(join(tmpdir(), 'hcm-upd-home-'));
    if (id) writeFileSync(join(h, INSTALL_ID_FILE), id);
    return h;
  };
  const install = { kind: 'npm-global' as const, root: '/usr/lib/node_modules/open-hcm', platform: 'linux' as const, arch: 'x64' };

  it('follows the feed: up to date, then an update with its notes, date and command', async () => {
    feed.serve(current);
    const clock = new FakeClock();
    const u = feedUpdates({
      currentVersion: '0.1.0',
      home: home(),
      savedSettings: undefined,
      env: { HCM_UPDATE_URL: feed.url },
      install,
      clock,
    });
    const seen: UpdateState[] = [];
    u.onChange((s) => seen.push(s));
    expect(u.getState()).toMatchObject({ state: 'idle', howToUpdate: { kind: 'npm-global', command: 'npm install -g open-hcm@latest' } });
    u.start();
    await clock.advance(6000);
    await waitUntil(() => u.getState().state === 'up-to-date');
    expect(seen.map((s) => s.state)).toEqual(['checking', 'up-to-date']);

    feed.serve(next);
    await clock.advance(13 * HOUR);
    await waitUntil(() => u.getState().state === 'available');
    expect(u.getState()).toEqual({
      state: 'available',
      currentVersion: '0.1.0',
      version: '0.2.0',
      notes: 'Reconnects faster.',
      releaseDate: '2026-05-04T08:00:00.000Z',
      checkedAt: expect.any(String),
      howToUpdate: {
        kind: 'npm-global',
        command: `npm install -g ${feed.url}open-hcm-0.2.0.tgz`,
        description: expect.stringMatching(/npm install -g/),
      },
    });
    // A background check never shows "checking" (the banner must not flicker).
    expect(seen.map((s) => s.state)).toEqual(['checking', 'up-to-date', 'available']);
    await expect(u.install()).rejects.toThrow(`Run: npm install -g ${feed.url}open-hcm-0.2.0.tgz`);
    u.stop();
  });

  it('leaves an install outside a staged rollout up to date, and takes one inside', async () => {
    feed.serve(staged);
    // Two installs that differ only in their install id, which places them in the rollout or not.
    const withIdAt = (fraction: number) =>
      feedUpdates({
        currentVersion: '0.1.0',
        home: home(idAt(fraction)),
        savedSettings: undefined,
        env: { HCM_UPDATE_URL: feed.url },
        install,
      });
    expect(await withIdAt(0.5).check()).toMatchObject({ state: 'up-to-date' });
    expect(await withIdAt(0.05).check()).toMatchObject({ state: 'available', version: '0.2.0' });
  });

  it('says what failed when the feed is garbage or down, retries quietly, and recovers', async () => {
    feed.serve(next);
    feed.mode = 'garbage';
    const clock = new FakeClock();
    const logs: string[] = [];
    const u = feedUpdates({
      currentVersion: '0.1.0',
      home: home(),
      savedSettings: { url: feed.url },
      env: { HCM_UPDATE_RETRY_MS: '60000' },
      install,
      clock,
      log: (level, m) => logs.push(`${level} ${m}`),
    });
    u.start();
    await clock.advance(6000);
    await waitUntil(() => u.getState().state === 'error' && 'retryAt' in u.getState());
    const failed = u.getState() as Extract<UpdateState, { state: 'error' }>;
    expect(failed.message).toMatch(/latest-linux\.yml is not (valid YAML|an update feed)/);
    // Retried after HCM_UPDATE_RETRY_MS (± 20 %, here exactly: random is 0.5), counted from the failure.
    expect(Date.parse(failed.retryAt!) - clock.now()).toBeGreaterThan(55_000);
    expect(Date.parse(failed.retryAt!) - clock.now()).toBeLessThanOrEqual(60_000);
    feed.mode = 'error';
    await clock.advance(60_000);
    await waitUntil(() => (u.getState() as { message?: string }).message?.includes('HTTP 500') === true);
    // One line at info when checks start failing; the retries are quiet (debug) until one works.
    expect(logs.filter((l) => l.startsWith('info update check failed'))).toHaveLength(1);
    expect(logs.filter((l) => l.startsWith('debug update check failed')).length).toBeGreaterThanOrEqual(1);
    feed.mode = 'serve';
    await clock.advance(120_000);
    await waitUntil(() => u.getState().state === 'available');
    expect(logs).toContain('info update check works again');
    u.stop();
  });

  it('does nothing at all when checks are off', async () => {
    const before = feed.requests.length;
    const clock = new FakeClock();
    const u = feedUpdates({
      currentVersion: '0.1.0',
      home: home(),
      savedSettings: { url: feed.url, check: false },
      env: {},
      install,
      clock,
    });
    u.start();
    await clock.advance(24 * HOUR);
    expect(await u.check()).toMatchObject({ state: 'unsupported', reason: expect.stringMatching(/turned off/) });
    expect(clock.timers).toHaveLength(0);
    expect(feed.requests.length).toBe(before);
  });
});

async function waitUntil(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
