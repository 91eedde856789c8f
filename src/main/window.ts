/**
 * The main window: sandboxed, context-isolated, no Node in the page, showing only our
 * renderer. Navigation, new windows, <webview> and permission prompts are refused (copying to
 * the clipboard is the one permission the UI uses). A link the page opens in a new window
 * (target=_blank, e.g. "View in Azure portal") never opens inside the app: https links go to the
 * system browser, anything else is dropped. Closing hides it: the relay keeps running, and the
 * tray brings it back or quits.
 */
import type { BrowserWindow, BrowserWindowConstructorOptions, Event, Session, WebContents } from 'electron';
import { RENDERER_URL, isRendererUrl } from './renderer-protocol.js';

export function mainWindowOptions(preloadPath: string, iconPath: string): BrowserWindowConstructorOptions {
  return {
    width: 1200,
    height: 780,
    minWidth: 480,
    minHeight: 400,
    show: false,
    title: 'Hybrid Connection Manager',
    icon: iconPath,
    autoHideMenuBar: true,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      devTools: true,
    },
  };
}

const ALLOWED_PERMISSIONS = new Set(['clipboard-sanitized-write']);

type LockableContents = Pick<WebContents, 'on' | 'setWindowOpenHandler'> & {
  session: Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler'>;
};

/** Opens a URL in the system's browser (Electron's shell.openExternal). */
export type OpenExternal = (url: string) => Promise<void> | void;

/** Only plain https links leave the app, for the system browser: no other scheme, no credentials in the URL. */
export function isExternalLink(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return parsed.protocol === 'https:' && parsed.username === '' && parsed.password === '' && parsed.hostname !== '';
}

/** shell.openExternal, loaded only when a link is opened (unit tests pass their own and never load Electron). */
const systemBrowser: OpenExternal = async (url) => {
  const { shell } = await import('electron');
  await shell.openExternal(url);
};

export function lockDownContents(contents: LockableContents, openExternal: OpenExternal = systemBrowser): void {
  // The app's window never opens another: https links go to the system browser, the rest nowhere.
  contents.setWindowOpenHandler(({ url }) => {
    if (isExternalLink(url)) {
      void Promise.resolve()
        .then(() => openExternal(url))
        .catch(() => undefined);
    }
    return { action: 'deny' };
  });
  const stayHome = (event: Event, url: string) => {
    if (!isRendererUrl(url)) event.preventDefault();
  };
  contents.on('will-navigate', (event) => stayHome(event, event.url));
  contents.on('will-redirect', (event) => stayHome(event, event.url));
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.session.setPermissionRequestHandler((_wc, permission, callback) => callback(ALLOWED_PERMISSIONS.has(permission)));
  contents.session.setPermissionCheckHandler((_wc, permission) => ALLOWED_PERMISSIONS.has(permission));
}

export interface MainWindowDeps {
  BrowserWindow: new (options: BrowserWindowConstructorOptions) => BrowserWindow;
  preloadPath: string;
  iconPath: string;
  /** True once the user chose Quit; until then closing only hides the window. */
  isQuitting(): boolean;
  /** Called the first time the window is hidden by closing it. */
  onHiddenToTray(): void;
  /** Where https links the page opens in a new window go (default: Electron's shell.openExternal). */
  openExternal?: OpenExternal;
}

export function createMainWindow(deps: MainWindowDeps): BrowserWindow {
  const win = new deps.BrowserWindow(mainWindowOptions(deps.preloadPath, deps.iconPath));
  lockDownContents(win.webContents, deps.openExternal);
  let toldAboutTray = false;
  win.on('close', (event) => {
    if (deps.isQuitting()) return;
    event.preventDefault();
    win.hide();
    if (!toldAboutTray) {
      toldAboutTray = true;
      deps.onHiddenToTray();
    }
  });
  win.once('ready-to-show', () => win.show());
  void win.loadURL(RENDERER_URL);
  return win;
}

export function reveal(win: Pick<BrowserWindow, 'isDestroyed' | 'isMinimized' | 'restore' | 'show' | 'focus'> | null): void {
  if (!win || win.isDestroyed()) return;
  if (win.isMinimized()) win.restore();
  win.show();
  win.focus();
}
