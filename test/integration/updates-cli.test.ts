import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import semver from 'semver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hcmPaths } from '../../src/core/paths.js';
import { INSTALL_ID_FILE } from '../../src/core/updates/local-state.js';
import { connectRunningAgent } from '../../src/core/running-agent.js';
import type { UpdateState } from '../../src/shared/api.js';
import { type HcmEnv, type RunningProcess, hcm, hcmEnv, startAgent, startForwarder } from '../helpers/agent.js';
import { type EmulatorProcess, startEmulator, testConfig, waitFor } from '../helpers/emulator.js';
import { ROOT } from '../helpers/paths.js';
import { type TcpServer, startEchoServer } from '../helpers/tcp-servers.js';
import { echoText } from '../helpers/tunnel.js';
import { type FeedServer, type Release, idAt, makeRelease, startFeedServer } from '../helpers/update-feed.js';

/**
 * Update checks of the command-line hosts against a local HTTPS feed with real yml files (written
 * by `npm run release:feed`) and real artifacts: `hcm version`, `hcm update --check` (0 / 10 / 1),
 * a staged rollout, a feed that is down or answers garbage, checks turned off, and `hcm run`,
 * whose relaying must not notice any of it.
 */

const CURRENT = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const NEXT = semver.inc(CURRENT, 'minor')!;
const NOTES = 'Reconnects faster after a network change.\nhcm update tells how to update.';

let emu: EmulatorProcess;
let echo: TcpServer;
let feed: FeedServer;
let same: Release;
let next: Release;
let staged: Release;
const agents: RunningProcess[] = [];

beforeAll(async () => {
  echo = await startEchoServer();
  emu = await startEmulator({ config: testConfig([{ name: 'orders', endpoint: `127.0.0.1:${echo.port}` }]) });
  same = makeRelease(CURRENT);
  next = makeRelease(NEXT, { notes: NOTES, date: '2026-05-04T08:00:00Z' });
  staged = makeRelease(NEXT, { staging: 30 });
  // HTTPS with the emulator's CA: the agent trusts it through HCM_CA_FILE, as it trusts the relay.
  feed = await startFeedServer({ dir: same.dir, https: true, caDir: emu.stateDir });
});

afterAll(async () => {
  for (const a of agents) await a.stop('SIGKILL');
  await feed?.close();
  await emu?.stop();
  await echo?.close();
});

const env = (extra: NodeJS.ProcessEnv = {}): HcmEnv => hcmEnv(emu.ca, { HCM_UPDATE_URL: feed.url, ...extra });
const feedFile = () => `/hcm/latest-linux.yml`;

describe('hcm version and hcm update against the feed', () => {
  it('no update: exit 0, and hcm version says this is the latest version', async () => {
    feed.mode = 'serve';
    feed.serve(same.dir);
    const e = env();
    const check = await hcm(e, ['update', '--check']);
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toContain(`open-hcm ${CURRENT} is the latest version.`);
    expect(check.stdout).toContain(`Checked ${feed.url}latest-linux.yml`);
    const version = await hcm(e, ['version']);
    expect(version.code).toBe(0);
    expect(version.stdout).toContain('update: this is the latest version\n');
  });

  it('an update: exit 10 with the release notes and the exact command; hcm version says it too', async () => {
    feed.serve(next.dir);
    const e = env();
    const check = await hcm(e, ['update', '--check']);
    expect(check.code, check.stderr).toBe(10);
    // Tests run from a git checkout: that is how this install is updated.
    const command = `git -C ${ROOT.replace(/\/$/, '')} pull && npm --prefix ${ROOT.replace(/\/$/, '')} ci && npm --prefix ${ROOT.replace(/\/$/, '')} run build`;
    expect(check.stdout).toBe(
      [
        `open-hcm ${CURRENT}: version ${NEXT} is available (released 2026-05-04).`,
        `Update with: ${command}`,
        `Run from a git checkout (${ROOT.replace(/\/$/, '')}): pull, install and build, then restart it.`,
        '',
        'Release notes:',
        '  Reconnects faster after a network change.',
        '  hcm update tells how to update.',
        '',
      ].join('\n'),
    );
    // Without --check the same words, and exit 0 (nothing went wrong).
    expect((await hcm(e, ['update'])).code).toBe(0);
    const version = await hcm(e, ['version']);
    expect(version.code).toBe(0);
    expect(version.stdout).toContain(`update: ${NEXT} is available (released 2026-05-04); update with: ${command}\n`);
    const json = JSON.parse((await hcm(e, ['version', '--json'])).stdout) as { update: UpdateState };
    expect(json.update).toMatchObject({
      state: 'available',
      currentVersion: CURRENT,
      version: NEXT,
      notes: NOTES,
      releaseDate: '2026-05-04T08:00:00.000Z',
      howToUpdate: { kind: 'source', command },
    });
  });

  it('a staged rollout: an install outside it is up to date (exit 0), one inside gets it (exit 10)', async () => {
    feed.serve(staged.dir);
    const outside = env();
    writeFileSync(join(outside.home, INSTALL_ID_FILE), idAt(0.8));
    const out = await hcm(outside, ['update', '--check']);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain(`is the latest version (${NEXT} is being rolled out to 30% of installs, not yet to this one).`);
    const inside = env();
    writeFileSync(join(inside.home, INSTALL_ID_FILE), idAt(0.2));
    expect((await hcm(inside, ['update', '--check'])).code).toBe(10);
    // The id is this install's: a new one is made once and kept.
    const fresh = env();
    await hcm(fresh, ['version']);
    const id = readFileSync(join(fresh.home, INSTALL_ID_FILE), 'utf8').trim();
    await hcm(fresh, ['update', '--check']);
    expect(readFileSync(join(fresh.home, INSTALL_ID_FILE), 'utf8').trim()).toBe(id);
  });

  it('a feed answering garbage or HTML: exit 1 with the reason; hcm version still exits 0', async () => {
    const e = env();
    for (const [mode, reason] of [
      ['garbage', /not (valid YAML|an update feed)/],
      ['html', /is not an update feed \(expected "version" and "files", got "<html>/],
      ['error', /answered HTTP 500/],
    ] as const) {
      feed.mode = mode;
      const check = await hcm(e, ['update', '--check']);
      expect(check.code, mode).toBe(1);
      expect(check.stderr).toMatch(/^hcm: update check failed: /);
      expect(check.stderr).toMatch(reason);
      const version = await hcm(e, ['version']);
      expect(version.code, mode).toBe(0);
      expect(version.stdout).toMatch(/update: could not check \(/);
    }
    feed.mode = 'serve';
  });

  it('a feed that is down: refused at once, or silent (hcm version gives up after a few seconds)', async () => {
    const closed = await freePort();
    const refused = await hcm(env({ HCM_UPDATE_URL: `http://127.0.0.1:${closed}/hcm/` }), ['update', '--check']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /cannot read http:\/\/127\.0\.0\.1:\d+\/hcm\/latest-linux\.yml \(127\.0\.0\.1:\d+: connection refused\)/,
    );
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const started = Date.now();
      const version = await hcm(env({ HCM_UPDATE_URL: `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}/` }), ['version']);
      expect(version.code).toBe(0);
      expect(version.stdout).toMatch(/update: could not check \(.* did not answer within 3 s\)/);
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      silent.close();
    }
  });

  it('checks turned off (environment or config.json): nothing is asked of the feed', async () => {
    const before = feed.requests.length;
    const off = env({ HCM_UPDATE_CHECK: 'off' });
    const version = await hcm(off, ['version']);
    expect(version.code).toBe(0);
    expect(version.stdout).toContain('update: not checked; update checks are turned off (HCM_UPDATE_CHECK=off).');
    const check = await hcm(off, ['update', '--check']);
    expect(check.code).toBe(1);
    expect(check.stderr).toBe('hcm: Update checks are turned off (HCM_UPDATE_CHECK=off).\n');
    const setting = env();
    writeFileSync(
      join(setting.home, 'config.json'),
      JSON.stringify({ schemaVersion: 1, settings: { updates: { check: false } }, connections: [] }),
    );
    expect((await hcm(setting, ['version'])).stdout).toContain('settings.updates.check is false in config.json');
    expect(feed.requests.length).toBe(before);
  });
});

describe('hcm run: update checks never touch relaying', () => {
  it('retries a garbage feed quietly while relaying, then shows the update to every face when the feed recovers', async () => {
    feed.serve(next.dir);
    feed.mode = 'garbage';
    const e = env({ HCM_UPDATE_FIRST_CHECK_MS: '100', HCM_UPDATE_RETRY_MS: '400' });
    expect((await hcm(e, ['add', emu.hybridConnections.orders!.listen])).code).toBe(0);
    const before = feed.requests.length;
    const agent = await startAgent(e, { waitConnected: 1 });
    agents.push(agent);
    const fwd = await startForwarder(e, emu.hybridConnections.orders!.send);
    agents.push(fwd);

    // Several failed checks (retried after 0.4 s, 0.8 s, …) while bytes flow through the tunnel.
    await waitFor(() => feed.requests.slice(before).filter((p) => p === feedFile()).length >= 3, 20_000, 'three update checks');
    for (let i = 0; i < 3; i++) expect(await echoText(fwd.port, `ping ${i}`)).toBe(`ping ${i}`);
    expect(agent.proc.exitCode).toBeNull();
    // One line at info for the reason; the repeats are quiet (debug).
    expect(agent.output().match(/update check failed/g)).toHaveLength(1);
    expect(agent.output()).toMatch(
      /update check failed: .*(not valid YAML|not an update feed).* \(relaying is not affected; trying again later\)/,
    );

    const running = await connectRunningAgent({ socketPath: hcmPaths({ HCM_HOME: e.home }).controlSocket, events: true });
    expect(running).not.toBeNull();
    try {
      const failed = await running!.host.getUpdateState();
      expect(failed).toMatchObject({ state: 'error', currentVersion: CURRENT, message: expect.stringMatching(/latest-linux\.yml/) });
      const events: UpdateState[] = [];
      running!.host.on('update', (u) => events.push(u));

      feed.mode = 'serve';
      await waitFor(() => events.some((u) => u.state === 'available'), 20_000, 'the update event');
      expect(await running!.host.getUpdateState()).toMatchObject({
        state: 'available',
        version: NEXT,
        notes: NOTES,
        howToUpdate: { kind: 'source', command: expect.stringContaining('git -C') },
      });
      // Only a desktop app installs by itself; here installUpdate says how.
      await expect(running!.host.installUpdate()).rejects.toThrow(/cannot install updates itself.*Run: git -C/);
    } finally {
      running!.close();
    }
    expect(agent.output()).toContain('update check works again');
    expect(agent.output()).toContain(`version ${NEXT} is available (this is ${CURRENT}); update with: git -C`);
    expect(await echoText(fwd.port, 'still relaying')).toBe('still relaying');
    await fwd.stop();
    expect(await agent.stop()).toBe(0);
  });

  it('with checks off, the agent never asks the feed', async () => {
    feed.mode = 'serve';
    // A feed path of its own, so requests of any other process cannot be counted here.
    const e = env({ HCM_UPDATE_CHECK: 'off', HCM_UPDATE_FIRST_CHECK_MS: '50', HCM_UPDATE_URL: `${feed.url}off/` });
    const asked = () => feed.requests.filter((p) => p.startsWith('/hcm/off/')).length;
    const agent = await startAgent(e);
    agents.push(agent);
    const running = await connectRunningAgent({ socketPath: hcmPaths({ HCM_HOME: e.home }).controlSocket });
    try {
      expect(await running!.host.getUpdateState()).toMatchObject({
        state: 'unsupported',
        reason: 'Update checks are turned off (HCM_UPDATE_CHECK=off).',
      });
      expect(await running!.host.checkForUpdates()).toMatchObject({ state: 'unsupported' });
    } finally {
      running!.close();
    }
    await new Promise((r) => setTimeout(r, 1500));
    expect(asked()).toBe(0);
    expect(await agent.stop()).toBe(0);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
