/**
 * Electron entry point: the only module that loads 'electron' and 'electron-updater'. It hands
 * the real APIs to startDesktop (desktop.ts), where everything else happens.
 */
import { fileURLToPath } from 'node:url';
import {
  BrowserWindow,
  Menu,
  Notification,
  Tray,
  app,
  dialog,
  ipcMain,
  nativeImage,
  protocol,
  safeStorage,
  session,
  shell,
} from 'electron';
import updaterPackage from 'electron-updater';
import { AGENT_NODE_FLAGS } from '../core/agent-node-flags.js';
import { transportFromEnv, tuningFromEnv } from '../core/environment.js';
import type { DemoRelayStarter } from '../core/demo.js';
import { prepareAgentFolders } from '../core/folders.js';
import { proxyFromPacAnswer } from '../core/proxy-settings.js';
import { connectRunningAgent } from '../core/running-agent.js';
import { Logger } from '../core/logger.js';
import { hcmPaths } from '../core/paths.js';
import { createHcmService } from '../core/service.js';
import { savedUpdateSettings } from '../core/updates/feed-updates.js';
import { type ElectronDeps, startDesktop } from './desktop.js';
import type { UpdaterPort } from './updates.js';

// Assigning the real modules to ElectronDeps type-checks every API we use against electron.d.ts.
const electron: ElectronDeps = { app, BrowserWindow, ipcMain, protocol, Menu, Tray, Notification, nativeImage, dialog };
const updater: UpdaterPort | null = app.isPackaged ? updaterPackage.autoUpdater : null;

const paths = hcmPaths();
try {
  prepareAgentFolders(paths);
} catch (err) {
  app.whenReady().then(
    () => {
      dialog.showErrorBox('Hybrid Connection Manager cannot start', (err as Error).message);
      app.exit(1);
    },
    () => app.exit(1),
  );
}
const logger = new Logger({ level: 'info', dir: paths.logDir });
// The demo's relay emulator is loaded only when someone asks for the demo.
const startDemoRelay: DemoRelayStarter = (log) => import('../emulator/demo.js').then((m) => m.startDemoRelay(log));

startDesktop({
  electron,
  attachToRunningAgent: () => connectRunningAgent({ socketPath: paths.controlSocket, events: true }),
  updater,
  updateOptions: {
    home: paths.home,
    savedSettings: savedUpdateSettings(paths),
    appImage: !!process.env.APPIMAGE,
    log: (level, message) => logger.log(level, message),
  },
  // The system's proxy settings (and PAC files) for the relay, as Chromium resolves them.
  systemProxy: async () => proxyFromPacAnswer(await session.defaultSession.resolveProxy('https://relay.servicebus.windows.net/')),
  createService: (updates, { systemProxy, takeover, onHandedOver }) =>
    createHcmService({
      host: 'electron',
      paths,
      logger,
      updates,
      systemProxy,
      takeover,
      onHandedOver,
      transport: transportFromEnv(),
      tuning: tuningFromEnv(),
      startDemoRelay,
      // The OS keychain protects the Azure tokens where Electron can use it (createService runs once
      // the app is ready, when safeStorage can tell); elsewhere the cache says it is not encrypted.
      azureTokenEncryption: safeStorage.isEncryptionAvailable()
        ? {
            encrypt: (data) => safeStorage.encryptString(data.toString('utf8')),
            decrypt: (data) => Buffer.from(safeStorage.decryptString(data)),
            description: 'encrypted with the OS keychain through Electron safeStorage, mode 0600',
          }
        : undefined,
      openBrowser: async (url) => {
        await shell.openExternal(url);
      },
      openFolder: async (path) => {
        const problem = await shell.openPath(path);
        if (problem) throw new Error(`cannot open ${path}: ${problem}`);
      },
    }),
  // The stand-in agent that keeps connections up during an update runs this app's command line
  // (Electron's binary as Node). Not from an AppImage (its files are unmounted when the app exits)
  // nor on Windows (the installer cannot replace files in use): there connections restart with the app.
  handoverBridge:
    app.isPackaged && !process.env.APPIMAGE && process.platform !== 'win32'
      ? {
          execPath: process.execPath,
          args: [...AGENT_NODE_FLAGS, fileURLToPath(new URL('../cli/main.js', import.meta.url))],
          env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
        }
      : undefined,
  preloadPath: fileURLToPath(new URL('./preload.cjs', import.meta.url)),
  rendererDir: fileURLToPath(new URL('../renderer/', import.meta.url)),
  iconDir: fileURLToPath(new URL('../../assets/', import.meta.url)),
  platform: process.platform,
}).catch((err: Error) => {
  dialog.showErrorBox('Hybrid Connection Manager failed', err.message);
  app.exit(1);
});
