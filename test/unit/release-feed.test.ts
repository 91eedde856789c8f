import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseFeed } from '../../src/core/updates/feed.js';
import { buildFeeds, targetOf } from '../../src/core/updates/release-feed.js';
import { ROOT } from '../helpers/paths.js';
import { makeRelease } from '../helpers/update-feed.js';

/** `npm run release:feed -- DIR` (dist/cli/release-feed.js) on real files. */

const sha512 = (path: string) => createHash('sha512').update(readFileSync(path)).digest('base64');
const script = join(ROOT, 'dist/cli/release-feed.js');

describe('release:feed', () => {
  it('writes the feed files electron-builder would, with sha512 and size computed from the artifacts', () => {
    const r = makeRelease('0.2.0', { notes: 'Reconnects faster.\nNew: hcm update.', staging: 20, date: '2026-05-04T08:00:00Z' });
    expect(
      readdirSync(r.dir)
        .filter((f) => f.endsWith('.yml'))
        .sort(),
    ).toEqual(['latest-linux.yml', 'latest-mac.yml', 'latest.yml']);
    const text = readFileSync(join(r.dir, 'latest-linux.yml'), 'utf8');
    const doc = parseYaml(text) as Record<string, unknown>;
    expect(doc).toEqual({
      version: '0.2.0',
      files: [r.appImage, r.deb, r.tgz].map((name) => ({
        url: name,
        sha512: sha512(join(r.dir, name)),
        size: readFileSync(join(r.dir, name)).length,
      })),
      path: r.appImage,
      sha512: sha512(join(r.dir, r.appImage)),
      releaseDate: '2026-05-04T08:00:00.000Z',
      releaseNotes: 'Reconnects faster.\nNew: hcm update.',
      stagingPercentage: 20,
    });
    // Windows and macOS got no desktop build here: their files name the npm package only.
    expect(
      (parseYaml(readFileSync(join(r.dir, 'latest.yml'), 'utf8')) as { files: Array<{ url: string }> }).files.map((f) => f.url),
    ).toEqual([r.tgz]);
    expect(r.output).toContain('wrote latest-linux.yml: 0.2.0, staged to 20%');

    // electron-updater (the desktop app) reads the same file the same way.
    const require = createRequire(import.meta.url);
    const provider = require('electron-updater/out/providers/Provider.js') as {
      parseUpdateInfo(
        text: string,
        file: string,
        url: URL,
      ): { version: string; files: Array<{ url: string; sha512: string; size: number }> };
    };
    const info = provider.parseUpdateInfo(text, 'latest-linux.yml', new URL('http://127.0.0.1/latest-linux.yml'));
    expect(info.files[0]).toMatchObject({ url: r.appImage, sha512: sha512(join(r.dir, r.appImage)) });
  });

  it('sorts artifacts into the platforms electron-updater looks for', () => {
    expect(targetOf('open-hcm-1.0.0-setup.exe')).toMatchObject({ feed: 'latest.yml' });
    expect(targetOf('open-hcm-1.0.0-mac-arm64.zip')).toMatchObject({ feed: 'latest-mac.yml', rank: 0 });
    expect(targetOf('open-hcm-1.0.0-mac-arm64.dmg')).toMatchObject({ feed: 'latest-mac.yml', rank: 1 });
    expect(targetOf('open-hcm-1.0.0-linux-x86_64.AppImage')).toMatchObject({ feed: 'latest-linux.yml' });
    expect(targetOf('open-hcm-1.0.0-linux-arm64.AppImage')).toMatchObject({ feed: 'latest-linux-arm64.yml' });
    expect(targetOf('open-hcm_1.0.0_arm64.deb')).toMatchObject({ feed: 'latest-linux-arm64.yml' });
    expect(targetOf('open-hcm-1.0.0.tgz')).toMatchObject({ feed: 'all' });
    expect(targetOf('open-hcm-1.0.0-setup.exe.blockmap')).toBeNull();
    expect(targetOf('builder-debug.yml')).toBeNull();
    const a = (name: string) => ({ name, size: 1, sha512: createHash('sha512').update(name).digest('base64') });
    const feeds = buildFeeds([a('open-hcm-1.0.0-mac-x64.dmg'), a('open-hcm-1.0.0-mac-x64.zip'), a('open-hcm-1.0.0-setup.exe')], {
      version: '1.0.0',
    });
    expect(feeds.map((f) => [f.fileName, f.feed.files.map((x) => x.url)])).toEqual([
      ['latest-mac.yml', ['open-hcm-1.0.0-mac-x64.zip', 'open-hcm-1.0.0-mac-x64.dmg']],
      ['latest.yml', ['open-hcm-1.0.0-setup.exe']],
    ]);
    expect(parseFeed(feeds[0]!.text, 'x').releaseNotes).toBeNull();
  });

  it('refuses an artifact of another version left in the folder, and says so', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hcm-rel-'));
    writeFileSync(join(dir, 'open-hcm-0.1.0-linux-x64.AppImage'), 'old');
    writeFileSync(join(dir, 'open-hcm-0.2.0-linux-x64.AppImage'), 'new');
    const run = spawnSync(process.execPath, [script, dir, '--version', '0.2.0'], { encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('open-hcm-0.1.0-linux-x64.AppImage does not carry version 0.2.0 in the name');
    expect(readdirSync(dir).filter((f) => f.endsWith('.yml'))).toEqual([]);
  });

  it('uses the version of package.json by default, and checks its arguments', () => {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    const dir = mkdtempSync(join(tmpdir(), 'hcm-rel-'));
    writeFileSync(join(dir, `open-hcm-${version}.tgz`), 'package');
    const ok = spawnSync(process.execPath, [script, dir], { encoding: 'utf8' });
    expect(ok.status, ok.stderr).toBe(0);
    expect(parseFeed(readFileSync(join(dir, 'latest-mac.yml'), 'utf8'), 'x').version).toBe(version);
    expect(spawnSync(process.execPath, [script], { encoding: 'utf8' }).status).toBe(2);
    const bad = spawnSync(process.execPath, [script, dir, '--staging', '150'], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/--staging must be a number from 0 to 100/);
    const empty = spawnSync(process.execPath, [script, mkdtempSync(join(tmpdir(), 'hcm-rel-'))], { encoding: 'utf8' });
    expect(empty.status).toBe(1);
    expect(empty.stderr).toMatch(/no release artifacts/);
  });
});
