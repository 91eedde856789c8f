import { HCM_METHODS } from '../../src/shared/api.js';
import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hcmPaths } from '../../src/core/paths.js';
import { connectRunningAgent } from '../../src/core/running-agent.js';
import { createHcmService } from '../../src/core/service.js';
import { type DesktopHandle, startDesktop } from '../../src/main/desktop.js';
import type { ConnectionSummary } from '../../src/shared/api.js';
import { type HcmEnv, hcm, startAgent, startHcm } from '../helpers/agent.js';
import { type EmulatorProcess, startEmulator, testConfig, waitFor } from '../helpers/emulator.js';
import { DESKTOP_FROM_CHECKOUT, type FakeElectron, fakeElectron, preventable } from '../helpers/fake-electron.js';
import { type TcpServer, startEchoServer } from '../helpers/tcp-servers.js';

/**
 * The desktop app's wiring (src/main/desktop.ts) with a fake of the Electron APIs it uses, and
 * everything else real: the HCM service with its relay engine and control socket, the relay
 * emulator, and the `hcm` CLI talking to the running app.
 */

const ASSETS = fileURLToPath(new URL('../../assets/', import.meta.url));

describe('a second instance', () => {
  it('quits at once and leaves the relay to the first', async () => {
    const { electron, record } = fakeElectron({ isPackaged: false, lock: false });
    let created = 0;
    const handle = await startDesktop({
      electron,
      updater: null,
      createService: () => {
        created++;
        throw new Error('must not be created');
      },
      preloadPath: '/p.cjs',
      rendererDir: '/r',
      iconDir: ASSETS,
      platform: 'linux',
    });
    expect(handle).toBeNull();
    expect(record.quitCalls).toBe(1);
    expect(created).toBe(0);
    expect(record.windows).toHaveLength(0);
  });
});

describe('the desktop app', () => {
  let emu: EmulatorProcess;
  let echo: TcpServer;
  let home: string;
  let cli: HcmEnv;
  let fake: FakeElectron;
  let desktop: DesktopHandle;
  const config = testConfig([{ name: 'desk' }]);

  const ipc = (method: string, ...args: unknown[]) => fake.ipc(method, ...args);
  const tray = () => fake.record.trays[0]!;

  beforeAll(async () => {
    echo = await startEchoServer();
    config.namespaces[0]!.hybridConnections[0]!.endpoint = `127.0.0.1:${echo.port}`;
    emu = await startEmulator({ config });
    home = mkdtempSync(join(tmpdir(), 'hcm-desktop-'));
    cli = { home, env: { ...process.env, HCM_HOME: home, HCM_CA_FILE: emu.ca! } };
    fake = fakeElectron({ isPackaged: false });
    const paths = hcmPaths({ HCM_HOME: home });
    const handle = await startDesktop({
      electron: fake.electron,
      updater: null,
      createService: (updates, { systemProxy }) =>
        createHcmService({ host: 'electron', paths, updates, transport: { ca: emu.caPem }, systemProxy }),
      // The OS's proxy (Electron's session): used where no setting or HTTPS_PROXY names one; the
      // emulator's <namespace>.localhost hosts are exempt from it like every loopback name.
      systemProxy: async () => 'http://system-proxy.invalid:3128',
      ...DESKTOP_FROM_CHECKOUT,
    });
    desktop = handle!;
  });
  afterAll(async () => {
    await desktop?.service?.stop().catch(() => undefined);
    await emu?.stop();
    await echo?.close();
  });

  it('opens one sandboxed window on app://hcm with the preload, a tray, a menu with Quit', () => {
    expect(fake.record.schemes).toEqual([expect.objectContaining({ scheme: 'app' })]);
    expect([...fake.record.protocols.keys()]).toEqual(['app']);
    expect(fake.record.windows).toHaveLength(1);
    const win = fake.record.windows[0]!;
    expect(win.url).toBe('app://hcm/index.html');
    expect(win.options.webPreferences).toMatchObject({
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      preload: '/app/dist/main/preload.cjs',
    });
    expect(fake.record.handlers.size).toBe(HCM_METHODS.length);
    expect(tray().image).toBe(join(ASSETS, 'tray-empty.png'));
    expect(tray().tooltip).toBe('Hybrid Connection Manager: No connections');
    const items = fake.record.appMenu!.template.flatMap((m) => m.submenu ?? []);
    expect(items.some((i) => i.label?.startsWith('Quit'))).toBe(true);
  });

  it("takes the system's proxy settings where nothing else names a proxy", async () => {
    expect((await ipc('getProxy')).result).toMatchObject({
      source: 'system',
      description: "http://system-proxy.invalid:3128 (the system's proxy settings)",
    });
  });

  it('serves the built renderer through app://', async () => {
    const res = await fake.record.protocols.get('app')!(new Request('app://hcm/index.html'));
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<div id="root">');
  });

  it('answers the window over IPC, and only the window', async () => {
    const info = await ipc('getAppInfo');
    expect(info).toMatchObject({ ok: true, result: { host: 'electron', configDir: home } });
    const stranger = await fake.record.handlers.get('hcm:listConnections')!({
      sender: { other: true },
      senderFrame: { url: 'app://hcm/index.html', parent: null },
    });
    expect(stranger).toMatchObject({ ok: false, code: 'E_REFUSED' });
  });

  it('adds a connection from the window, goes Connected, and tells the tray and the window', async () => {
    const added = await ipc('addConnection', { connectionString: emu.hybridConnections.desk!.listen });
    expect(added).toMatchObject({ ok: true, result: { name: 'desk', endpoint: `127.0.0.1:${echo.port}` } });
    await waitFor(() => tray().tooltip === 'Hybrid Connection Manager: Connected', 20_000, 'tray to say Connected');
    expect(tray().image).toBe(join(ASSETS, 'tray-connected.png'));
    const pushed = fake.record.windows[0]!.webContents.sent.filter(([ch]) => ch === 'hcm:event:connections');
    expect((pushed.at(-1)![1] as ConnectionSummary[])[0]).toMatchObject({ name: 'desk', status: 'Connected' });
    // The first connect is not news.
    expect(fake.record.notifications).toEqual([]);
  });

  it('answers the CLI on the local control socket like hcm run', async () => {
    const r = await hcm(cli, ['list', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const listed = JSON.parse(r.stdout) as { live?: boolean; connections: ConnectionSummary[] };
    expect(listed.connections).toEqual([expect.objectContaining({ name: 'desk', status: 'Connected' })]);
  });

  it('notifies when the relay goes away and when the connection comes back', async () => {
    const { port, stateDir } = emu;
    await emu.stop();
    await waitFor(() => fake.record.notifications.some((n) => n.title === 'desk lost its relay connection'), 30_000, 'a down notification');
    expect(tray().image).not.toBe(join(ASSETS, 'tray-connected.png'));
    emu = await startEmulator({ config, port, stateDir });
    await waitFor(() => fake.record.notifications.some((n) => n.title === 'desk is connected again'), 45_000, 'a back notification');
    expect(tray().tooltip).toBe('Hybrid Connection Manager: Connected');
  });

  it('hides the window on close and keeps relaying, saying so once', async () => {
    const win = fake.record.windows[0]!;
    win.show();
    const close = preventable();
    win.emit('close', close);
    expect(close.prevented).toBe(true);
    expect(win.visible).toBe(false);
    expect(fake.record.notifications.filter((n) => n.title.includes('still running'))).toHaveLength(1);
    expect((await ipc('listConnections')).result).toEqual([expect.objectContaining({ status: 'Connected' })]);
    (fake.electron.app as unknown as EventEmitter).emit('second-instance');
    expect(win.visible).toBe(true);
  });

  it('quits from the menu: stops the relay and the control socket first, then closes', async () => {
    const socket = hcmPaths({ HCM_HOME: home }).controlSocket;
    expect(existsSync(socket)).toBe(true);
    const quit = fake.record.appMenu!.template.flatMap((m) => m.submenu ?? []).find((i) => i.label?.startsWith('Quit'))!;
    quit.click!();
    await waitFor(() => fake.record.exited, 10_000, 'the app to exit');
    expect(fake.record.quitCalls).toBe(2);
    expect(fake.record.windows[0]!.destroyed).toBe(true);
    expect(tray().destroyed).toBe(true);
    expect(existsSync(socket)).toBe(false);
    const r = await hcm(cli, ['list', '--json']);
    expect(JSON.parse(r.stdout).connections).toEqual([expect.objectContaining({ name: 'desk', status: 'NotConnected' })]);
  });
});

describe('the desktop app next to an agent that already runs (hcm run, or the service)', () => {
  it('shows that agent through its control socket instead of starting a second one, and closes when it stops', async () => {
    const emu = await startEmulator({ config: testConfig([{ name: 'shared', endpoint: '127.0.0.1:9' }]) });
    const home = mkdtempSync(join(tmpdir(), 'hcm-desktop-attach-'));
    const env: HcmEnv = { home, env: { ...process.env, HCM_HOME: home, HCM_CA_FILE: emu.ca! } };
    expect((await hcm({ ...env, env: { ...env.env, CS: emu.hybridConnections.shared!.listen } }, ['add', '--from-env', 'CS'])).code).toBe(
      0,
    );
    const agent = await startAgent(env, { waitConnected: 1 });
    const fake = fakeElectron({ isPackaged: false });
    const paths = hcmPaths({ HCM_HOME: home });
    let created = 0;
    try {
      const handle = await startDesktop({
        electron: fake.electron,
        updater: null,
        createService: (updates) => {
          created++;
          return createHcmService({ host: 'electron', paths, updates, transport: { ca: emu.caPem } });
        },
        attachToRunningAgent: () => connectRunningAgent({ socketPath: paths.controlSocket, events: true }),
        ...DESKTOP_FROM_CHECKOUT,
      });
      expect(handle!.service).toBeNull();
      expect(created).toBe(0);
      // The window's calls reach the running agent: its connection, live, and its host kind.
      expect((await fake.ipc('listConnections')).result).toEqual([expect.objectContaining({ name: 'shared', status: 'Connected' })]);
      expect((await fake.ipc('getAppInfo')).result).toMatchObject({ host: 'agent' });
      expect(fake.record.trays[0]!.tooltip).toContain('Connected');
      expect(fake.record.notifications.map((n) => n.title)).toContain('Showing the agent that is already running');
      // The agent stops: the app says so and quits; the agent's connections were never touched by it.
      expect(await agent.stop()).toBe(0);
      await waitFor(() => fake.record.notifications.some((n) => n.title === 'The agent stopped'), 10_000, 'the notice');
      await waitFor(() => fake.record.exited, 10_000, 'the app to exit');
    } finally {
      await agent.stop();
      await emu.stop();
    }
  });

  it('hands its connections to `hcm run --takeover` when asked, says so and closes', async () => {
    const emu = await startEmulator({ config: testConfig([{ name: 'moved', endpoint: '127.0.0.1:9' }]) });
    const home = mkdtempSync(join(tmpdir(), 'hcm-desktop-handover-'));
    const env: HcmEnv = { home, env: { ...process.env, HCM_HOME: home, HCM_CA_FILE: emu.ca! } };
    expect((await hcm({ ...env, env: { ...env.env, CS: emu.hybridConnections.moved!.listen } }, ['add', '--from-env', 'CS'])).code).toBe(0);
    const fake = fakeElectron({ isPackaged: false });
    const paths = hcmPaths({ HCM_HOME: home });
    const handle = await startDesktop({
      electron: fake.electron,
      updater: null,
      createService: (updates, { onHandedOver }) =>
        createHcmService({ host: 'electron', paths, updates, transport: { ca: emu.caPem }, onHandedOver }),
      ...DESKTOP_FROM_CHECKOUT,
    });
    await waitFor(async () => (await handle!.service!.listConnections())[0]?.status === 'Connected', 20_000, 'the app to be Connected');
    const successor = startHcm(env, ['run', '--takeover', '--grace', '2']);
    try {
      await waitFor(() => successor.output().includes('took over from agent pid'), 30_000, 'the take-over');
      await waitFor(() => fake.record.exited, 15_000, 'the app to close');
      expect(fake.record.notifications.map((n) => n.title)).toContain('Another agent took over');
      const r = await hcm(env, ['list', '--json']);
      expect(JSON.parse(r.stdout).connections).toEqual([expect.objectContaining({ name: 'moved', status: 'Connected' })]);
    } finally {
      await successor.stop();
      await emu.stop();
    }
  });
});
