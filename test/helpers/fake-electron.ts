import { EventEmitter } from 'node:events';
import type { ElectronDeps } from '../../src/main/desktop.js';

/**
 * Just enough of Electron's main-process API for startDesktop (src/main/desktop.ts), recording
 * what the app does with it: windows and what their pages were sent, notifications, quit.
 */

interface Preventable {
  preventDefault(): void;
  prevented: boolean;
}
const preventable = (): Preventable => {
  const e = { prevented: false, preventDefault: () => (e.prevented = true) };
  return e;
};

export interface FakeRecord {
  quitCalls: number;
  exited: boolean;
  exitCode: number | null;
  handlers: Map<string, (event: unknown, ...args: unknown[]) => Promise<unknown>>;
  windows: FakeWindowLike[];
  notifications: Array<{ title: string; body: string }>;
  errorBoxes: string[];
}

export interface FakeWindowLike {
  webContents: { sent: Array<[string, unknown]> };
}

export function fakeElectron(options: { version: string; isPackaged?: boolean }) {
  const record: FakeRecord = {
    quitCalls: 0,
    exited: false,
    exitCode: null,
    handlers: new Map(),
    windows: [],
    notifications: [],
    errorBoxes: [],
  };
  const app = Object.assign(new EventEmitter(), {
    isPackaged: options.isPackaged ?? true,
    requestSingleInstanceLock: () => true,
    whenReady: () => Promise.resolve(),
    getVersion: () => options.version,
    setAppUserModelId: () => undefined,
    exit: (code: number) => {
      record.exitCode = code;
      record.exited = true;
    },
    // Like Electron: before-quit may cancel (the app stops relaying first), then the app exits.
    quit: () => {
      record.quitCalls++;
      const e = preventable();
      app.emit('before-quit', e);
      if (e.prevented) return;
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
    constructor() {
      super();
      record.windows.push(this);
    }
    loadURL() {
      return Promise.resolve();
    }
    show() {}
    hide() {}
    focus() {}
    restore() {}
    isMinimized() {
      return false;
    }
    isDestroyed() {
      return false;
    }
  }
  class FakeTray {
    setImage() {}
    setToolTip() {}
    setContextMenu() {}
    on() {}
    destroy() {}
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
    protocol: { registerSchemesAsPrivileged: () => undefined, handle: () => undefined },
    Menu: { buildFromTemplate: (template: never) => ({ template }), setApplicationMenu: () => undefined },
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
