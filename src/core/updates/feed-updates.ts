import type { TransportOptions } from '../../relay/transport.js';
import type { UpdateState } from '../../shared/api.js';
import { errorMessage } from '../../shared/errors.js';
import { readFileSync } from '../fs-sync.js';
import type { HcmPaths } from '../paths.js';
import type { UpdateProvider } from '../updates.js';
import { type CheckResult, type InstallDescription, checkFeed, describeInstall, howToFor } from './check.js';
import { installId, recordRunVersion } from './local-state.js';
import { type SchedulerClock, UpdateScheduler } from './scheduler.js';
import { type ResolvedUpdateSettings, resolveUpdateSettings } from './settings.js';

/**
 * Updates for the command-line hosts (`hcm run`, `hcm ui`, `hcm demo`): checks the feed at start
 * and about every 12 hours and keeps the state the UI and `hcm` show. These hosts cannot replace
 * their own files, so an available update comes with the exact command for this install
 * (npm, apt, a tarball, git). A check runs on timers of its own, never waits on or for the relay,
 * and a failure only changes the state and is retried later.
 */

export type UpdateLog = (level: 'debug' | 'info' | 'warn', message: string) => void;

export interface HostUpdates extends UpdateProvider {
  /** Plans the check at start and the regular ones (nothing when checks are off). */
  start(): void;
  stop(): void;
  readonly settings: ResolvedUpdateSettings;
}

export interface FeedUpdatesOptions {
  currentVersion: string;
  /** The config folder: install-id and last-run-version.json live there. */
  home: string;
  /** `settings.updates` of config.json (unknown: settings.ts checks it). */
  savedSettings: unknown;
  env?: NodeJS.ProcessEnv;
  transport?: TransportOptions;
  install?: InstallDescription;
  log?: UpdateLog;
  clock?: SchedulerClock;
}

export function feedUpdates(options: FeedUpdatesOptions): HostUpdates {
  const { currentVersion } = options;
  const settings = resolveUpdateSettings(options.savedSettings, options.env ?? process.env);
  const install = options.install ?? describeInstall();
  const log: UpdateLog = options.log ?? (() => undefined);
  const updatedFrom = recordRunVersion(options.home, 'cli', currentVersion);
  if (updatedFrom) log('info', `updated from ${updatedFrom} to ${currentVersion}`);
  const common = {
    currentVersion,
    howToUpdate: howToFor(install, null, settings.feedUrl, null),
    ...(updatedFrom ? { updatedFrom } : {}),
  };
  const listeners = new Set<(state: UpdateState) => void>();
  let state: UpdateState = settings.feedUrl
    ? { ...common, state: 'idle' }
    : { ...common, state: 'unsupported', reason: settings.offReason! };
  const set = (next: UpdateState) => {
    state = next;
    for (const l of listeners) l(next);
  };

  let id: string | null = null;
  /** Failing since the last success: only the first failure of a run of them is logged at info. */
  let failing = false;
  let announced: string | null = null;

  /** One check; true when the feed was read. Never throws. */
  const run = async (explicit: boolean): Promise<boolean> => {
    if (!settings.feedUrl) return true;
    if (explicit || state.state === 'idle') set({ ...common, state: 'checking' });
    let result: CheckResult;
    try {
      id ??= installId(options.home);
      result = await checkFeed({
        currentVersion,
        feedUrl: settings.feedUrl,
        prerelease: settings.prerelease,
        installId: id,
        install,
        transport: options.transport,
        background: !explicit,
      });
    } catch (err) {
      const message = errorMessage(err);
      log(failing ? 'debug' : 'info', `update check failed: ${message} (relaying is not affected; trying again later)`);
      failing = true;
      // A known update stays on show through a failed background check; otherwise say what failed.
      if (explicit || state.state !== 'available') set({ ...common, state: 'error', message });
      return false;
    }
    if (failing) log('info', 'update check works again');
    failing = false;
    const next = result.state;
    if (next.state === 'available' && announced !== next.version) {
      announced = next.version;
      const how = next.howToUpdate?.command ? `; update with: ${next.howToUpdate.command}` : '';
      log('info', `version ${next.version} is available (this is ${currentVersion})${how}`);
    } else if (next.state === 'up-to-date' && result.detail) {
      log('debug', `update check: ${result.detail}`);
    }
    set(updatedFrom ? { ...next, updatedFrom } : next);
    return true;
  };

  const scheduler = new UpdateScheduler(run, {
    firstDelayMs: settings.firstCheckDelayMs,
    retryDelayMs: settings.retryDelayMs,
    clock: options.clock,
    onPlanned: (at, afterFailure) => {
      if (afterFailure && state.state === 'error') set({ ...state, retryAt: new Date(at).toISOString() });
    },
  });

  return {
    settings,
    getState: () => state,
    check: async () => {
      if (settings.feedUrl) await scheduler.checkNow(true);
      return state;
    },
    install: async () => {
      const how = state.state === 'available' ? state.howToUpdate : howToFor(install, null, settings.feedUrl, null);
      throw new Error(
        `This host cannot install updates itself. ${how?.description ?? ''}${how?.command ? ` Run: ${how.command}` : ''}`.trim(),
      );
    },
    onChange: (listener) => {
      listeners.add(listener);
    },
    start: () => {
      if (settings.feedUrl) scheduler.start();
    },
    stop: () => scheduler.stop(),
  };
}

/**
 * The updates of a command-line host, from its folders: settings.updates read from config.json
 * (an unreadable config leaves the defaults; the service reports the file itself), the
 * environment, and the agent's extra CA.
 */
export function cliHostUpdates(options: {
  currentVersion: string;
  paths: Pick<HcmPaths, 'home' | 'configFile' | 'secretsFile'>;
  transport?: TransportOptions;
  log?: UpdateLog;
  env?: NodeJS.ProcessEnv;
}): HostUpdates {
  return feedUpdates({
    currentVersion: options.currentVersion,
    home: options.paths.home,
    savedSettings: savedUpdateSettings(options.paths),
    env: options.env,
    transport: options.transport,
    log: options.log,
  });
}

/** `settings.updates` from config.json; undefined when there is none or the file cannot be read (the service reports that). */
export function savedUpdateSettings(paths: Pick<HcmPaths, 'home' | 'configFile' | 'secretsFile'>): unknown {
  try {
    // Read as plain JSON: resolveUpdateSettings checks it, and the config store's schema library
    // is most of the start-up time of \`hcm version\`.
    const config = JSON.parse(readFileSync(paths.configFile, 'utf8')) as { settings?: { updates?: unknown } } | null;
    return config?.settings?.updates;
  } catch {
    return undefined;
  }
}

export interface OneCheck {
  /** available / up-to-date, or unsupported (checks off, no feed) or error (with the reason). */
  state: UpdateState;
  /** The feed file read, when one was. */
  source: string | null;
  /** Why the feed's version is not for this install (a staged rollout, a pre-release), when it is not. */
  detail: string | null;
}

/** One check now, for `hcm version` and `hcm update`: never throws, never waits longer than `timeoutMs`. */
export async function checkOnce(options: {
  currentVersion: string;
  paths: Pick<HcmPaths, 'home' | 'configFile' | 'secretsFile'>;
  timeoutMs: number;
  transport?: TransportOptions;
  env?: NodeJS.ProcessEnv;
  install?: InstallDescription;
}): Promise<OneCheck> {
  const settings = resolveUpdateSettings(savedUpdateSettings(options.paths), options.env ?? process.env);
  const install = options.install ?? describeInstall();
  const base = { currentVersion: options.currentVersion, howToUpdate: howToFor(install, null, settings.feedUrl, null) };
  if (!settings.feedUrl) return { state: { ...base, state: 'unsupported', reason: settings.offReason! }, source: null, detail: null };
  try {
    const result = await checkFeed({
      currentVersion: options.currentVersion,
      feedUrl: settings.feedUrl,
      prerelease: settings.prerelease,
      installId: installId(options.paths.home),
      install,
      transport: options.transport,
      timeoutMs: options.timeoutMs,
    });
    return { state: result.state, source: result.source, detail: result.detail };
  } catch (err) {
    return { state: { ...base, state: 'error', message: errorMessage(err) }, source: null, detail: null };
  }
}
