import type { TransportOptions } from '../../relay/transport.js';
import type { UpdateHowTo, UpdateState } from '../../shared/api.js';
import { FEED_TIMEOUT_MS } from './defaults.js';
import { type UpdateFeed, feedFileName, readFeed } from './feed.js';
import { type InstallFacts, type InstallKind, detectInstallKind, howToUpdate, installFacts } from './install-kind.js';
import { judgeVersion } from './policy.js';

/**
 * One look at the feed: read this platform's feed file, judge its version for this install, and
 * say what to do. Used by the background checks of every command-line host (feed-updates.ts),
 * `hcm version` and `hcm update`.
 */

export interface CheckContext {
  currentVersion: string;
  /** The feed folder (from settings.ts, never null here). */
  feedUrl: string;
  prerelease: boolean;
  installId: string;
  install: InstallDescription;
  transport?: TransportOptions;
  timeoutMs?: number;
  background?: boolean;
  platform?: NodeJS.Platform;
  arch?: string;
}

export interface InstallDescription {
  kind: InstallKind;
  root: string;
  platform: NodeJS.Platform;
  arch: string;
}

export function describeInstall(facts: InstallFacts = installFacts(), arch: string = process.arch): InstallDescription {
  return { kind: detectInstallKind(facts), root: facts.root, platform: facts.platform, arch };
}

export function howToFor(
  install: InstallDescription,
  version: string | null,
  feedUrl: string | null,
  feed: UpdateFeed | null,
): UpdateHowTo {
  return howToUpdate(install.kind, { root: install.root, platform: install.platform, arch: install.arch, version, feedUrl, feed });
}

export interface CheckResult {
  state: Extract<UpdateState, { state: 'available' } | { state: 'up-to-date' }>;
  feed: UpdateFeed;
  /** The feed file that was read. */
  source: string;
  /** Why the feed's version is not an update for this install, when it is not (e.g. a staged rollout). */
  detail: string | null;
}

/** Throws an HcmError (E_UPDATE) with the reason when the feed cannot be read or is not a feed. */
export async function checkFeed(ctx: CheckContext): Promise<CheckResult> {
  const fileName = feedFileName(ctx.platform ?? process.platform, ctx.arch ?? process.arch);
  const source = new URL(fileName, ctx.feedUrl).toString();
  // Loaded here, not with the module: it brings TLS, which hcm version without a feed never needs.
  const { trustedCas } = await import('../azure/https-client.js');
  const ca = trustedCas(ctx.transport);
  const feed = await readFeed(ctx.feedUrl, {
    fileName,
    timeoutMs: ctx.timeoutMs ?? FEED_TIMEOUT_MS,
    background: ctx.background,
    userAgent: `open-hcm/${ctx.currentVersion}`,
    ...(ca ? { ca } : {}),
    ...(ctx.transport?.agent ? { agent: ctx.transport.agent } : {}),
  });
  const verdict = judgeVersion(ctx.currentVersion, feed, { prerelease: ctx.prerelease, installId: ctx.installId });
  const checkedAt = new Date().toISOString();
  if (verdict.update) {
    return {
      state: {
        state: 'available',
        currentVersion: ctx.currentVersion,
        version: feed.version,
        notes: feed.releaseNotes,
        releaseDate: feed.releaseDate,
        checkedAt,
        howToUpdate: howToFor(ctx.install, feed.version, ctx.feedUrl, feed),
      },
      feed,
      source,
      detail: null,
    };
  }
  return {
    state: {
      state: 'up-to-date',
      currentVersion: ctx.currentVersion,
      checkedAt,
      howToUpdate: howToFor(ctx.install, null, ctx.feedUrl, null),
    },
    feed,
    source,
    detail: verdict.detail,
  };
}
