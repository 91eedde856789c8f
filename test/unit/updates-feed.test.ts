import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { BUILT_IN_FEED_URL } from '../../src/core/updates/defaults.js';
import { feedFileName, fileUrl, parseFeed } from '../../src/core/updates/feed.js';
import { detectInstallKind, howToUpdate, type InstallFacts } from '../../src/core/updates/install-kind.js';
import { INSTALL_ID_FILE, installId, recordRunVersion } from '../../src/core/updates/local-state.js';
import { judgeVersion, rolloutPosition, withinRollout } from '../../src/core/updates/policy.js';
import { resolveUpdateSettings } from '../../src/core/updates/settings.js';
import { ROOT } from '../helpers/paths.js';
import { idAt } from '../helpers/update-feed.js';

/** The update check's pure parts: the feed format, the version policy, settings, install kinds, local state. */

const sha = (text: string) => createHash('sha512').update(text).digest('base64');

const FEED = `version: 1.3.0
files:
  - url: open-hcm-1.3.0-linux-x64.AppImage
    sha512: ${sha('appimage')}
    size: 104857600
    blockMapSize: 110000
  - url: open-hcm_1.3.0_amd64.deb
    sha512: ${sha('deb')}
    size: 73400320
  - url: open-hcm-1.3.0.tgz
    sha512: ${sha('tgz')}
    size: 2048000
path: open-hcm-1.3.0-linux-x64.AppImage
sha512: ${sha('appimage')}
releaseDate: '2026-04-02T10:00:00.000Z'
releaseNotes: |
  Faster reconnects.
  Fixes the tray icon.
stagingPercentage: 25
`;

describe('the feed (electron-builder format)', () => {
  it('reads a feed as electron-builder writes it', () => {
    const feed = parseFeed(FEED, 'latest-linux.yml');
    expect(feed).toEqual({
      version: '1.3.0',
      files: [
        { url: 'open-hcm-1.3.0-linux-x64.AppImage', sha512: sha('appimage'), size: 104857600 },
        { url: 'open-hcm_1.3.0_amd64.deb', sha512: sha('deb'), size: 73400320 },
        { url: 'open-hcm-1.3.0.tgz', sha512: sha('tgz'), size: 2048000 },
      ],
      releaseDate: '2026-04-02T10:00:00.000Z',
      releaseNotes: 'Faster reconnects.\nFixes the tray icon.',
      stagingPercentage: 25,
    });
  });

  it('reads release notes in the list form', () => {
    const text = FEED.replace(
      /releaseNotes: \|\n.*\n.*\n/,
      'releaseNotes:\n  - version: 1.3.0\n    note: New\n  - version: 1.2.9\n    note: null\n',
    );
    expect(parseFeed(text, 'x').releaseNotes).toBe('1.3.0: New');
  });

  it.each([
    ['not YAML', 'version: [1.3.0\nfiles: ]', /not valid YAML/],
    ['an HTML page (a captive portal)', '<html><body>Sign in to the Wi-Fi</body></html>', /is not an update feed.*got "<html>/],
    ['empty', '', /is not an update feed/],
    ['no version', FEED.replace('version: 1.3.0', 'name: x'), /has no valid version/],
    ['a version that is not semver', FEED.replace('version: 1.3.0', 'version: v1.3'), /has no valid version/],
    ['no files', 'version: 1.3.0\nfiles: []\n', /lists no files/],
    ['a bad sha512', FEED.replace(sha('deb'), 'abc'), /files\[1\] \(open-hcm_1.3.0_amd64.deb\) has no valid sha512/],
    ['a hex sha512', FEED.replace(sha('deb'), createHash('sha512').update('deb').digest('hex')), /has no valid sha512/],
    ['a negative size', FEED.replace('size: 73400320', 'size: -1'), /has no valid size/],
    ['a url climbing out of the feed', FEED.replace('url: open-hcm_1.3.0_amd64.deb', 'url: ../../etc/passwd'), /has no usable url/],
    ['a staging percentage over 100', FEED.replace('stagingPercentage: 25', 'stagingPercentage: 250'), /stagingPercentage/],
    ['a release date that is no date', FEED.replace("'2026-04-02T10:00:00.000Z'", 'soon'), /releaseDate/],
    ['duplicate keys', `${FEED}version: 9.9.9\n`, /not valid YAML/],
  ])('refuses %s with the reason', (_what, text, reason) => {
    expect(() => parseFeed(text, 'https://example.test/latest-linux.yml')).toThrow(reason);
  });

  it('names the file electron-updater reads per platform and architecture', () => {
    expect(feedFileName('win32', 'x64')).toBe('latest.yml');
    expect(feedFileName('darwin', 'arm64')).toBe('latest-mac.yml');
    expect(feedFileName('linux', 'x64')).toBe('latest-linux.yml');
    expect(feedFileName('linux', 'arm64')).toBe('latest-linux-arm64.yml');
  });

  it('resolves file names against the feed folder', () => {
    expect(fileUrl('https://dl.example.test/hcm/', { url: 'a b.deb', sha512: '', size: 1 })).toBe('https://dl.example.test/hcm/a%20b.deb');
    expect(fileUrl('https://dl.example.test/hcm/', { url: 'https://cdn.example.test/x.deb', sha512: '', size: 1 })).toBe(
      'https://cdn.example.test/x.deb',
    );
  });

  it('is the feed electron-builder.yml publishes (the desktop app reads it from app-update.yml)', () => {
    const config = parseYaml(readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8')) as { publish: { provider: string; url: string } };
    expect(config.publish.provider).toBe('generic');
    expect(config.publish.url).toBe(BUILT_IN_FEED_URL);
  });

  it('accepts what electron-updater itself accepts', () => {
    // electron-updater's own parser, as the desktop app runs it (plain Node: it does not load 'electron' for this).
    const require = createRequire(import.meta.url);
    const provider = require('electron-updater/out/providers/Provider.js') as {
      parseUpdateInfo(text: string, file: string, url: URL): { version: string; files: Array<{ url: string; sha512: string }> };
    };
    const info = provider.parseUpdateInfo(FEED, 'latest-linux.yml', new URL('https://dl.example.test/latest-linux.yml'));
    const ours = parseFeed(FEED, 'latest-linux.yml');
    expect(info.version).toBe(ours.version);
    expect(info.files.map((f) => [f.url, f.sha512])).toEqual(ours.files.map((f) => [f.url, f.sha512]));
  });
});

describe('which version counts as an update', () => {
  const id = idAt(0.5);
  const opts = { prerelease: false, installId: id };

  it('compares by semantic versioning', () => {
    expect(judgeVersion('1.2.0', { version: '1.10.0', stagingPercentage: null }, opts)).toEqual({ update: true });
    expect(judgeVersion('1.2.0', { version: '1.2.0', stagingPercentage: null }, opts)).toMatchObject({ update: false, why: 'same' });
    expect(judgeVersion('1.10.0', { version: '1.9.9', stagingPercentage: null }, opts)).toMatchObject({ update: false, why: 'older' });
    expect(judgeVersion('1.2.0-beta.1', { version: '1.2.0', stagingPercentage: null }, opts)).toEqual({ update: true });
  });

  it('offers pre-releases only when asked for (or to an install that runs one)', () => {
    const beta = { version: '1.3.0-beta.2', stagingPercentage: null };
    expect(judgeVersion('1.2.0', beta, opts)).toMatchObject({ update: false, why: 'prerelease' });
    expect(judgeVersion('1.2.0', beta, { ...opts, prerelease: true })).toEqual({ update: true });
    expect(judgeVersion('1.3.0-beta.1', beta, opts)).toEqual({ update: true });
  });

  it('honours a staged rollout with the stable install id', () => {
    const staged = (p: number) => ({ version: '1.3.0', stagingPercentage: p });
    expect(judgeVersion('1.2.0', staged(40), opts)).toMatchObject({
      update: false,
      why: 'staged',
      detail: '1.3.0 is being rolled out to 40% of installs, not yet to this one',
    });
    expect(judgeVersion('1.2.0', staged(60), opts)).toEqual({ update: true });
    expect(withinRollout(0, idAt(0))).toBe(false);
    expect(withinRollout(100, idAt(1))).toBe(true);
    expect(rolloutPosition(idAt(0.25))).toBeCloseTo(0.25, 6);
  });

  it('places an install in a rollout as electron-updater does (UUID bytes 12-15, big-endian)', () => {
    for (const uuid of ['00000000-0000-4000-8000-0000ffffffff', '12345678-9abc-4def-8123-456789abcdef', idAt(0.1)]) {
      const bytes = Buffer.from(uuid.replace(/-/g, ''), 'hex');
      expect(rolloutPosition(uuid)).toBe(bytes.readUInt32BE(12) / 0xffffffff);
    }
  });
});

describe('update settings', () => {
  it('reads the built-in feed, and says when none is configured', () => {
    expect(resolveUpdateSettings(undefined, {}, 'https://dl.example.test/hcm')).toMatchObject({
      feedUrl: 'https://dl.example.test/hcm/',
      offReason: null,
      prerelease: false,
      feedSource: 'built-in',
    });
    expect(resolveUpdateSettings(undefined, {})).toMatchObject({
      feedUrl: null,
      offReason: expect.stringMatching(/No update feed is configured/),
    });
  });

  it('takes the environment over config.json over the built-in feed', () => {
    const saved = { url: 'https://mirror.example.test/hcm/', prerelease: true };
    expect(resolveUpdateSettings(saved, {}, 'https://dl.example.test/')).toMatchObject({
      feedUrl: 'https://mirror.example.test/hcm/',
      feedSource: 'settings.updates.url',
      prerelease: true,
    });
    expect(resolveUpdateSettings(saved, { HCM_UPDATE_URL: 'http://127.0.0.1:8080/feed', HCM_UPDATE_PRERELEASE: '0' })).toMatchObject({
      feedUrl: 'http://127.0.0.1:8080/feed/',
      feedSource: 'HCM_UPDATE_URL',
      prerelease: false,
    });
  });

  it('turns checks off by setting or environment, and on again by environment', () => {
    expect(resolveUpdateSettings({ check: false }, {}, 'https://dl.example.test/')).toMatchObject({
      feedUrl: null,
      offReason: 'Update checks are turned off (settings.updates.check is false in config.json).',
    });
    expect(resolveUpdateSettings({}, { HCM_UPDATE_CHECK: 'off' }, 'https://dl.example.test/')).toMatchObject({
      feedUrl: null,
      offReason: 'Update checks are turned off (HCM_UPDATE_CHECK=off).',
    });
    expect(resolveUpdateSettings({ check: false }, { HCM_UPDATE_CHECK: 'on' }, 'https://dl.example.test/').feedUrl).toBe(
      'https://dl.example.test/',
    );
  });

  it('never throws: a mistake turns checks off with the reason', () => {
    expect(resolveUpdateSettings({ check: 'off' }, {}, 'https://x.test/').offReason).toMatch(
      /settings.updates.check .* must be true or false/,
    );
    expect(resolveUpdateSettings({ interval: 3 }, {}, 'https://x.test/').offReason).toMatch(
      /settings.updates.interval .* is not a setting/,
    );
    expect(resolveUpdateSettings('yes', {}, 'https://x.test/').offReason).toMatch(/must be an object/);
    expect(resolveUpdateSettings({}, { HCM_UPDATE_CHECK: 'sometimes' }, 'https://x.test/').offReason).toMatch(/HCM_UPDATE_CHECK must be/);
    expect(resolveUpdateSettings({}, { HCM_UPDATE_URL: 'ftp://x.test/' }).offReason).toMatch(/must start with https/);
    // A feed names the sha512 of every download: plain HTTP only on this machine's loopback.
    expect(resolveUpdateSettings({}, { HCM_UPDATE_URL: 'http://updates.example.test/' }).offReason).toMatch(/must use https/);
    expect(resolveUpdateSettings({}, { HCM_UPDATE_URL: 'http://localhost:9/' }).feedUrl).toBe('http://localhost:9/');
  });
});

describe('how this install is updated', () => {
  const facts = (root: string, extra: Partial<InstallFacts> = {}, existing: string[] = []): InstallFacts => ({
    root,
    platform: 'linux',
    env: {},
    exists: (p) => existing.includes(p),
    ...extra,
  });
  const feed = parseFeed(FEED, 'latest-linux.yml');

  it('tells the kind from where the files are', () => {
    expect(detectInstallKind(facts('/usr/local/lib/node_modules/open-hcm'))).toBe('npm-global');
    expect(detectInstallKind(facts('/home/ann/.nvm/versions/node/v24.1.0/lib/node_modules/open-hcm'))).toBe('npm-global');
    expect(detectInstallKind(facts('C:\\Users\\ann\\AppData\\Roaming\\npm\\node_modules\\open-hcm', { platform: 'win32' }))).toBe(
      'npm-global',
    );
    expect(detectInstallKind(facts('/home/ann/app/node_modules/open-hcm'))).toBe('unknown');
    expect(detectInstallKind(facts('/home/ann/open-hcm', {}, ['/home/ann/open-hcm/.git']))).toBe('source');
    expect(detectInstallKind(facts('/usr/lib/open-hcm', {}, ['/var/lib/dpkg/info/open-hcm.list']))).toBe('deb');
    expect(detectInstallKind(facts('/opt/open-hcm'))).toBe('tar.gz');
    expect(detectInstallKind(facts('/srv/tools/open-hcm-1.2.0'))).toBe('tar.gz');
    expect(
      detectInstallKind(facts('/tmp/.mount_x/resources/app.asar', { packagedDesktop: true, env: { APPIMAGE: '/home/a/x.AppImage' } })),
    ).toBe('appimage');
    expect(detectInstallKind(facts('C:\\Program Files\\HCM\\resources\\app.asar', { packagedDesktop: true, platform: 'win32' }))).toBe(
      'desktop',
    );
  });

  it('gives the exact command, with the feed’s own files where it has them', () => {
    const ctx = {
      root: '/opt/open-hcm',
      platform: 'linux' as const,
      arch: 'x64',
      version: '1.3.0',
      feedUrl: 'https://dl.example.test/hcm/',
      feed,
    };
    expect(howToUpdate('npm-global', ctx).command).toBe('npm install -g https://dl.example.test/hcm/open-hcm-1.3.0.tgz');
    expect(howToUpdate('npm-global', { ...ctx, feed: null }).command).toBe('npm install -g open-hcm@1.3.0');
    expect(howToUpdate('deb', ctx).command).toBe(
      'curl -fLO https://dl.example.test/hcm/open-hcm_1.3.0_amd64.deb && sudo apt install ./open-hcm_1.3.0_amd64.deb',
    );
    expect(howToUpdate('deb', { ...ctx, feed: null }).command).toBe('sudo apt update && sudo apt install --only-upgrade open-hcm');
    expect(howToUpdate('tar.gz', { ...ctx, root: '/opt/my tools/hcm' }).command).toBe(
      "curl -fL https://dl.example.test/hcm/open-hcm-1.3.0.tgz | tar -xz -C '/opt/my tools/hcm' --strip-components=1 && npm install --prefix '/opt/my tools/hcm' --omit=dev",
    );
    expect(howToUpdate('source', { ...ctx, root: '/home/ann/open-hcm' }).command).toBe(
      'git -C /home/ann/open-hcm pull && npm --prefix /home/ann/open-hcm ci && npm --prefix /home/ann/open-hcm run build',
    );
    expect(howToUpdate('desktop', ctx)).toMatchObject({ command: null, description: expect.stringMatching(/Restart to update/) });
    expect(howToUpdate('unknown', ctx)).toMatchObject({ command: null, description: expect.stringMatching(/dl\.example\.test/) });
  });
});

describe('what the check keeps in the config folder', () => {
  it('makes one install id and keeps it', () => {
    const home = mkdtempSync(join(tmpdir(), 'hcm-upd-'));
    const id = installId(home);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(installId(home)).toBe(id);
    expect(readFileSync(join(home, INSTALL_ID_FILE), 'utf8').trim()).toBe(id);
    writeFileSync(join(home, INSTALL_ID_FILE), 'garbage');
    const fresh = installId(home);
    expect(fresh).not.toBe(id);
    expect(installId(home)).toBe(fresh);
  });

  it('creates no folder for it (hcm version on a new machine leaves no trace)', () => {
    const missing = join(mkdtempSync(join(tmpdir(), 'hcm-upd-')), 'not-yet');
    const a = installId(missing);
    expect(a).toMatch(/^[0-9a-f-]{36}$/);
    expect(() => readFileSync(join(missing, INSTALL_ID_FILE))).toThrow();
  });

  it('says "updated from" once, on the first run of a newer version, per kind of host', () => {
    const home = mkdtempSync(join(tmpdir(), 'hcm-upd-'));
    expect(recordRunVersion(home, 'desktop', '1.2.0')).toBeNull();
    expect(recordRunVersion(home, 'desktop', '1.2.0')).toBeNull();
    expect(recordRunVersion(home, 'cli', '1.1.0')).toBeNull();
    expect(recordRunVersion(home, 'desktop', '1.3.0')).toBe('1.2.0');
    expect(recordRunVersion(home, 'desktop', '1.3.0')).toBeNull();
    expect(recordRunVersion(home, 'desktop', '1.2.5')).toBeNull();
    expect(recordRunVersion(home, 'cli', '1.3.0')).toBe('1.1.0');
  });
});
