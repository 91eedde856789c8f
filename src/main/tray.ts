/**
 * The tray icon: overall status at a glance (icon shape and colour, plus the same words in the
 * tooltip and the menu, never colour alone), and the way back to the window or out of the app
 * while the window is closed and the relay keeps running. The icon and the status words count
 * real connections only (overallStatus leaves the demo out); a running demo gets its own words.
 */
import { join } from 'node:path';
import type { Menu, MenuItemConstructorOptions, NativeImage, Tray } from 'electron';
import { STATUS_LABELS } from '../shared/api.js';
import { type OverallState, type OverallStatus, overallStatusText } from '../shared/overall-status.js';

export interface TrayDeps {
  Tray: new (image: NativeImage) => Pick<Tray, 'setImage' | 'setToolTip' | 'setContextMenu' | 'on' | 'destroy'>;
  Menu: { buildFromTemplate(template: MenuItemConstructorOptions[]): Menu };
  createImage(path: string): NativeImage;
  iconDir: string;
  platform: NodeJS.Platform;
  onOpen(): void;
  onQuit(): void;
}

export function trayIconPath(iconDir: string, state: OverallState, platform: NodeJS.Platform): string {
  // macOS menu bars want small template-sized images; elsewhere a 32 px image scales well.
  return join(iconDir, `tray-${state}${platform === 'darwin' ? '-16' : ''}.png`);
}

export function trayMenuTemplate(overall: OverallStatus, onOpen: () => void, onQuit: () => void): MenuItemConstructorOptions[] {
  return [
    { label: `Status: ${overall.label}`, enabled: false },
    ...(overall.demo ? [{ label: `Demo: ${STATUS_LABELS[overall.demo]}`, enabled: false }] : []),
    { type: 'separator' },
    { label: 'Open Hybrid Connection Manager', click: onOpen },
    { type: 'separator' },
    { label: 'Quit (stops relaying)', click: onQuit },
  ];
}

export interface StatusTray {
  show(overall: OverallStatus): void;
  destroy(): void;
}

export function createStatusTray(deps: TrayDeps, initial: OverallStatus): StatusTray {
  const tray = new deps.Tray(deps.createImage(trayIconPath(deps.iconDir, initial.state, deps.platform)));
  tray.on('click', () => deps.onOpen());
  let shown: string | null = null;
  const show = (overall: OverallStatus) => {
    const key = `${overall.state}|${overallStatusText(overall)}`;
    if (key === shown) return;
    shown = key;
    tray.setImage(deps.createImage(trayIconPath(deps.iconDir, overall.state, deps.platform)));
    tray.setToolTip(`Hybrid Connection Manager: ${overallStatusText(overall)}`);
    tray.setContextMenu(deps.Menu.buildFromTemplate(trayMenuTemplate(overall, deps.onOpen, deps.onQuit)));
  };
  show(initial);
  return { show, destroy: () => tray.destroy() };
}
