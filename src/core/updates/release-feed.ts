import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { stringify } from 'yaml';
import { HcmError } from '../../shared/errors.js';
import { type UpdateFeed, parseFeed } from './feed.js';

/**
 * `npm run release:feed -- DIR`: the feed files for the release artifacts in DIR, as
 * electron-builder writes them (version, files with url/sha512/size, path and sha512 of the
 * first file, releaseDate, releaseNotes, stagingPercentage):
 *
 *   latest.yml               Windows: the NSIS installer (.exe)
 *   latest-mac.yml           macOS: the .zip electron-updater installs from, then the .dmg
 *   latest-linux.yml         Linux x64: AppImage, .deb, .rpm, .tar.gz …
 *   latest-linux-<arch>.yml  Linux on other architectures (arm64, armv7l), when there are such files
 *
 * The npm package (`npm pack`, open-hcm-<version>.tgz) runs everywhere, so it is listed in every
 * file (and every platform gets a file when it is there): command-line hosts name it in their
 * update command. Every artifact must carry the version
 * in its name, so an old file left in DIR is never published as the new version.
 */

export interface ReleaseArtifact {
  name: string;
  size: number;
  /** base64 SHA-512, as electron-builder writes it. */
  sha512: string;
}

export interface ReleaseFeedOptions {
  version: string;
  releaseDate?: string;
  notes?: string | null;
  stagingPercentage?: number | null;
}

export interface FeedFileOut {
  fileName: string;
  text: string;
  feed: UpdateFeed;
}

type Target = { feed: 'latest.yml' | 'latest-mac.yml' | `latest-linux${string}.yml`; rank: number } | { feed: 'all'; rank: number };

/** Which feed file an artifact belongs to (null: not a release artifact, e.g. a blockmap). */
export function targetOf(name: string): Target | null {
  const lower = name.toLowerCase();
  if (lower.endsWith('.blockmap') || lower.endsWith('.yml') || lower.endsWith('.yaml') || lower.startsWith('.')) return null;
  if (lower.endsWith('.tgz')) return { feed: 'all', rank: 9 };
  if (lower.endsWith('.exe')) return { feed: 'latest.yml', rank: 0 };
  if (lower.endsWith('.dmg')) return { feed: 'latest-mac.yml', rank: 1 };
  if (lower.endsWith('.zip') && /(mac|darwin|osx)/.test(lower)) return { feed: 'latest-mac.yml', rank: 0 };
  const linux: Array<[string, number]> = [
    ['.appimage', 0],
    ['.deb', 1],
    ['.rpm', 2],
    ['.pacman', 3],
    ['.snap', 4],
    ['.tar.gz', 5],
    ['.tar.xz', 5],
  ];
  for (const [ext, rank] of linux) {
    if (lower.endsWith(ext)) {
      const arch = /(arm64|aarch64)/.test(lower) ? 'arm64' : /(armv7l|armhf)/.test(lower) ? 'armv7l' : 'x64';
      return { feed: arch === 'x64' ? 'latest-linux.yml' : `latest-linux-${arch}.yml`, rank };
    }
  }
  return null;
}

export function sha512Base64(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha512');
    createReadStream(path)
      .on('data', (c) => hash.update(c))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('base64')));
  });
}

/** The release artifacts in `dir` (top level only: electron-builder's *-unpacked folders are skipped). */
export async function readArtifacts(dir: string): Promise<{ artifacts: ReleaseArtifact[]; skipped: string[] }> {
  const artifacts: ReleaseArtifact[] = [];
  const skipped: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const st = statSync(path);
    if (!st.isFile()) continue;
    if (!targetOf(name)) {
      if (!/\.(blockmap|ya?ml)$/i.test(name)) skipped.push(name);
      continue;
    }
    artifacts.push({ name, size: st.size, sha512: await sha512Base64(path) });
  }
  return { artifacts, skipped };
}

export function buildFeeds(artifacts: ReleaseArtifact[], options: ReleaseFeedOptions): FeedFileOut[] {
  const { version } = options;
  if (semver.valid(version) !== version) throw new HcmError('E_USAGE', `"${version}" is not a semantic version such as 1.2.3`);
  const stale = artifacts.filter((a) => !a.name.includes(version));
  if (stale.length)
    throw new HcmError(
      'E_INVALID',
      `${stale.map((a) => a.name).join(', ')} ${stale.length === 1 ? 'does' : 'do'} not carry version ${version} in the name; ` +
        'remove old artifacts from the folder (or build them again with this version)',
    );
  if (options.stagingPercentage != null && !(options.stagingPercentage >= 0 && options.stagingPercentage <= 100))
    throw new HcmError('E_USAGE', 'the staging percentage must be a number from 0 to 100');

  const byFeed = new Map<string, Array<{ a: ReleaseArtifact; rank: number }>>();
  const everywhere: Array<{ a: ReleaseArtifact; rank: number }> = [];
  for (const a of artifacts) {
    const t = targetOf(a.name)!;
    if (t.feed === 'all') everywhere.push({ a, rank: t.rank });
    else byFeed.set(t.feed, [...(byFeed.get(t.feed) ?? []), { a, rank: t.rank }]);
  }
  // The npm package runs everywhere: every platform gets a file naming it, also where no desktop
  // build was made (hcm on that platform finds its update; the desktop app there says the feed has no file for it).
  if (everywhere.length) for (const f of ['latest.yml', 'latest-mac.yml', 'latest-linux.yml']) if (!byFeed.has(f)) byFeed.set(f, []);
  if (byFeed.size === 0)
    throw new HcmError('E_INVALID', 'no release artifacts (.exe, .dmg, .zip, .AppImage, .deb, .rpm, .tar.gz, .tgz) found');

  const releaseDate = options.releaseDate ?? new Date().toISOString();
  const out: FeedFileOut[] = [];
  for (const [fileName, list] of [...byFeed].sort(([x], [y]) => x.localeCompare(y))) {
    const files = [...list.sort((x, y) => x.rank - y.rank || x.a.name.localeCompare(y.a.name)), ...everywhere].map(({ a }) => ({
      url: a.name,
      sha512: a.sha512,
      size: a.size,
    }));
    const doc: Record<string, unknown> = { version, files, path: files[0]!.url, sha512: files[0]!.sha512, releaseDate };
    if (options.notes) doc.releaseNotes = options.notes;
    if (options.stagingPercentage != null) doc.stagingPercentage = options.stagingPercentage;
    const text = stringify(doc, { lineWidth: 0 });
    // What we write must be what every host accepts.
    out.push({ fileName, text, feed: parseFeed(text, fileName) });
  }
  return out;
}

/** Reads DIR, writes the feed files next to the artifacts (atomically), and returns them. */
export async function writeReleaseFeed(dir: string, options: ReleaseFeedOptions): Promise<{ written: FeedFileOut[]; skipped: string[] }> {
  const { artifacts, skipped } = await readArtifacts(dir);
  const written = buildFeeds(artifacts, options);
  for (const f of written) {
    const path = join(dir, f.fileName);
    writeFileSync(`${path}.tmp`, f.text);
    renameSync(`${path}.tmp`, path);
  }
  return { written, skipped };
}
