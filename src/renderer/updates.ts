/**
 * What the update banner and About say about the host's update state. Pure functions: the
 * components only render what these decide, and the tests check the decisions directly.
 */
import type { AppInfo, UpdateHowTo, UpdateState } from '../shared/api.js';
import { formatDate, formatDateTime } from './format.js';
import { forPeople } from './messages.js';

/** Installs that download and install a new version themselves ("Restart to update"). */
const SELF_UPDATING: ReadonlySet<UpdateHowTo['kind']> = new Set(['desktop', 'appimage']);

interface Offered {
  version: string;
  /** The version running now. */
  currentVersion: string;
  notes: string | null;
  releaseDate: string | null;
  /**
   * What a dismissal is remembered under: the version, and for `ready` the version with " ready",
   * so a banner dismissed while the desktop app was still downloading comes back once there is
   * something to do ("Restart to update").
   */
  dismissKey: string;
}

/** The banner on every screen, when there is a new version; null when there is nothing to show. */
export type UpdateBannerModel =
  | (Offered & {
      kind: 'available';
      /** The app downloads it itself (desktop, AppImage): the banner says "Downloading…". */
      selfUpdating: boolean;
      /** The exact command that installs it, for the hosts that cannot (npm, deb, tar.gz, a git checkout). */
      command: string | null;
      /** How this install is updated, one sentence; null when the host did not say. */
      description: string | null;
    })
  | (Offered & { kind: 'downloading'; percent: number })
  | (Offered & { kind: 'ready' });

export function isSelfUpdating(update: UpdateState, host: AppInfo['host'] | null): boolean {
  return update.howToUpdate ? SELF_UPDATING.has(update.howToUpdate.kind) : host === 'electron';
}

/**
 * `available`, `downloading` and `ready` make a banner, unless it was dismissed for that version;
 * every other state (checking, up to date, idle, unsupported, an error) shows in About only.
 */
export function updateBanner(update: UpdateState | null, dismissed: string | null, host: AppInfo['host'] | null): UpdateBannerModel | null {
  if (!update) return null;
  let model: UpdateBannerModel;
  const offered = (u: { version: string; notes: string | null; releaseDate: string | null }, dismissKey: string): Offered => ({
    version: u.version,
    currentVersion: update.currentVersion,
    notes: typeof u.notes === 'string' && u.notes.trim() !== '' ? u.notes.trim() : null,
    releaseDate: u.releaseDate ?? null,
    dismissKey,
  });
  switch (update.state) {
    case 'available':
      model = {
        kind: 'available',
        ...offered(update, update.version),
        selfUpdating: isSelfUpdating(update, host),
        command: update.howToUpdate?.command ?? null,
        description: update.howToUpdate?.description ?? null,
      };
      break;
    case 'downloading':
      model = { kind: 'downloading', ...offered(update, update.version), percent: clampPercent(update.percent) };
      break;
    case 'ready':
      model = { kind: 'ready', ...offered(update, `${update.version} ready`) };
      break;
    default:
      return null;
  }
  return dismissed === model.dismissKey ? null : model;
}

/** "Updated to X" on the first run after an update, until it was once shown in this browser (or app). */
export function updatedNotice(update: UpdateState | null, seen: string | null): { version: string; from: string } | null {
  if (!update?.updatedFrom || seen === update.currentVersion) return null;
  return { version: update.currentVersion, from: update.updatedFrom };
}

function clampPercent(percent: number): number {
  return Number.isFinite(percent) ? Math.max(0, Math.min(100, Math.round(percent))) : 0;
}

/** The title of the banner: what there is, and what happens next. */
export function bannerTitle(model: UpdateBannerModel): string {
  const released = model.releaseDate ? ` (released ${formatDate(model.releaseDate)})` : '';
  switch (model.kind) {
    case 'available':
      return model.selfUpdating
        ? `Version ${model.version} is available${released}. Downloading…`
        : `Version ${model.version} is available${released}`;
    case 'downloading':
      return `Downloading version ${model.version}: ${model.percent}%`;
    case 'ready':
      return `Version ${model.version} is ready to install`;
  }
}

/** About's one sentence on the update state: the reason when there is no check, the error when it failed. */
export function describeUpdate(u: UpdateState, host: AppInfo['host'] | null): string {
  switch (u.state) {
    case 'idle':
      return `Version ${u.currentVersion}. Not checked for updates yet.`;
    case 'checking':
      return 'Checking for updates…';
    case 'up-to-date':
      return `Version ${u.currentVersion} is the latest (checked ${formatDateTime(u.checkedAt)}).`;
    case 'available':
      if (isSelfUpdating(u, host)) return `Version ${u.version} is available; it is being downloaded.`;
      return u.howToUpdate?.command
        ? `Version ${u.version} is available (this is ${u.currentVersion}). ${sentence(u.howToUpdate.description)} Update with:`
        : `Version ${u.version} is available (this is ${u.currentVersion}). ${sentence(u.howToUpdate?.description ?? 'Install it the way this copy was installed.')}`;
    case 'downloading':
      return `Downloading version ${u.version}: ${clampPercent(u.percent)}%.`;
    case 'ready':
      return `Version ${u.version} is downloaded and installs when the app restarts.`;
    case 'unsupported':
      return forPeople(u.reason);
    case 'error':
      return `The update check failed: ${forPeople(u.message)}`;
  }
}

function sentence(text: string): string {
  const t = text.trim();
  return /[.!?]$/.test(t) ? t : `${t}.`;
}
