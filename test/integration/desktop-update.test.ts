import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import semver from 'semver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hcmPaths } from '../../src/core/paths.js';
import { createHcmService } from '../../src/core/service.js';
import { type DesktopHandle, startDesktop } from '../../src/main/desktop.js';
import type { UpdaterPort } from '../../src/main/updates.js';
import type { ConnectionSummary, UpdateState } from '../../src/shared/api.js';
import { type CliCommand, bridgeMarkerPath, readBridgeMarker } from '../../src/core/updates/handover-bridge.js';
import { type Forwarder, hcm, hcmEnv, startForwarder } from '../helpers/agent.js';
import { type EmulatorProcess, startEmulator, testConfig, waitFor } from '../helpers/emulator.js';
import { startConnectionLoad } from '../helpers/connection-load.js';
import { DESKTOP_FROM_CHECKOUT, fakeElectron } from '../helpers/fake-electron.js';
import { ROOT } from '../helpers/paths.js';
import { type TcpServer, startEchoServer } from '../helpers/tcp-servers.js';
import { type FeedServer, type Release, makeRelease, startFeedServer } from '../helpers/update-feed.js';

/**
 * The desktop app's in-app update, end to end without an Electron binary: startDesktop
 * (src/main/desktop.ts) with fakes of the Electron APIs, and the real electron-updater
 * (AppImageUpdater, the updater Linux AppImages use) given an app adapter instead of Electron's
 * app and a Node HTTP executor instead of Electron's net module. It reads the local feed, downloads
 * the real artifact, verifies its sha512, and hands the verified file to the installer on "Restart
 * to update"; the restart is the app quitting and starting again as the new version, whose
 * connections resume by themselves. A feed whose sha512 does not match the file is refused.
 *
 * What Electron itself would do after quitAndInstall (replace the AppImage, relaunch) is not run:
 * AppImageUpdater.doInstall is replaced by a recorder, since the real one would require('electron').
 */

const require = createRequire(import.meta.url);
const { AppImageUpdater } = require('electron-updater') as typeof import('electron-updater');
const runtime = require('builder-util-runtime') as typeof import('builder-util-runtime');

/**
 * electron-updater's requests through Node's http (Electron's net module is not there): the
 * feed, and the download, which builder-util-runtime streams through its sha512 check.
 */
class NodeExecutor extends runtime.HttpExecutor<http.ClientRequest> {
  createRequest(options: http.RequestOptions, callback: (response: http.IncomingMessage) => void): http.ClientRequest {
    return (options.protocol === 'https:' ? https.request : http.request)(options, callback);
  }

  download(url: URL, destination: string, options: import('builder-util-runtime').DownloadOptions): Promise<string> {
    return options.cancellationToken.createPromise<string>((resolve, reject, onCancel) => {
      const requestOptions: http.RequestOptions = { headers: options.headers ?? undefined };
      runtime.configureRequestUrl(url, requestOptions);
      runtime.configureRequestOptions(requestOptions);
      this.doDownload(
        requestOptions,
        { destination, options, onCancel, callback: (error) => (error ? reject(error) : resolve(destination)), responseHandler: null },
        0,
      );
    });
  }
}

const CURRENT = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const NEXT = semver.inc(CURRENT, 'minor')!;
const sha512 = (data: Buffer) => createHash('sha512').update(data).digest('base64');

interface InstallCall {
  options: { isSilent: boolean; isForceRunAfter: boolean };
  file: string | null;
}

/** A real AppImageUpdater driven through a test app adapter: packaged, its own cache, APPIMAGE set. */
function realUpdater(version: string, feedUrl: string) {
  const dir = mkdtempSync(join(tmpdir(), 'hcm-desktop-app-'));
  // What electron-builder writes into resources/app-update.yml from electron-builder.yml's publish.
  const appUpdateConfigPath = join(dir, 'app-update.yml');
  writeFileSync(appUpdateConfigPath, `provider: generic\nurl: ${feedUrl}\nchannel: latest\nupdaterCacheDirName: open-hcm-updater\n`);
  const quits: number[] = [];
  const app = {
    version,
    name: 'open-hcm',
    isPackaged: true,
    appUpdateConfigPath,
    userDataPath: join(dir, 'userData'),
    baseCachePath: join(dir, 'cache'),
    whenReady: () => Promise.resolve(),
    relaunch: () => undefined,
    quit: () => void quits.push(Date.now()),
    onQuit: () => undefined,
  };
  const updater = new AppImageUpdater(null, app);
  (updater as unknown as { httpExecutor: NodeExecutor }).httpExecutor = new NodeExecutor();
  // The running AppImage; its old blocks would feed a differential download, which this test does not cover.
  updater.disableDifferentialDownload = true;
  const installs: InstallCall[] = [];
  // The real doInstall replaces $APPIMAGE and relaunches through Electron; record what it is handed instead.
  (updater as unknown as { doInstall(o: InstallCall['options']): boolean }).doInstall = (options) => {
    installs.push({ options, file: (updater as unknown as { installerPath: string | null }).installerPath });
    return false;
  };
  return { updater, installs, cacheDir: join(dir, 'cache', 'open-hcm-updater'), quits };
}

let emu: EmulatorProcess;
let echo: TcpServer;
let feed: FeedServer;
let next: Release;
let tampered: string;
let home: string;
const previousAppImage = process.env.APPIMAGE;

beforeAll(async () => {
  echo = await startEchoServer();
  emu = await startEmulator({ config: testConfig([{ name: 'desk', endpoint: `127.0.0.1:${echo.port}` }]) });
  next = makeRelease(NEXT, { notes: 'Restart to update works.', date: '2026-05-04T08:00:00Z' });
  // The same release, but the feed names another sha512 for the AppImage.
  tampered = mkdtempSync(join(tmpdir(), 'hcm-release-tampered-'));
  cpSync(next.dir, tampered, { recursive: true });
  const yml = join(tampered, 'latest-linux.yml');
  const good = sha512(readFileSync(join(next.dir, next.appImage)));
  writeFileSync(yml, readFileSync(yml, 'utf8').replaceAll(good, sha512(Buffer.from('not the file'))));
  feed = await startFeedServer({ dir: next.dir });
  home = mkdtempSync(join(tmpdir(), 'hcm-desktop-upd-'));
  const added = await hcm({ home, env: { ...process.env, HCM_HOME: home, HCM_CA_FILE: emu.ca! } }, [
    'add',
    emu.hybridConnections.desk!.listen,
  ]);
  expect(added.code, added.stderr).toBe(0);
  const appImage = join(home, 'open-hcm-current.AppImage');
  writeFileSync(appImage, 'the running AppImage');
  process.env.APPIMAGE = appImage;
});

afterAll(async () => {
  if (previousAppImage === undefined) delete process.env.APPIMAGE;
  else process.env.APPIMAGE = previousAppImage;
  await feed?.close();
  await emu?.stop();
  await echo?.close();
});

/** The stand-in agent of an update: this checkout's CLI on this Node, for the app's configuration. */
function cliOf(appHome: string): CliCommand {
  const env: NodeJS.ProcessEnv = { ...process.env, HCM_HOME: appHome, HCM_CA_FILE: emu.ca! };
  delete env.NODE_OPTIONS;
  return { execPath: process.execPath, args: [join(ROOT, 'dist', 'cli', 'main.js')], env };
}

async function startApp(version: string, updater: UpdaterPort, appHome: string, handover?: { graceMs: number }) {
  const fake = fakeElectron({ version });
  const paths = hcmPaths({ HCM_HOME: appHome });
  const handle = (await startDesktop({
    electron: fake.electron,
    updater,
    updateOptions: {
      home: appHome,
      env: { HCM_UPDATE_URL: feed.url, HCM_UPDATE_FIRST_CHECK_MS: '50', HCM_UPDATE_RETRY_MS: '600000' },
      appImage: true,
    },
    createService: (updates, { takeover, onHandedOver }) =>
      createHcmService({ host: 'electron', paths, updates, transport: { ca: emu.caPem }, takeover, onHandedOver }),
    ...(handover ? { handoverBridge: cliOf(appHome), handoverGraceMs: handover.graceMs, handoverWaitMs: 30_000 } : {}),
    ...DESKTOP_FROM_CHECKOUT,
  }))!;
  const connected = async () => {
    const list = (await fake.ipc('listConnections')).result as ConnectionSummary[];
    return list.length === 1 && list[0]!.status === 'Connected';
  };
  return { fake, handle, connected };
}

describe('the desktop app updates itself through electron-updater', () => {
  let desktop: DesktopHandle | null = null;
  afterAll(async () => {
    await desktop?.service?.stop().catch(() => undefined);
  });

  it('downloads from the feed with progress, verifies the sha512, restarts into the new version, and every connection resumes', async () => {
    feed.serve(next.dir);
    feed.bytesPerSecond = 200 * 1024;
    const real = realUpdater(CURRENT, feed.url);
    const first = await startApp(CURRENT, real.updater, home);
    desktop = first.handle;
    await waitFor(first.connected, 20_000, 'the connection to be Connected');

    await waitFor(() => first.fake.events<UpdateState>('update').some((u) => u.state === 'ready'), 30_000, 'the update to be downloaded');
    const states = first.fake.events<UpdateState>('update');
    expect(states.map((u) => u.state).filter((s, i, all) => s !== all[i - 1])).toEqual(['checking', 'available', 'downloading', 'ready']);
    const progress = states.filter((u) => u.state === 'downloading').map((u) => (u as { percent: number }).percent);
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress.at(-1)).toBe(100);
    expect(states.at(-1)).toMatchObject({
      state: 'ready',
      currentVersion: CURRENT,
      version: NEXT,
      notes: 'Restart to update works.',
      releaseDate: '2026-05-04T08:00:00.000Z',
      howToUpdate: { kind: 'appimage', command: null },
    });
    expect(first.fake.record.notifications).toContainEqual({
      title: `Version ${NEXT} is ready`,
      body: 'Restart to update: connections resume by themselves after the restart.',
    });
    // The feed's yml and the file went through electron-updater's own HTTP requests.
    expect(feed.requests).toContain('/hcm/latest-linux.yml');
    expect(feed.requests).toContain(`/hcm/${next.appImage}`);

    // "Restart to update": the page asks, the app hands the verified download to the installer.
    const install = await first.fake.ipc('installUpdate');
    expect(install.ok, install.error).toBe(true);
    expect(real.installs).toHaveLength(1);
    expect(real.installs[0]!.options).toMatchObject({ isSilent: false, isForceRunAfter: true });
    const downloaded = readFileSync(real.installs[0]!.file!);
    expect(downloaded.equals(readFileSync(join(next.dir, next.appImage)))).toBe(true);

    // Electron then quits (relaying stops gracefully) and the new version starts.
    first.fake.app.quit();
    await waitFor(() => first.fake.record.exited, 10_000, 'the app to quit');
    desktop = null;

    feed.bytesPerSecond = 0;
    const after = realUpdater(NEXT, feed.url);
    const second = await startApp(NEXT, after.updater, home);
    desktop = second.handle;
    await waitFor(second.connected, 20_000, 'the connection to resume by itself');
    expect(second.fake.record.notifications).toContainEqual({
      title: `Updated to ${NEXT}`,
      body: `Hybrid Connection Manager was updated from ${CURRENT}. Connections resume by themselves.`,
    });
    const state = (await second.fake.ipc('getUpdateState')).result as UpdateState;
    expect(state).toMatchObject({ currentVersion: NEXT, updatedFrom: CURRENT });
    await waitFor(
      () => second.fake.events<UpdateState>('update').some((u) => u.state === 'up-to-date'),
      20_000,
      'the check after the restart',
    );
    expect(second.fake.events<UpdateState>('update').at(-1)).toMatchObject({
      state: 'up-to-date',
      currentVersion: NEXT,
      updatedFrom: CURRENT,
    });
    await desktop.service!.stop();
    desktop = null;
  });

  it('refuses a download whose sha512 does not match the feed, says so, installs nothing and keeps relaying', async () => {
    feed.serve(tampered);
    const appHome = mkdtempSync(join(tmpdir(), 'hcm-desktop-upd-'));
    cpSync(join(home, 'config.json'), join(appHome, 'config.json'));
    cpSync(join(home, 'secrets.json'), join(appHome, 'secrets.json'));
    const real = realUpdater(CURRENT, feed.url);
    const app = await startApp(CURRENT, real.updater, appHome);
    desktop = app.handle;
    await waitFor(() => app.fake.events<UpdateState>('update').some((u) => u.state === 'error'), 30_000, 'the refusal');
    const refused = app.fake.events<UpdateState>('update').at(-1) as Extract<UpdateState, { state: 'error' }>;
    expect(refused.message).toMatch(
      new RegExp(
        `^The download of version ${NEXT.replaceAll('.', '\\.')} was refused: its sha512 checksum does not match the one the update feed publishes \\(expected .+, got .+\\)\\. Nothing was installed; the download is tried again later\\.$`,
      ),
    );
    expect(refused.retryAt).toEqual(expect.any(String));
    expect(app.fake.events<UpdateState>('update').some((u) => u.state === 'ready')).toBe(false);
    // Nothing to restart into: the page's action is refused, and no verified file waits in the cache.
    const install = await app.fake.ipc('installUpdate');
    expect(install).toMatchObject({ ok: false, error: expect.stringMatching(/no downloaded update/) });
    expect(real.installs).toEqual([]);
    const cached = existsSync(real.cacheDir) ? readdirSync(real.cacheDir, { recursive: true }).map(String) : [];
    expect(cached.filter((f) => f.endsWith('.AppImage'))).toEqual([]);
    // Relaying never noticed.
    await waitFor(app.connected, 20_000, 'the connection to stay Connected');
    expect(app.fake.record.notifications.map((n) => n.title)).not.toContain(`Version ${NEXT} is ready`);
    await desktop.service!.stop();
    desktop = null;
  });
  it('keeps every connection up through "Restart to update": a stand-in agent holds them and the new version takes them back', async () => {
    feed.serve(next.dir);
    const appHome = mkdtempSync(join(tmpdir(), 'hcm-desktop-upd-'));
    cpSync(join(home, 'config.json'), join(appHome, 'config.json'));
    cpSync(join(home, 'secrets.json'), join(appHome, 'secrets.json'));
    const client = hcmEnv(emu.ca);
    let forwarder: Forwarder | undefined;
    let standInPid = 0;
    try {
      const real = realUpdater(CURRENT, feed.url);
      const first = await startApp(CURRENT, real.updater, appHome, { graceMs: 10_000 });
      desktop = first.handle;
      await waitFor(first.connected, 20_000, 'the connection to be Connected');
      await waitFor(() => first.fake.events<UpdateState>('update').some((u) => u.state === 'ready'), 30_000, 'the update to be downloaded');
      forwarder = await startForwarder(client, emu.hybridConnections.desk!.send);
      // Held connections last 2 s, well inside the app's 10 s to let them finish.
      const load = startConnectionLoad(forwarder.port, { short: 2, held: 3, holdMs: 2_000 });
      await new Promise((r) => setTimeout(r, 1_000));

      // "Restart to update" returns once the stand-in serves the connections and the app's own finished.
      const install = await first.fake.ipc('installUpdate');
      expect(install.ok, install.error).toBe(true);
      expect(real.installs).toHaveLength(1);
      const marker = readBridgeMarker(appHome);
      expect(marker).toMatchObject({ fromVersion: CURRENT, pid: expect.any(Number) });
      standInPid = marker!.pid;
      first.fake.app.quit();
      await waitFor(() => first.fake.record.exited, 15_000, 'the app to quit');
      desktop = null;
      await new Promise((r) => setTimeout(r, 1_500)); // the installer's time: only the stand-in serves

      // The new version takes the connections back; the stand-in drains and exits.
      const second = await startApp(NEXT, realUpdater(NEXT, feed.url).updater, appHome, { graceMs: 10_000 });
      desktop = second.handle;
      expect(second.handle.service).not.toBeNull();
      await waitFor(second.connected, 20_000, 'the connection to be Connected in the new version');
      await waitFor(() => !alive(standInPid), 30_000, 'the stand-in agent to exit');
      expect(existsSync(bridgeMarkerPath(appHome))).toBe(false);
      await new Promise((r) => setTimeout(r, 1_000));
      const { opened, held, failures } = await load.stop();
      console.log(`restart to update with a stand-in: ${opened} short and ${held} held connections, ${failures.length} failed`);
      expect(failures, failures.slice(0, 10).join('\n')).toEqual([]);
      expect(opened).toBeGreaterThan(20);
      expect(held).toBeGreaterThan(3);
      // The stand-in's own log: it took over from the app, then handed back and exited.
      const standInLog = readdirSync(join(appHome, 'logs'))
        .map((f) => readFileSync(join(appHome, 'logs', f), 'utf8'))
        .join('');
      expect(standInLog).toContain(`took over from agent pid ${process.pid}`);
      expect(standInLog).toContain('handed over: this agent exits');
      await desktop.service!.stop();
      desktop = null;
    } finally {
      if (standInPid && alive(standInPid)) process.kill(standInPid, 'SIGKILL');
      await forwarder?.stop();
    }
  }, 180_000);
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
