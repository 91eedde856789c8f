/**
 * The desktop app put together: one instance per user, the service (relay engine + local
 * control socket, like `hcm run`) started once, the window, IPC, tray, notifications, menu and
 * a clean shutdown. Every Electron API arrives through `deps`, so unit tests run this with
 * fakes and no Electron binary; main.ts passes the real modules.
 */
import type {
  App,
  BrowserWindow,
  BrowserWindowConstructorOptions,
  Dialog,
  IpcMain,
  Menu,
  NativeImage,
  NotificationConstructorOptions,
  Protocol,
} from 'electron';
import type { RunningAgent } from '../core/running-agent.js';
import type { HcmService } from '../core/service.js';
import type { HcmHost } from '../shared/api.js';
import type { UpdateProvider } from '../core/updates.js';
import type { UpdateLog } from '../core/updates/feed-updates.js';
import { type CliCommand, clearBridgeMarker, readBridgeMarker, startHandoverBridge } from '../core/updates/handover-bridge.js';
import { overallStatus } from '../shared/overall-status.js';
import { appMenuTemplate } from './app-menu.js';
import { forwardEvents, isTrustedSender, registerIpcHandlers } from './ipc.js';
import { PRIVILEGED_SCHEMES, registerRendererProtocol } from './renderer-protocol.js';
import { StatusAlerts } from './status-alerts.js';
import { type StatusTray, type TrayDeps, createStatusTray } from './tray.js';
import { type UpdaterPort, desktopUpdates } from './updates.js';
import { createMainWindow, reveal } from './window.js';

export interface ElectronDeps {
  app: Pick<App, 'requestSingleInstanceLock' | 'on' | 'whenReady' | 'quit' | 'exit' | 'getVersion' | 'isPackaged' | 'setAppUserModelId'>;
  BrowserWindow: new (options: BrowserWindowConstructorOptions) => BrowserWindow;
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>;
  protocol: Pick<Protocol, 'handle' | 'registerSchemesAsPrivileged'>;
  Menu: { buildFromTemplate: TrayDeps['Menu']['buildFromTemplate']; setApplicationMenu(menu: Menu | null): void };
  Tray: TrayDeps['Tray'];
  Notification: { isSupported(): boolean } & (new (options: NotificationConstructorOptions) => {
    show(): void;
    on(event: 'click', listener: () => void): unknown;
  });
  nativeImage: { createFromPath(path: string): NativeImage };
  dialog: Pick<Dialog, 'showErrorBox'>;
}

export interface DesktopDeps {
  electron: ElectronDeps;
  createService(updates: UpdateProvider, context: ServiceContext): HcmService;
  /** The OS's proxy for connections to Azure Relay, as a proxy URL, or null for none (main.ts: Electron's session). */
  systemProxy?: () => Promise<string | null>;
  /** The agent already running for this configuration, if any (main.ts: its control socket). */
  attachToRunningAgent?: () => Promise<RunningAgent | null>;
  /** electron-updater's autoUpdater when packaged, else null. */
  updater: UpdaterPort | null;
  /** Where update checks keep their state and read their settings (src/main/updates.ts). */
  updateOptions?: { home: string; savedSettings?: unknown; env?: NodeJS.ProcessEnv; appImage?: boolean; log?: UpdateLog };
  preloadPath: string;
  rendererDir: string;
  iconDir: string;
  platform: NodeJS.Platform;
  /** How long open tunnels may finish when quitting. */
  quitGraceMs?: number;
  /**
   * How to start this app's command line, for the stand-in agent that keeps connections up while an
   * update installs (core/updates/handover-bridge.ts); absent where its files would not outlive the
   * app (main.ts): connections then restart with the app.
   */
  handoverBridge?: CliCommand;
  /** The stand-in's hand-over: how long open tunnels may finish, and how long it waits for its listeners. */
  handoverGraceMs?: number;
  handoverWaitMs?: number;
}

/** What the app's service is created with beyond the update provider. */
export interface ServiceContext {
  systemProxy: string | null;
  /** Take the connections back from the stand-in agent an update left running. */
  takeover?: { graceMs: number; waitMs: number };
  /** This app's connections were handed to another agent and its tunnels drained. */
  onHandedOver: () => void;
}

export interface DesktopHandle {
  /** The agent this app runs, or null when it shows one that was already running. */
  service: HcmService | null;
  /** What the window talks to: this app's service, or the running agent's control socket. */
  host: HcmHost;
  window(): BrowserWindow | null;
  tray: StatusTray;
}

export const APP_USER_MODEL_ID = 'io.github.open-hcm';

export async function startDesktop(deps: DesktopDeps): Promise<DesktopHandle | null> {
  const { app, protocol, dialog } = deps.electron;
  if (!app.requestSingleInstanceLock()) {
    // Another instance owns the relay; it shows its window on 'second-instance'.
    app.quit();
    return null;
  }
  protocol.registerSchemesAsPrivileged(PRIVILEGED_SCHEMES);
  if (deps.platform === 'win32') app.setAppUserModelId(APP_USER_MODEL_ID);

  let window: BrowserWindow | null = null;
  let quitting = false;
  let stopped = false;
  app.on('second-instance', () => reveal(window));
  app.on('activate', () => reveal(window));
  // Listening here keeps Electron from quitting when the window closes: the relay keeps running.
  app.on('window-all-closed', () => undefined);

  await app.whenReady();
  registerRendererProtocol(protocol, deps.rendererDir);

  const home = deps.updateOptions?.home;
  const handoverGraceMs = deps.handoverGraceMs ?? 30_000;
  const handoverWaitMs = deps.handoverWaitMs ?? 60_000;
  let service: HcmService | null = null;
  /** Set while "Restart to update" hands the connections to a stand-in agent. */
  let handingOver: ((outcome: string | null) => void) | null = null;
  const updates = desktopUpdates({
    currentVersion: app.getVersion(),
    updater: deps.updater,
    notPackagedReason: app.isPackaged ? undefined : 'this is a development run (npm start); packaged builds update themselves',
    ...deps.updateOptions,
    beforeInstall: () => handOverForUpdate(),
  });
  // A stand-in agent left by the update that started this version: take the connections back from it.
  const standIn = home && deps.handoverBridge ? readBridgeMarker(home) : null;
  // Otherwise an agent already running for this configuration (hcm run, or the service with its
  // admin group) is shown, not fought over: the window manages its connections through its socket.
  let running = standIn ? null : await deps.attachToRunningAgent?.().catch(() => null);
  let host: HcmHost;
  if (running) {
    host = running.host;
  } else {
    const systemProxy = (await deps.systemProxy?.().catch(() => null)) ?? null;
    service = deps.createService(updates, {
      systemProxy,
      ...(standIn ? { takeover: { graceMs: handoverGraceMs, waitMs: handoverWaitMs } } : {}),
      onHandedOver: () => {
        if (handingOver) return handingOver(null);
        // Someone ran `hcm run --takeover` against this app: that agent serves the connections now.
        notify('Another agent took over', 'An agent started with --takeover serves these connections now; the app closes.');
        app.quit();
      },
    });
    try {
      await service.start();
      if (standIn) service.logger.info(`took the connections back from the agent (pid ${standIn.pid}) that kept them during the update`);
    } catch (err) {
      await service.stop().catch(() => undefined);
      service = null;
      // The stand-in could not hand back (its listeners are its own): show it instead, as any running agent.
      running = standIn ? await deps.attachToRunningAgent?.().catch(() => null) : null;
      if (!running) {
        dialog.showErrorBox('Hybrid Connection Manager cannot start', (err as Error).message);
        app.exit(1);
        return null;
      }
    } finally {
      if (standIn && home) clearBridgeMarker(home);
    }
    host = service ?? running!.host;
  }
  // Refused IPC calls are logged by whoever runs the agent; a window showing another one writes to stderr.
  const warn = (m: string) => (service ? service.logger.warn(m) : void process.stderr.write(`${m}\n`));

  registerIpcHandlers(deps.electron.ipcMain, host, (event) => isTrustedSender(event, () => window?.webContents ?? null), warn);

  const notify = (title: string, body: string) => {
    if (!deps.electron.Notification.isSupported()) return;
    const n = new deps.electron.Notification({ title, body, icon: `${deps.iconDir}/icon-256.png` });
    n.on('click', () => reveal(window));
    n.show();
  };

  window = createMainWindow({
    BrowserWindow: deps.electron.BrowserWindow,
    preloadPath: deps.preloadPath,
    iconPath: `${deps.iconDir}/icon-256.png`,
    isQuitting: () => quitting,
    onHiddenToTray: () =>
      notify(
        'Hybrid Connection Manager is still running',
        'Connections keep relaying in the background. Quit from the tray icon or the menu.',
      ),
  });
  forwardEvents(host, () => window?.webContents ?? null);

  const quit = () => app.quit();
  const open = () => reveal(window);
  const initial = await host.listConnections();
  const alerts = new StatusAlerts();
  alerts.update(initial);
  const tray = createStatusTray(
    {
      Tray: deps.electron.Tray,
      Menu: deps.electron.Menu,
      createImage: (p) => deps.electron.nativeImage.createFromPath(p),
      iconDir: deps.iconDir,
      platform: deps.platform,
      onOpen: open,
      onQuit: quit,
    },
    overallStatus(initial),
  );
  host.on('connections', (list) => {
    tray.show(overallStatus(list));
    for (const alert of alerts.update(list)) notify(alert.title, alert.body);
  });

  // Updates: checked on their own timers once everything runs; the app says when it was updated,
  // and when a downloaded update waits for "Restart to update" (the window may be in the tray).
  const updated = updates.getState();
  if (updated.updatedFrom)
    notify(
      `Updated to ${updated.currentVersion}`,
      `Hybrid Connection Manager was updated from ${updated.updatedFrom}. Connections resume by themselves.`,
    );
  updates.onChange((u) => {
    if (u.state === 'ready')
      notify(`Version ${u.version} is ready`, 'Restart to update: connections resume by themselves after the restart.');
  });
  updates.start();
  const attached = running;
  if (attached) {
    notify('Showing the agent that is already running', 'This window manages its connections; quitting the app leaves that agent running.');
    void attached.gone.then(() => {
      notify('The agent stopped', 'The agent this window showed has stopped; the app closes. Start it again to run its own agent.');
      app.quit();
    });
  }

  deps.electron.Menu.setApplicationMenu(
    deps.electron.Menu.buildFromTemplate(appMenuTemplate(deps.platform, { onOpen: open, onQuit: quit, onAbout: open })),
  );

  // Quit = stop relaying gracefully, then let Electron close the window and exit.
  app.on('before-quit', (event) => {
    if (stopped) return;
    event.preventDefault();
    if (quitting) return;
    quitting = true;
    updates.stop();
    running?.close();
    (service ? service.stop({ graceMs: deps.quitGraceMs ?? 5000 }) : Promise.resolve())
      .catch(() => undefined)
      .finally(() => {
        stopped = true;
        tray.destroy();
        app.quit();
      });
  });

  /**
   * "Restart to update" without dropping a connection: a stand-in agent (this app's command line,
   * `hcm run --takeover`) listens next to the app and takes its connections over; the app's open
   * tunnels finish, then the installer runs and the new version takes them back (see above). Where
   * that cannot happen (no stand-in here, nothing Connected, or it fails) the app restarts as before
   * and the connections resume after the restart.
   */
  async function handOverForUpdate(): Promise<void> {
    const own = service;
    // Windows: the installer cannot replace files that a running stand-in uses.
    if (!own || !deps.handoverBridge || !home || deps.platform === 'win32') return;
    const connected = (await own.listConnections()).some((c) => c.status === 'Connected' && !c.demo);
    if (!connected) return;
    own.logger.info('handing the connections to a stand-in agent while the update installs');
    const outcome = new Promise<string | null>((resolve) => (handingOver = resolve));
    const child = startHandoverBridge(deps.handoverBridge, {
      home,
      fromVersion: app.getVersion(),
      graceMs: handoverGraceMs,
      waitMs: handoverWaitMs,
    });
    child.once('exit', (code) => handingOver?.(`the stand-in agent exited (code ${code})`));
    child.once('error', (err) => handingOver?.(`the stand-in agent could not start: ${err.message}`));
    const limit = setTimeout(
      () => handingOver?.('the stand-in agent did not take over in time'),
      handoverWaitMs + handoverGraceMs + 15_000,
    );
    const problem = await outcome;
    clearTimeout(limit);
    handingOver = null;
    if (problem === null) return own.logger.info('the stand-in agent serves the connections; installing');
    own.logger.warn(`${problem}; the connections restart with the app instead`);
    clearBridgeMarker(home);
    if (child.exitCode === null) child.kill();
  }

  return { service, host, window: () => window, tray };
}
