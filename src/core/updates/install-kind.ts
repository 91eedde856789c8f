import { existsSync } from '../fs-sync.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { UpdateHowTo } from '../../shared/api.js';
import { type UpdateFeed, fileUrl } from './feed.js';

/**
 * How this copy of HCM was installed, told from where its files are, and what an admin runs to
 * update it. Pure functions over the facts (paths, environment, which files exist), so each case
 * is unit-tested without installing anything.
 *
 *   packaged desktop app           → desktop (AppImage: appimage): the app updates itself
 *   <root>/.git exists             → source: git pull, npm ci, npm run build
 *   …/lib/node_modules/open-hcm    → npm-global (Windows: …\npm\node_modules\open-hcm)
 *   under /usr or /opt with a dpkg record → deb
 *   any other folder of its own    → tar.gz (an unpacked release tarball)
 *   inside another project's node_modules → unknown
 */

export type InstallKind = UpdateHowTo['kind'];

export const PACKAGE_NAME = 'open-hcm';

export interface InstallFacts {
  /** The package folder (holding package.json and dist/). */
  root: string;
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  exists(path: string): boolean;
  /** The packaged desktop app (Electron with app.isPackaged). */
  packagedDesktop?: boolean;
}

/** The folder of this package: three levels above dist/core/updates (or src/core/updates). */
export function packageRoot(): string {
  return fileURLToPath(new URL('../../../', import.meta.url)).replace(/[\\/]$/, '');
}

export function installFacts(overrides: Partial<InstallFacts> = {}): InstallFacts {
  return { root: packageRoot(), platform: process.platform, env: process.env, exists: existsSync, ...overrides };
}

export function detectInstallKind(facts: InstallFacts): InstallKind {
  if (facts.packagedDesktop) return facts.env.APPIMAGE ? 'appimage' : 'desktop';
  const p = facts.platform === 'win32' ? path.win32 : path.posix;
  const root = p.normalize(facts.root);
  if (facts.exists(p.join(root, '.git'))) return 'source';
  const parts = root.split(p.sep).filter(Boolean);
  const n = parts.length;
  if (n >= 2 && parts[n - 2] === 'node_modules') {
    const holder = (parts[n - 3] ?? '').toLowerCase();
    // npm's global folder: <prefix>/lib/node_modules on POSIX, <prefix>\node_modules on Windows
    // (%APPDATA%\npm, or the Node.js folder itself).
    const globalFolder =
      facts.platform === 'win32' ? holder === 'npm' || holder === 'nodejs' || isNpmPrefix(facts, parts) : holder === 'lib';
    return globalFolder ? 'npm-global' : 'unknown';
  }
  if (parts.includes('node_modules')) return 'unknown';
  if (
    facts.platform === 'linux' &&
    (root.startsWith('/usr/') || root.startsWith('/opt/')) &&
    facts.exists(`/var/lib/dpkg/info/${PACKAGE_NAME}.list`)
  )
    return 'deb';
  return 'tar.gz';
}

function isNpmPrefix(facts: InstallFacts, parts: string[]): boolean {
  const prefix = facts.env.npm_config_prefix;
  if (!prefix) return false;
  return path.win32.normalize(prefix).toLowerCase() === parts.slice(0, -2).join('\\').toLowerCase();
}

export interface HowToContext {
  root: string;
  platform: NodeJS.Platform;
  arch?: string;
  /** The version to install, when known. */
  version?: string | null;
  feedUrl?: string | null;
  feed?: UpdateFeed | null;
}

/** The exact command (or the app's own way) for this install, with the feed's files where it has them. */
export function howToUpdate(kind: InstallKind, ctx: HowToContext): UpdateHowTo {
  const win = ctx.platform === 'win32';
  const q = win ? quoteWindows : quotePosix;
  const tarball = ctx.feed && ctx.feedUrl ? findFile(ctx.feed, (name) => /\.tgz$/i.test(name)) : null;
  const tarballUrl = tarball && ctx.feedUrl ? fileUrl(ctx.feedUrl, tarball) : null;
  const where = ctx.feedUrl ? ` (releases: ${ctx.feedUrl})` : '';
  switch (kind) {
    case 'desktop':
    case 'appimage':
      return {
        kind,
        command: null,
        description:
          kind === 'appimage'
            ? 'The app downloads the new AppImage itself, checks it and replaces this one when you choose Restart to update.'
            : 'The app downloads the update itself, checks it and installs it when you choose Restart to update.',
      };
    case 'npm-global': {
      const spec = tarballUrl ?? `${PACKAGE_NAME}@${ctx.version ?? 'latest'}`;
      return {
        kind,
        command: `npm install -g ${q(spec)}`,
        description: 'Installed with npm install -g: update it with npm, then restart hcm run or hcm ui.',
      };
    }
    case 'deb': {
      const deb =
        ctx.feed && ctx.feedUrl ? findFile(ctx.feed, (name) => name.endsWith('.deb'), debianArch(ctx.arch ?? process.arch)) : null;
      const name = deb ? deb.url.split('/').pop()! : null;
      return {
        kind,
        command:
          deb && name && ctx.feedUrl
            ? `curl -fLO ${q(fileUrl(ctx.feedUrl, deb))} && sudo apt install ./${q(name)}`
            : `sudo apt update && sudo apt install --only-upgrade ${PACKAGE_NAME}`,
        description: 'Installed from a .deb package: update it with apt (the service restarts with the package).',
      };
    }
    case 'tar.gz':
      return {
        kind,
        command: tarballUrl
          ? win
            ? `curl.exe -fLo open-hcm.tgz ${q(tarballUrl)} && tar -xzf open-hcm.tgz -C ${q(ctx.root)} --strip-components=1 && npm install --prefix ${q(ctx.root)} --omit=dev`
            : `curl -fL ${q(tarballUrl)} | tar -xz -C ${q(ctx.root)} --strip-components=1 && npm install --prefix ${q(ctx.root)} --omit=dev`
          : null,
        description: `Unpacked from a release tarball into ${ctx.root}: unpack the new one over it${where}, then restart hcm run or hcm ui.`,
      };
    case 'source':
      return {
        kind,
        command: `git -C ${q(ctx.root)} pull && npm --prefix ${q(ctx.root)} ci && npm --prefix ${q(ctx.root)} run build`,
        description: `Run from a git checkout (${ctx.root}): pull, install and build, then restart it.`,
      };
    case 'unknown':
      return { kind, command: null, description: `Update it the way it was installed${where}.` };
  }
}

function findFile(feed: UpdateFeed, match: (name: string) => boolean, prefer?: string): UpdateFeed['files'][number] | null {
  const candidates = feed.files.filter((f) => match((f.url.split('/').pop() ?? '').toLowerCase()));
  return (prefer ? candidates.find((f) => f.url.includes(prefer)) : undefined) ?? candidates[0] ?? null;
}

function debianArch(arch: string): string {
  return arch === 'x64' ? 'amd64' : arch === 'arm' ? 'armhf' : arch;
}

export function quotePosix(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function quoteWindows(s: string): string {
  return /^[\w@%+=:,./\\-]+$/.test(s) ? s : `"${s.replace(/"/g, '""')}"`;
}
