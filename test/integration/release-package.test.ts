import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { BUILT_IN_FEED_URL } from '../../src/core/updates/defaults.js';
import { ROOT } from '../helpers/paths.js';

/**
 * The release packages. Electron's binary cannot be downloaded here, so electron-builder runs
 * with `--dir` and a stand-in Electron (`electronDist`: a folder with an `electron` executable):
 * everything electron-builder does to our app happens (file selection, production dependencies,
 * app.asar, app-update.yml from the publish settings), only the installers (AppImage, deb, nsis,
 * dmg) are not made. What the package holds is then read from app.asar. The npm package
 * (`npm pack`, what `npm install -g` installs) is checked the same way.
 */

const require = createRequire(import.meta.url);
const asar = require('@electron/asar') as typeof import('@electron/asar');

interface LockEntry {
  dev?: boolean;
  optional?: boolean;
}

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

function run(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' } });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} took longer than ${timeoutMs / 1000} s\n${output.slice(-3000)}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

function folderSize(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    total += entry.isDirectory() ? folderSize(p) : statSync(p).size;
  }
  return total;
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

describe('electron-builder.yml', () => {
  const config = parseYaml(readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8')) as Record<string, unknown> & {
    linux: { target: string[] };
    win: { target: string[] };
    mac: { target: string[] };
    deb: { artifactName: string };
    nsis: { artifactName: string };
    publish: { provider: string; url: string };
  };

  it('makes AppImage and deb, nsis, dmg and zip, with our name, id, icons and artifact names', () => {
    expect(config).toMatchObject({ appId: 'io.github.open-hcm', productName: 'Hybrid Connection Manager', executableName: 'open-hcm' });
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.win.target).toEqual(['nsis']);
    expect(config.mac.target).toEqual(['dmg', 'zip']);
    expect(config.artifactName).toBe('${name}-${version}-${os}-${arch}.${ext}');
    expect(config.deb.artifactName).toBe('${name}_${version}_${arch}.${ext}');
    expect(config.nsis.artifactName).toBe('${name}-${version}-setup.${ext}');
    // One 1024 px PNG: electron-builder makes the .ico, .icns and Linux sizes from it.
    const icon = readFileSync(join(ROOT, String(config.icon)));
    expect(icon.subarray(1, 4).toString()).toBe('PNG');
    expect(icon.readUInt32BE(16)).toBeGreaterThanOrEqual(512);
    expect(config.publish).toMatchObject({ provider: 'generic', url: BUILT_IN_FEED_URL });
  });
});

describe('the desktop package (electron-builder --dir with a stand-in Electron)', () => {
  let out: string;
  let app: string;
  let files: string[];

  beforeAll(async () => {
    const fakeElectron = mkdtempSync(join(tmpdir(), 'hcm-fake-electron-'));
    writeFileSync(join(fakeElectron, 'electron'), '#!/bin/sh\necho "stand-in for Electron"\n');
    chmodSync(join(fakeElectron, 'electron'), 0o755);
    writeFileSync(join(fakeElectron, 'version'), 'v45.0.0');
    mkdirSync(join(fakeElectron, 'resources'));
    out = mkdtempSync(join(tmpdir(), 'hcm-package-'));
    const started = Date.now();
    const r = await run(
      process.execPath,
      [
        join(ROOT, 'node_modules/electron-builder/cli.js'),
        '--linux',
        '--x64',
        '--dir',
        `--config.electronDist=${fakeElectron}`,
        `--config.directories.output=${out}`,
      ],
      150_000,
    );
    expect(r.code, r.output.slice(-3000)).toBe(0);
    process.stdout.write(`electron-builder --dir took ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    app = join(out, 'linux-unpacked');
    files = asar.listPackage(join(app, 'resources/app.asar'), { isPack: false }).map((f) => f.replace(/^[\\/]/, '').replaceAll('\\', '/'));
  }, 180_000);

  it('is the app under our executable name, with the update feed in app-update.yml', () => {
    // The stand-in was packaged in place of Electron, renamed to our executable name.
    expect(readFileSync(join(app, 'version'), 'utf8')).toBe('v45.0.0');
    expect(statSync(join(app, 'open-hcm')).mode & 0o111).not.toBe(0);
    expect(parseYaml(readFileSync(join(app, 'resources/app-update.yml'), 'utf8'))).toEqual({
      provider: 'generic',
      url: BUILT_IN_FEED_URL,
      channel: 'latest',
      updaterCacheDirName: 'open-hcm-updater',
    });
    const packaged = JSON.parse(asar.extractFile(join(app, 'resources/app.asar'), 'package.json').toString()) as Record<string, unknown>;
    expect(packaged).toMatchObject({ name: 'open-hcm', version: pkg.version, main: 'dist/main/main.js' });
  });

  it('holds the compiled app, its icons and the production dependencies', () => {
    for (const f of [
      'dist/main/main.js',
      'dist/main/preload.cjs',
      'dist/renderer/index.html',
      'dist/core/service.js',
      'dist/core/updates/feed.js',
      'dist/relay/engine.js',
      'dist/emulator/demo.js',
      'assets/icon-256.png',
      'assets/tray-connected.png',
    ])
      expect(files, f).toContain(f);
    const unpacked = join(app, 'resources/app.asar.unpacked/node_modules');
    const inPackage = (name: string) => files.includes(`node_modules/${name}/package.json`) || readdirSafe(join(unpacked, name)).length > 0;
    for (const name of Object.keys(pkg.dependencies)) expect(inPackage(name), name).toBe(true);
  });

  it('holds no sources, tests, bench, source maps or development dependencies', () => {
    expect(files.filter((f) => /^(src|test|bench|docs|\.ci)\//.test(f))).toEqual([]);
    expect(files.filter((f) => f.startsWith('dist/bench/'))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(files).not.toContain('electron-builder.yml');
    // Every package in app.asar is a production one in package-lock.json (nothing marked dev).
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
    const modules = new Set<string>();
    for (const f of files) {
      const m = /^((?:node_modules\/(?:@[^/]+\/)?[^/]+\/)+)package\.json$/.exec(f);
      if (m) modules.add(m[1]!.replace(/\/$/, ''));
    }
    expect(modules.size).toBeGreaterThan(20);
    const dev = [...modules].filter((m) => lock.packages[m]?.dev === true);
    expect(dev).toEqual([]);
    for (const name of [
      'electron',
      'electron-builder',
      'vitest',
      'typescript',
      'eslint',
      'vite',
      'react',
      'react-dom',
      '@fluentui/react-components',
    ])
      expect(modules.has(`node_modules/${name}`), name).toBe(false);
  });

  it('is small', () => {
    const asarSize = statSync(join(app, 'resources/app.asar')).size;
    const total = folderSize(join(app, 'resources'));
    process.stdout.write(
      `app.asar ${mb(asarSize)}, resources/ ${mb(total)} (${files.length} entries), plus Electron's own files (a stand-in here)\n`,
    );
    expect(total).toBeLessThan(60 * 1024 * 1024);
  });
});

describe('the npm package (npm pack)', () => {
  it('holds the built CLI, the UI and the icons, and no sources, tests or maps', () => {
    const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const [packed] = JSON.parse(r.stdout) as Array<{ filename: string; size: number; files: Array<{ path: string }> }>;
    const paths = packed!.files.map((f) => f.path);
    expect(packed!.filename).toBe(`open-hcm-${pkg.version}.tgz`);
    for (const f of [
      'package.json',
      'README.md',
      'dist/cli/main.js',
      'dist/cli/release-feed.js',
      'dist/renderer/index.html',
      'assets/icon.png',
    ])
      expect(paths, f).toContain(f);
    expect(paths.filter((p) => /^(src|test|bench|node_modules)\//.test(p) || p.endsWith('.map') || p.startsWith('dist/bench/'))).toEqual(
      [],
    );
    process.stdout.write(`npm package ${packed!.filename}: ${mb(packed!.size)}, ${paths.length} files\n`);
  });
});

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
