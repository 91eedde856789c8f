/**
 * The application menu. Quit is here as well as in the tray, because closing the window only
 * hides it. Edit roles keep copy/paste working in text fields on macOS; View offers zoom.
 */
import type { MenuItemConstructorOptions } from 'electron';

export function appMenuTemplate(
  platform: NodeJS.Platform,
  actions: { onOpen(): void; onQuit(): void; onAbout(): void },
): MenuItemConstructorOptions[] {
  const quit: MenuItemConstructorOptions = { label: 'Quit (stops relaying)', accelerator: 'CmdOrCtrl+Q', click: actions.onQuit };
  const menu: MenuItemConstructorOptions[] = [
    {
      label: platform === 'darwin' ? 'Hybrid Connection Manager' : 'File',
      submenu: [
        { label: 'Open window', click: actions.onOpen },
        { label: 'Close window (keeps relaying)', role: 'close' },
        { type: 'separator' },
        quit,
      ],
    },
    {
      label: 'Edit',
      submenu: [
        { role: 'undo' },
        { role: 'redo' },
        { type: 'separator' },
        { role: 'cut' },
        { role: 'copy' },
        { role: 'paste' },
        { role: 'selectAll' },
      ],
    },
    {
      label: 'View',
      submenu: [{ role: 'resetZoom' }, { role: 'zoomIn' }, { role: 'zoomOut' }, { type: 'separator' }, { role: 'togglefullscreen' }],
    },
    { label: 'Help', submenu: [{ label: 'About Hybrid Connection Manager', click: actions.onAbout }] },
  ];
  return menu;
}
