import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createStatusTray, trayIconPath, trayMenuTemplate } from '../../src/main/tray.js';
import { type OverallState, overallStatus } from '../../src/shared/overall-status.js';
import { aSummary } from '../helpers/summaries.js';

/** The tray's icon, tooltip and menu follow the overall status, in words as well as pictures. */

const ASSETS = fileURLToPath(new URL('../../assets/', import.meta.url));
const STATES: OverallState[] = ['empty', 'connected', 'connecting', 'degraded', 'down'];

describe('tray icons', () => {
  it('exist in assets/ for every state and platform, in a different file per state', () => {
    for (const platform of ['linux', 'win32', 'darwin'] as const) {
      const paths = STATES.map((s) => trayIconPath(ASSETS, s, platform));
      for (const p of paths) expect(existsSync(p), p).toBe(true);
      expect(new Set(paths).size).toBe(STATES.length);
    }
  });
});

describe('createStatusTray', () => {
  function fakes() {
    const images: string[] = [];
    const tray = { image: '', tooltip: '', menu: null as unknown, handlers: new Map<string, () => void>(), destroyed: false };
    class FakeTray {
      constructor(image: string) {
        tray.image = image;
      }
      setImage(i: string) {
        tray.image = i;
      }
      setToolTip(t: string) {
        tray.tooltip = t;
      }
      setContextMenu(m: unknown) {
        tray.menu = m;
      }
      on(event: string, l: () => void) {
        tray.handlers.set(event, l);
      }
      destroy() {
        tray.destroyed = true;
      }
    }
    const menus: Array<Array<{ label?: string; enabled?: boolean; click?: () => void }>> = [];
    // What the desktop app passes: Electron's Tray and Menu (faked here), the icons' folder, the platform.
    const deps = (actions: { onOpen?: () => void; onQuit?: () => void } = {}): Parameters<typeof createStatusTray>[0] => ({
      Tray: FakeTray as never,
      Menu: { buildFromTemplate: (tpl: never) => (menus.push(tpl), { tpl }) as never },
      createImage: (p) => p as never,
      iconDir: '/icons',
      platform: 'linux',
      onOpen: actions.onOpen ?? (() => undefined),
      onQuit: actions.onQuit ?? (() => undefined),
    });
    return { tray, images, menus, deps };
  }

  it('shows the state as icon, tooltip and a menu line, and offers open and quit', () => {
    const { tray, menus, deps } = fakes();
    let opened = 0;
    let quit = 0;
    const t = createStatusTray(deps({ onOpen: () => opened++, onQuit: () => quit++ }), overallStatus([]));
    expect(tray.image).toBe('/icons/tray-empty.png');
    expect(tray.tooltip).toBe('Hybrid Connection Manager: No connections');
    t.show(overallStatus([aSummary({ name: 'a', status: 'Connected' }), aSummary({ name: 'b', status: 'NotConnected' })]));
    expect(tray.image).toBe('/icons/tray-degraded.png');
    expect(tray.tooltip).toBe('Hybrid Connection Manager: 1 of 2 connected');
    const template = menus.at(-1)!;
    expect(template[0]!.label).toBe('Status: 1 of 2 connected');
    template.find((i) => i.label?.startsWith('Open'))!.click!();
    template.find((i) => i.label?.startsWith('Quit'))!.click!();
    tray.handlers.get('click')!();
    expect([opened, quit]).toEqual([2, 1]);
    // The same state again does not rebuild the menu.
    const count = menus.length;
    t.show(overallStatus([aSummary({ name: 'a', status: 'Connected' }), aSummary({ name: 'b', status: 'NotConnected' })]));
    expect(menus.length).toBe(count);
    t.destroy();
    expect(tray.destroyed).toBe(true);
  });

  it('does not count the demo as a real connection: icon and words for the real ones, the demo named apart', () => {
    const { tray, menus, deps } = fakes();
    const demo = aSummary({ namespace: 'localhost', name: 'echo', demo: true });
    const t = createStatusTray(deps(), overallStatus([demo]));
    // Only the demo: this machine relays nothing real, so the icon is the empty one, not green.
    expect(tray.image).toBe('/icons/tray-empty.png');
    expect(tray.tooltip).toBe('Hybrid Connection Manager: No connections · demo connected');
    expect(menus.at(-1)!.slice(0, 2)).toEqual([
      { label: 'Status: No connections', enabled: false },
      { label: 'Demo: Connected', enabled: false },
    ]);
    // A real connection down next to a working demo: down, never "1 of 2 connected".
    t.show(overallStatus([demo, aSummary({ name: 'orders', status: 'NotConnected' })]));
    expect(tray.image).toBe('/icons/tray-down.png');
    expect(tray.tooltip).toBe('Hybrid Connection Manager: 0 of 1 connected · demo connected');
    expect(menus.at(-1)![0]).toEqual({ label: 'Status: 0 of 1 connected', enabled: false });
    // The demo removed: its menu line goes.
    t.show(overallStatus([aSummary({ name: 'orders' })]));
    expect(tray.image).toBe('/icons/tray-connected.png');
    expect(tray.tooltip).toBe('Hybrid Connection Manager: Connected');
    expect(menus.at(-1)!.map((i) => i.label)).not.toContain('Demo: Connected');
  });

  it('builds a menu whose first line is the status, disabled', () => {
    const tpl = trayMenuTemplate(
      overallStatus([]),
      () => undefined,
      () => undefined,
    );
    expect(tpl[0]).toEqual({ label: 'Status: No connections', enabled: false });
  });
});
