/**
 * The main window: sandboxed, context-isolated, no Node in the page, showing only our
 * renderer. Navigation, new windows, <webview> and permission prompts are refused (copying to
 * the clipboard is the one permission the UI uses). Closing hides it: the relay keeps running,
 * and the tray brings it back or quits.
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

export function lockDownContents(contents: LockableContents): void {
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
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
}

export function createMainWindow(deps: MainWindowDeps): BrowserWindow {
  const win = new deps.BrowserWindow(mainWindowOptions(deps.preloadPath, deps.iconPath));
  lockDownContents(win.webContents);
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
