import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { ElectronDeps } from '../../src/main/desktop.js';

/**
 * Just enough of Electron's main-process API for startDesktop (src/main/desktop.ts), recording
 * what the app does with it: windows and what their pages were sent, the tray, the app menu, the
 * app:// protocol, notifications, quit.
 */

interface Preventable {
  preventDefault(): void;
  prevented: boolean;
}
/** An event the app may cancel, as Electron passes to 'close' and 'before-quit'. */
export const preventable = (): Preventable => {
  const e = { prevented: false, preventDefault: () => (e.prevented = true) };
  return e;
};

/**
 * Where startDesktop finds the app's files when it runs from this checkout (the renderer built in
 * dist/, the icons in assets/), on Linux, with a short grace for open tunnels when quitting.
 */
export const DESKTOP_FROM_CHECKOUT = {
  preloadPath: '/app/dist/main/preload.cjs',
  rendererDir: fileURLToPath(new URL('../../dist/renderer/', import.meta.url)),
  iconDir: fileURLToPath(new URL('../../assets/', import.meta.url)),
  platform: 'linux',
  quitGraceMs: 500,
} as const;

type MenuTemplate = Array<{ label?: string; submenu?: Array<{ label?: string; click?: () => void }> }>;

/**
 * `version` is what app.getVersion() says; `isPackaged` defaults to true (an installed app);
 * `lock: false` makes this a second instance (requestSingleInstanceLock fails).
 */
export function fakeElectron(options: { version?: string; isPackaged?: boolean; lock?: boolean } = {}) {
  const record = {
    quitCalls: 0,
    exitCode: null as number | null,
    exited: false,
    schemes: [] as unknown[],
    protocols: new Map<string, (r: Request) => Promise<Response>>(),
    handlers: new Map<string, (event: unknown, ...args: unknown[]) => Promise<unknown>>(),
    windows: [] as FakeWindow[],
    trays: [] as FakeTray[],
    notifications: [] as Array<{ title: string; body: string }>,
    appMenu: null as null | { template: MenuTemplate },
    errorBoxes: [] as string[],
  };
  const app = Object.assign(new EventEmitter(), {
    isPackaged: options.isPackaged ?? true,
    requestSingleInstanceLock: () => options.lock ?? true,
    whenReady: () => Promise.resolve(),
    getVersion: () => options.version ?? '0.1.0',
    setAppUserModelId: () => undefined,
    exit: (code: number) => {
      record.exitCode = code;
      record.exited = true;
    },
    // Like Electron: before-quit may cancel (the app stops relaying first); otherwise every window
    // gets 'close', then the app exits and says 'quit' (electron-updater installs on it).
    quit: () => {
      record.quitCalls++;
      const e = preventable();
      app.emit('before-quit', e);
      if (e.prevented) return;
      for (const w of record.windows) {
        const c = preventable();
        w.emit('close', c);
        if (!c.prevented) w.destroyed = true;
      }
      record.exited = true;
      app.emit('quit');
    },
  });
  class FakeContents extends EventEmitter {
    sent: Array<[string, unknown]> = [];
    session = { setPermissionRequestHandler: () => undefined, setPermissionCheckHandler: () => undefined };
    setWindowOpenHandler() {}
    send(channel: string, payload: unknown) {
      this.sent.push([channel, payload]);
    }
    isDestroyed() {
      return false;
    }
  }
  class FakeWindow extends EventEmitter {
    webContents = new FakeContents();
    visible = false;
    destroyed = false;
    url = '';
    constructor(readonly options: { webPreferences: Record<string, unknown> }) {
      super();
      record.windows.push(this);
    }
    loadURL(url: string) {
      this.url = url;
      return Promise.resolve();
    }
    show() {
      this.visible = true;
    }
    hide() {
      this.visible = false;
    }
    focus() {}
    restore() {}
    isMinimized() {
      return false;
    }
    isDestroyed() {
      return this.destroyed;
    }
  }
  class FakeTray {
    image = '';
    tooltip = '';
    destroyed = false;
    constructor(image: string) {
      this.image = image;
      record.trays.push(this);
    }
    setImage(i: string) {
      this.image = i;
    }
    setToolTip(t: string) {
      this.tooltip = t;
    }
    setContextMenu() {}
    on() {}
    destroy() {
      this.destroyed = true;
    }
  }
  class FakeNotification {
    static isSupported = () => true;
    constructor(readonly options: { title: string; body: string }) {}
    on() {}
    show() {
      record.notifications.push({ title: this.options.title, body: this.options.body });
    }
  }
  const electron = {
    app,
    BrowserWindow: FakeWindow,
    ipcMain: {
      handle: (ch: string, fn: never) => void record.handlers.set(ch, fn),
      removeHandler: (ch: string) => void record.handlers.delete(ch),
    },
    protocol: {
      registerSchemesAsPrivileged: (s: unknown[]) => void record.schemes.push(...s),
      handle: (scheme: string, fn: never) => void record.protocols.set(scheme, fn),
    },
    Menu: { buildFromTemplate: (template: never) => ({ template }), setApplicationMenu: (m: never) => void (record.appMenu = m) },
    Tray: FakeTray,
    Notification: FakeNotification,
    nativeImage: { createFromPath: (p: string) => p },
    dialog: { showErrorBox: (title: string, text: string) => void record.errorBoxes.push(`${title}: ${text}`) },
  } as unknown as ElectronDeps;

  /** A call from the app's own page, as the preload makes it. */
  const ipc = (method: string, ...args: unknown[]) =>
    record.handlers.get(`hcm:${method}`)!(
      { sender: record.windows[0]!.webContents, senderFrame: { url: 'app://hcm/index.html', parent: null } },
      ...args,
    ) as Promise<{ ok: boolean; result?: unknown; error?: string }>;
  /** What the page received on one event channel. */
  const events = <T>(event: string): T[] =>
    record.windows[0]?.webContents.sent.filter(([ch]) => ch === `hcm:event:${event}`).map(([, p]) => p as T) ?? [];
  return { electron, record, app, ipc, events };
}

export type FakeElectron = ReturnType<typeof fakeElectron>;
