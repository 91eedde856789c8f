/**
 * In-app updates for the packaged desktop app, as the service's UpdateProvider
 * (src/core/updates.ts). electron-updater reads the feed, downloads the new version (progress in
 * the UI), verifies its sha512 against the feed and installs it on "Restart to update"; the
 * decisions and the timing are the ones every host uses (src/core/updates/): the feed URL and
 * on/off from settings and the environment, pre-releases only when asked for, a staged rollout
 * judged with this install's id, a check at start and about every 12 hours, quiet retries.
 * Unpackaged runs (npm start) cannot update themselves, and say so instead of pretending.
 */
import type { UpdateState } from '../shared/api.js';
import { errorMessage } from '../shared/errors.js';
import type { HostUpdates, UpdateLog } from '../core/updates/feed-updates.js';
import { howToUpdate } from '../core/updates/install-kind.js';
import { installId, recordRunVersion } from '../core/updates/local-state.js';
import { prereleaseAllowed, withinRollout } from '../core/updates/policy.js';
import { type SchedulerClock, UpdateScheduler } from '../core/updates/scheduler.js';
import { resolveUpdateSettings } from '../core/updates/settings.js';
import { randomUUID } from 'node:crypto';

/** What electron-updater tells about a version (UpdateInfo). */
export interface UpdaterInfo {
  version: string;
  releaseNotes?: string | Array<{ version: string; note: string | null }> | null;
  releaseDate?: string;
  stagingPercentage?: number;
}

/** The part of electron-updater's AppUpdater we use. */
export interface UpdaterPort {
  autoDownload: boolean;
  autoInstallOnAppQuit: boolean;
  allowPrerelease?: boolean;
  logger?: { info(m: unknown): void; warn(m: unknown): void; error(m: unknown): void } | null;
  // Method syntax: electron-updater declares these with its fuller UpdateInfo.
  isUpdateSupported?(info: UpdaterInfo): boolean | Promise<boolean>;
  isUserWithinRollout?(info: UpdaterInfo): boolean | Promise<boolean>;
  setFeedURL?(options: { provider: 'generic'; url: string }): void;
  checkForUpdates(): Promise<unknown>;
  quitAndInstall(isSilent?: boolean, isForceRunAfter?: boolean): void;
  on(event: 'checking-for-update', listener: () => void): unknown;
  on(event: 'update-available', listener: (info: UpdaterInfo) => void): unknown;
  on(event: 'update-not-available', listener: (info: unknown) => void): unknown;
  on(event: 'download-progress', listener: (progress: { percent: number }) => void): unknown;
  on(event: 'update-downloaded', listener: (info: UpdaterInfo) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

export interface DesktopUpdateOptions {
  currentVersion: string;
  /** electron-updater's autoUpdater when packaged, else null. */
  updater: UpdaterPort | null;
  /** Why an unpackaged run cannot update (shown in About). */
  notPackagedReason?: string;
  /** The config folder (install-id, last-run-version.json); without it the id lasts one run. */
  home?: string;
  /** `settings.updates` of config.json. */
  savedSettings?: unknown;
  env?: NodeJS.ProcessEnv;
  /** Running as an AppImage (process.env.APPIMAGE): the file itself is replaced. */
  appImage?: boolean;
  log?: UpdateLog;
  clock?: SchedulerClock;
  /** Runs between "Restart to update" and the installer: the app hands its connections to a stand-in agent. */
  beforeInstall?: () => Promise<void>;
}

export function desktopUpdates(options: DesktopUpdateOptions): HostUpdates {
  const { currentVersion, updater } = options;
  const env = options.env ?? process.env;
  const settings = resolveUpdateSettings(options.savedSettings, env);
  const log: UpdateLog = options.log ?? (() => undefined);
  const updatedFrom = options.home ? recordRunVersion(options.home, 'desktop', currentVersion) : null;
  if (updatedFrom) log('info', `updated from ${updatedFrom} to ${currentVersion}`);
  const common = {
    currentVersion,
    howToUpdate: howToUpdate(options.appImage ? 'appimage' : 'desktop', { root: '', platform: process.platform }),
    ...(updatedFrom ? { updatedFrom } : {}),
  };
  const listeners = new Set<(state: UpdateState) => void>();
  let state: UpdateState = !updater
    ? { ...common, state: 'unsupported', reason: options.notPackagedReason ?? 'updates are installed with the packaged app only' }
    : settings.feedUrl
      ? { ...common, state: 'idle' }
      : { ...common, state: 'unsupported', reason: settings.offReason! };
  const set = (next: UpdateState) => {
    state = next;
    for (const l of listeners) l(next);
  };
  const active = updater !== null && settings.feedUrl !== null;

  let id: string | null = null;
  const stagingId = () => (id ??= options.home ? installId(options.home) : randomUUID());
  /** The version being offered, downloaded or ready, with its notes. */
  let offered: { version: string; notes: string | null; releaseDate: string | null } | null = null;
  let explicit = false;
  /** Failing since the last success: only the first failure of a run of them is logged at info. */
  let failing = false;
  let installing = false;

  const fail = (message: string) => {
    log(failing ? 'debug' : 'info', `update: ${message} (relaying is not affected; trying again later)`);
    failing = true;
    set({ ...common, state: 'error', message });
  };

  const scheduler = new UpdateScheduler(
    async (isExplicit) => {
      if (!active || state.state === 'ready') return true;
      explicit = isExplicit;
      try {
        const result = (await updater.checkForUpdates()) as { downloadPromise?: Promise<unknown> | null } | null;
        // The download goes on by itself (progress and its end arrive as events); a failure of it is
        // an 'error' event, handled there, so the promise only needs a catch.
        result?.downloadPromise?.catch(() => undefined);
        return true;
      } catch (err) {
        if (state.state !== 'error') fail(describeError(err as Error, offered?.version));
        return false;
      } finally {
        explicit = false;
      }
    },
    {
      firstDelayMs: settings.firstCheckDelayMs,
      retryDelayMs: settings.retryDelayMs,
      clock: options.clock,
      onPlanned: (at, afterFailure) => {
        if (afterFailure && state.state === 'error') set({ ...state, retryAt: new Date(at).toISOString() });
      },
    },
  );

  if (updater && active) {
    updater.autoDownload = true;
    updater.autoInstallOnAppQuit = true;
    updater.allowPrerelease = settings.prerelease;
    updater.setFeedURL?.({ provider: 'generic', url: settings.feedUrl! });
    // The same decisions as every other host: pre-releases only when asked for, staged rollouts by install id.
    updater.isUpdateSupported = (info) => prereleaseAllowed(info.version, currentVersion, settings.prerelease);
    updater.isUserWithinRollout = (info) =>
      withinRollout(typeof info.stagingPercentage === 'number' ? info.stagingPercentage : null, stagingId());
    updater.logger = {
      info: (m) => log('debug', `electron-updater: ${String(m)}`),
      warn: (m) => log('debug', `electron-updater: ${String(m)}`),
      error: (m) => log('debug', `electron-updater: ${String(m)}`),
    };
    updater.on('checking-for-update', () => {
      // Only an explicit check (or the first) shows "checking": a background one must not make a banner flicker.
      if (explicit || state.state === 'idle') set({ ...common, state: 'checking' });
    });
    updater.on('update-available', (info) => {
      offered = { version: info.version, notes: notesText(info.releaseNotes), releaseDate: dateOrNull(info.releaseDate) };
      failing = false;
      log('info', `version ${info.version} is available (this is ${currentVersion}); downloading it`);
      set({ ...common, state: 'available', ...offered, checkedAt: new Date().toISOString() });
    });
    updater.on('update-not-available', () => {
      failing = false;
      offered = null;
      set({ ...common, state: 'up-to-date', checkedAt: new Date().toISOString() });
    });
    updater.on('download-progress', (p) => {
      if (!offered) return;
      set({ ...common, state: 'downloading', ...offered, percent: Math.max(0, Math.min(100, p.percent)) });
    });
    updater.on('update-downloaded', (info) => {
      offered = {
        version: info.version,
        notes: offered?.notes ?? notesText(info.releaseNotes),
        releaseDate: offered?.releaseDate ?? dateOrNull(info.releaseDate),
      };
      log('info', `version ${info.version} is downloaded and verified; it installs on "Restart to update" or when the app quits`);
      set({ ...common, state: 'ready', ...offered });
    });
    updater.on('error', (err) => {
      const downloading = state.state === 'available' || state.state === 'downloading';
      fail(describeError(err, offered?.version));
      // A failed download is retried like a failed check (a failed check is counted by its own promise).
      if (downloading) scheduler.reportFailure();
    });
  }

  return {
    settings,
    getState: () => state,
    check: async () => {
      if (active) await scheduler.checkNow(true);
      return state;
    },
    install: async () => {
      if (!updater || state.state !== 'ready') throw new Error('no downloaded update to install');
      if (installing) throw new Error('the update is being installed already');
      installing = true;
      scheduler.stop();
      await options.beforeInstall?.();
      log('info', `restarting to install ${state.version}`);
      updater.quitAndInstall(false, true);
    },
    onChange: (listener) => {
      listeners.add(listener);
    },
    start: () => {
      if (active) scheduler.start();
    },
    stop: () => scheduler.stop(),
  };
}

/** electron-updater's errors in words for people; a checksum mismatch says plainly that nothing was installed. */
export function describeError(err: Error, version: string | undefined): string {
  const code = (err as NodeJS.ErrnoException).code;
  const what = version ? `version ${version}` : 'the update';
  if (code === 'ERR_CHECKSUM_MISMATCH' || /sha512 checksum mismatch/i.test(err.message)) {
    const detail = /expected (\S+), got (\S+)/.exec(err.message);
    return (
      `The download of ${what} was refused: its sha512 checksum does not match the one the update feed publishes` +
      (detail ? ` (expected ${detail[1]!.replace(/,$/, '')}, got ${detail[2]})` : '') +
      '. Nothing was installed; the download is tried again later.'
    );
  }
  if (code === 'ERR_UPDATER_CHANNEL_FILE_NOT_FOUND') return `the update feed has no file for this platform (${firstLine(err.message)})`;
  if (code === 'ERR_UPDATER_INVALID_UPDATE_INFO') return `the update feed is not valid (${firstLine(err.message)})`;
  return firstLine(errorMessage(err));
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.slice(0, 500);
}

function notesText(notes: UpdaterInfo['releaseNotes']): string | null {
  if (!notes) return null;
  if (typeof notes === 'string') return notes.trim() || null;
  return (
    notes
      .filter((n) => n.note)
      .map((n) => `${n.version}: ${n.note!.trim()}`)
      .join('\n\n') || null
  );
}

function dateOrNull(text: string | undefined): string | null {
  if (!text) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}
