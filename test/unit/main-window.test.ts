import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createMainWindow, lockDownContents, mainWindowOptions, reveal } from '../../src/main/window.js';

/** The window's security settings and close-to-tray behaviour, with a fake BrowserWindow. */

function fakeContents() {
  const contents = new EventEmitter() as EventEmitter & Record<string, unknown>;
  const session = {
    requestHandler: null as null | ((wc: unknown, permission: string, cb: (ok: boolean) => void) => void),
    checkHandler: null as null | ((wc: unknown, permission: string) => boolean),
    setPermissionRequestHandler(h: never) {
      this.requestHandler = h;
    },
    setPermissionCheckHandler(h: never) {
      this.checkHandler = h;
    },
  };
  let openHandler: ((d: { url: string }) => { action: string }) | null = null;
  Object.assign(contents, {
    session,
    setWindowOpenHandler: (h: never) => (openHandler = h),
    openHandler: () => openHandler,
  });
  return contents as unknown as EventEmitter & { session: typeof session; openHandler: () => typeof openHandler };
}

/** Emits an Electron-style event and reports whether a handler prevented it. */
function emitPreventable(target: EventEmitter, name: string, url?: string): boolean {
  let prevented = false;
  target.emit(name, { url, preventDefault: () => (prevented = true) });
  return prevented;
}

describe('mainWindowOptions', () => {
  it('isolates the page: sandbox, context isolation, no Node, no webview, our preload', () => {
    const options = mainWindowOptions('/app/dist/main/preload.cjs', '/app/assets/icon-256.png');
    expect(options.webPreferences).toMatchObject({
      preload: '/app/dist/main/preload.cjs',
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
    expect(options.show).toBe(false);
  });
});

describe('lockDownContents', () => {
  it('denies new windows', () => {
    const wc = fakeContents();
    lockDownContents(wc as never, () => undefined);
    expect(wc.openHandler()!({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
    expect(wc.openHandler()!({ url: 'app://hcm/index.html' })).toEqual({ action: 'deny' });
  });

  it('sends https links opened in a new window (View in Azure portal) to the system browser, and nothing else', async () => {
    const wc = fakeContents();
    const opened: string[] = [];
    lockDownContents(wc as never, (url) => void opened.push(url));
    const portal =
      'https://portal.azure.com/#@contoso.onmicrosoft.com/resource/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Relay/namespaces/contoso/hybridConnections/orders/overview';
    for (const url of [
      portal,
      'http://portal.azure.com/',
      'file:///etc/passwd',
      'app://hcm/index.html',
      'javascript:alert(1)',
      'https://user:secret@portal.azure.com/',
      'not a url',
    ]) {
      // Never a window inside the app, whatever the link.
      expect(wc.openHandler()!({ url }), url).toEqual({ action: 'deny' });
    }
    await new Promise((r) => setTimeout(r, 0));
    expect(opened).toEqual([portal]);
  });

  it('keeps the window usable when the system browser cannot be opened', async () => {
    const wc = fakeContents();
    lockDownContents(wc as never, () => Promise.reject(new Error('no browser')));
    expect(wc.openHandler()!({ url: 'https://portal.azure.com/' })).toEqual({ action: 'deny' });
    await new Promise((r) => setTimeout(r, 0));
  });

  it('keeps navigation and redirects on our renderer', () => {
    const wc = fakeContents();
    lockDownContents(wc as never);
    expect(emitPreventable(wc, 'will-navigate', 'https://evil.example/')).toBe(true);
    expect(emitPreventable(wc, 'will-navigate', 'file:///etc/passwd')).toBe(true);
    expect(emitPreventable(wc, 'will-redirect', 'http://127.0.0.1:1/')).toBe(true);
    expect(emitPreventable(wc, 'will-navigate', 'app://hcm/index.html')).toBe(false);
  });

  it('refuses <webview> and every permission but writing to the clipboard', () => {
    const wc = fakeContents();
    lockDownContents(wc as never);
    expect(emitPreventable(wc, 'will-attach-webview')).toBe(true);
    const answers: Record<string, boolean> = {};
    for (const p of ['media', 'geolocation', 'notifications', 'openExternal', 'clipboard-read', 'clipboard-sanitized-write']) {
      wc.session.requestHandler!(null, p, (ok) => (answers[p] = ok));
    }
    expect(answers).toEqual({
      media: false,
      geolocation: false,
      notifications: false,
      openExternal: false,
      'clipboard-read': false,
      'clipboard-sanitized-write': true,
    });
    expect(wc.session.checkHandler!(null, 'media')).toBe(false);
    expect(wc.session.checkHandler!(null, 'clipboard-sanitized-write')).toBe(true);
  });
});

class FakeBrowserWindow extends EventEmitter {
  static created: FakeBrowserWindow[] = [];
  webContents = fakeContents();
  visible = false;
  loaded: string | null = null;
  constructor(readonly options: unknown) {
    super();
    FakeBrowserWindow.created.push(this);
  }
  loadURL(url: string) {
    this.loaded = url;
    return Promise.resolve();
  }
  show() {
    this.visible = true;
  }
  hide() {
    this.visible = false;
  }
  isDestroyed() {
    return false;
  }
  isMinimized() {
    return false;
  }
  restore() {}
  focus() {}
}

describe('createMainWindow', () => {
  it('loads our renderer and shows the window once it is ready', async () => {
    const opened: string[] = [];
    const win = createMainWindow({
      BrowserWindow: FakeBrowserWindow as never,
      preloadPath: '/p.cjs',
      iconPath: '/i.png',
      isQuitting: () => false,
      onHiddenToTray: () => undefined,
      openExternal: (url) => void opened.push(url),
    }) as unknown as FakeBrowserWindow;
    expect(win.loaded).toBe('app://hcm/index.html');
    expect(win.visible).toBe(false);
    win.emit('ready-to-show');
    expect(win.visible).toBe(true);
    expect(win.webContents.openHandler()!({ url: 'https://portal.azure.com/' })).toEqual({ action: 'deny' });
    await new Promise((r) => setTimeout(r, 0));
    expect(opened).toEqual(['https://portal.azure.com/']);
  });

  it('hides instead of closing until the user quits, and tells once', () => {
    let quitting = false;
    let told = 0;
    const win = createMainWindow({
      BrowserWindow: FakeBrowserWindow as never,
      preloadPath: '/p.cjs',
      iconPath: '/i.png',
      isQuitting: () => quitting,
      onHiddenToTray: () => told++,
    }) as unknown as FakeBrowserWindow;
    win.show();
    expect(emitPreventable(win, 'close')).toBe(true);
    expect(win.visible).toBe(false);
    reveal(win);
    expect(win.visible).toBe(true);
    expect(emitPreventable(win, 'close')).toBe(true);
    expect(told).toBe(1);
    quitting = true;
    expect(emitPreventable(win, 'close')).toBe(false);
  });
});
