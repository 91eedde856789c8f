import { readFileSync, renameSync, writeFileSync } from '../fs-sync.js';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type semverModule from 'semver';
import { nodeCrypto } from '../lazy-crypto.js';

/**
 * What the update check keeps in the config folder: `install-id` (a random UUID, made once, so a
 * staged rollout includes or excludes this install the same way every time) and
 * `last-run-version.json` (the version each kind of host last ran, so the first run after an
 * update can say "Updated to X").
 */

export const INSTALL_ID_FILE = 'install-id';
export const LAST_RUN_FILE = 'last-run-version.json';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * This install's id, created on first use. The config folder is not created for it (`hcm version`
 * on a new machine leaves no trace): where it does not exist or cannot be written, the id lasts
 * one run (the rollout then decides per run), never an error.
 */
export function installId(home: string): string {
  const file = join(home, INSTALL_ID_FILE);
  const existing = readTrimmed(file);
  if (existing && UUID.test(existing)) return existing.toLowerCase();
  const id = nodeCrypto().randomUUID();
  try {
    // 'wx': when two hosts start together, the first one's id wins and the other reads it.
    writeFileSync(file, `${id}\n`, { mode: 0o600, flag: existing === null ? 'wx' : 'w' });
    return id;
  } catch {
    const raced = readTrimmed(file);
    return raced && UUID.test(raced) ? raced.toLowerCase() : id;
  }
}

/**
 * Records that `host` runs `version` now; returns the version it ran before when this is the
 * first run after an update to a newer version, else null.
 */
export function recordRunVersion(home: string, host: 'desktop' | 'cli', version: string): string | null {
  const file = join(home, LAST_RUN_FILE);
  let record: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) record = parsed as Record<string, unknown>;
  } catch {
    // First run, or an unreadable file: nothing to compare with.
  }
  const before = record[host];
  if (before === version) return null;
  try {
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ ...record, [host]: version }, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    // Not worth failing for: the "updated" message is a courtesy.
  }
  // semver loads only here, when a version changed (hcm version starts faster without it).
  const semver = createRequire(import.meta.url)('semver') as typeof semverModule;
  return typeof before === 'string' && semver.valid(before) && semver.valid(version) && semver.lt(before, version) ? before : null;
}

function readTrimmed(file: string): string | null {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}
