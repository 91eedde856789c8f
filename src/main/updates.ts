/**
 * In-app updates for the packaged desktop app, through electron-updater, as the service's
 * UpdateProvider (src/core/updates.ts). Unpackaged runs (npm start) cannot update themselves,
 * and say so instead of pretending.
 */
import type { UpdateProvider } from '../core/updates.js';
import type { UpdateState } from '../shared/api.js';

/** The part of electron-updater's AppUpdater we use. */
export interface UpdaterPort {
  autoDownload: boolean;
  autoInstallOnAppQuit: boolean;
  checkForUpdates(): Promise<unknown>;
  quitAndInstall(isSilent?: boolean, isForceRunAfter?: boolean): void;
  on(event: 'checking-for-update', listener: () => void): unknown;
  on(event: 'update-available', listener: (info: { version: string; releaseNotes?: unknown }) => void): unknown;
  on(event: 'update-not-available', listener: (info: unknown) => void): unknown;
  on(event: 'download-progress', listener: (progress: { percent: number }) => void): unknown;
  on(event: 'update-downloaded', listener: (info: { version: string }) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

export function desktopUpdates(currentVersion: string, updater: UpdaterPort | null, notPackagedReason?: string): UpdateProvider {
  const listeners = new Set<(state: UpdateState) => void>();
  let state: UpdateState = updater
    ? { state: 'idle', currentVersion }
    : { state: 'unsupported', currentVersion, reason: notPackagedReason ?? 'updates are installed with the packaged app only' };
  const set = (next: UpdateState) => {
    state = next;
    for (const l of listeners) l(next);
  };
  if (updater) {
    updater.autoDownload = true;
    updater.autoInstallOnAppQuit = true;
    updater.on('checking-for-update', () => set({ state: 'checking', currentVersion }));
    updater.on('update-available', (info) =>
      set({
        state: 'available',
        currentVersion,
        version: info.version,
        notes: typeof info.releaseNotes === 'string' ? info.releaseNotes : null,
      }),
    );
    updater.on('update-not-available', () => set({ state: 'up-to-date', currentVersion, checkedAt: new Date().toISOString() }));
    updater.on('download-progress', (p) => {
      const version = state.state === 'available' || state.state === 'downloading' ? state.version : '?';
      set({ state: 'downloading', currentVersion, version, percent: p.percent });
    });
    updater.on('update-downloaded', (info) => set({ state: 'ready', currentVersion, version: info.version }));
    updater.on('error', (err) => set({ state: 'error', currentVersion, message: err.message }));
  }
  return {
    getState: () => state,
    check: async () => {
      if (!updater) return state;
      try {
        await updater.checkForUpdates();
      } catch (err) {
        set({ state: 'error', currentVersion, message: (err as Error).message });
      }
      return state;
    },
    install: async () => {
      if (!updater || state.state !== 'ready') throw new Error('no downloaded update to install');
      updater.quitAndInstall(false, true);
    },
    onChange: (listener) => {
      listeners.add(listener);
    },
  };
}
