import { createRequire } from 'node:module';
import type semverModule from 'semver';

// Loaded on the first judgement (a feed was read), not by every command that imports the checks.
const require = createRequire(import.meta.url);
const semver = () => require('semver') as typeof semverModule;

/**
 * Whether the version a feed names is an update for this install: newer by semantic versioning,
 * a pre-release only when pre-releases were asked for, and within a staged rollout. The desktop
 * app hands the same two decisions to electron-updater (isUpdateSupported, isUserWithinRollout),
 * so every host decides alike.
 */

export type Verdict = { update: true } | { update: false; why: 'same' | 'older' | 'prerelease' | 'staged'; detail: string };

export function judgeVersion(
  current: string,
  offered: { version: string; stagingPercentage: number | null },
  options: { prerelease: boolean; installId: string },
): Verdict {
  const { version } = offered;
  if (semver().eq(version, current)) return { update: false, why: 'same', detail: `${current} is the latest version` };
  if (semver().lt(version, current)) return { update: false, why: 'older', detail: `${current} is newer than the feed's ${version}` };
  if (!prereleaseAllowed(version, current, options.prerelease))
    return { update: false, why: 'prerelease', detail: `${version} is a pre-release; pre-releases are not installed unless asked for` };
  if (!withinRollout(offered.stagingPercentage, options.installId))
    return {
      update: false,
      why: 'staged',
      detail: `${version} is being rolled out to ${offered.stagingPercentage}% of installs, not yet to this one`,
    };
  return { update: true };
}

/**
 * A pre-release counts only when asked for, or when this install already runs one (whoever
 * installed a beta has asked; electron-updater decides the same way).
 */
export function prereleaseAllowed(version: string, current: string, optedIn: boolean): boolean {
  return !semver().prerelease(version) || optedIn || !!semver().prerelease(current);
}

/**
 * Staged rollout as electron-updater does it: the install id's bytes 12–15 as a fraction of
 * 2^32−1 must be below the percentage, so an install stays in (or out of) a rollout across
 * checks, and one that is in stays in as the percentage grows.
 */
export function withinRollout(stagingPercentage: number | null, installId: string): boolean {
  if (stagingPercentage === null || stagingPercentage >= 100) return true;
  return rolloutPosition(installId) < stagingPercentage / 100;
}

/** This install's place in any rollout, 0 ≤ x ≤ 1. */
export function rolloutPosition(installId: string): number {
  const hex = installId.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new Error(`not an install id: ${installId}`);
  return parseInt(hex.slice(24, 32), 16) / 0xffffffff;
}
