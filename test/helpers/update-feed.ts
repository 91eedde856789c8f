import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCertificates } from '../../src/emulator/certificates.js';
import { ROOT } from './paths.js';

/**
 * A local update feed for tests: a real HTTP(S) server serving a folder of real artifacts and the
 * latest*.yml files that `npm run release:feed` (dist/cli/release-feed.js) wrote for them, with
 * switches for the ways a feed fails (down, garbage, HTTP 500).
 */

export interface FeedServer {
  /** The feed folder URL, ending in '/'. */
  url: string;
  dir: string;
  /** With https: the CA file that makes it trusted (HCM_CA_FILE). */
  caFile: string | null;
  /** Paths requested so far. */
  requests: string[];
  mode: 'serve' | 'garbage' | 'error' | 'html';
  /** Artifacts (not the yml files) are sent at this rate, so a download shows progress; 0 = at once. */
  bytesPerSecond: number;
  /** Serves another folder from now on. */
  serve(dir: string): void;
  close(): Promise<void>;
}

export async function startFeedServer(options: {
  dir: string;
  https?: boolean;
  /** Sign with the CA kept in this folder (e.g. the emulator's state dir), so one HCM_CA_FILE trusts both. */
  caDir?: string;
}): Promise<FeedServer> {
  let dir = options.dir;
  const requests: string[] = [];
  const feed: FeedServer = {
    url: '',
    dir,
    caFile: null,
    requests,
    mode: 'serve',
    bytesPerSecond: 0,
    serve: (d) => {
      dir = d;
      feed.dir = d;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(path);
    if (feed.mode === 'error') {
      res.writeHead(500).end('internal error');
      return;
    }
    if (feed.mode === 'garbage') {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(randomBytes(300));
      return;
    }
    if (feed.mode === 'html') {
      res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html><body><h1>Sign in to continue</h1></body></html>');
      return;
    }
    const name = path.split('/').pop() ?? '';
    if (!name || name.includes('..') || !readdirSync(dir).includes(name)) {
      res.writeHead(404).end('not found');
      return;
    }
    const body = readFileSync(join(dir, name));
    res.writeHead(200, { 'Content-Length': body.length });
    if (!feed.bytesPerSecond || name.endsWith('.yml')) {
      res.end(body);
      return;
    }
    const chunk = 16 * 1024;
    let at = 0;
    const timer = setInterval(
      () => {
        res.write(body.subarray(at, at + chunk));
        at += chunk;
        if (at >= body.length) {
          clearInterval(timer);
          res.end();
        }
      },
      Math.max(1, Math.round((chunk / feed.bytesPerSecond) * 1000)),
    );
    res.on('close', () => clearInterval(timer));
  };
  let server: http.Server | https.Server;
  if (options.https) {
    const certs = await ensureCertificates(options.caDir ?? mkdtempSync(join(tmpdir(), 'hcm-feed-ca-')));
    server = https.createServer({ key: certs.key, cert: certs.cert }, handler);
    feed.caFile = certs.caPath;
  } else {
    server = http.createServer(handler);
  }
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  feed.url = `${options.https ? 'https' : 'http'}://${options.https ? 'localhost' : '127.0.0.1'}:${port}/hcm/`;
  return feed;
}

export interface Release {
  dir: string;
  /** The artifacts written, by kind. */
  appImage: string;
  deb: string;
  tgz: string;
  /** What `npm run release:feed` printed. */
  output: string;
}

/**
 * A release folder as electron-builder and npm pack leave it (an AppImage, a .deb, the npm
 * tarball: real files with content of their own), and its feed written by the real
 * release-feed script.
 */
export function makeRelease(version: string, options: { notes?: string; staging?: number; date?: string } = {}): Release {
  const dir = mkdtempSync(join(tmpdir(), `hcm-release-${version}-`));
  const appImage = `open-hcm-${version}-linux-x64.AppImage`;
  const deb = `open-hcm_${version}_amd64.deb`;
  const tgz = `open-hcm-${version}.tgz`;
  // An AppImage stand-in: a script that says its version (real bytes, real size and hash).
  writeFileSync(join(dir, appImage), `#!/bin/sh\necho open-hcm ${version}\n${randomBytes(256 * 1024).toString('base64')}\n`, {
    mode: 0o755,
  });
  writeFileSync(join(dir, deb), randomBytes(128 * 1024));
  // A real npm-pack-shaped tarball: package/package.json inside a gzip'd tar.
  const pkg = mkdtempSync(join(tmpdir(), 'hcm-pkg-'));
  mkdirSync(join(pkg, 'package'));
  writeFileSync(join(pkg, 'package', 'package.json'), JSON.stringify({ name: 'open-hcm', version }));
  const tar = spawnSync('tar', ['-czf', join(dir, tgz), '-C', pkg, 'package']);
  if (tar.status !== 0) throw new Error(`tar failed: ${tar.stderr.toString()}`);
  writeFileSync(join(dir, 'open-hcm-0.0.1-old.AppImage.blockmap'), 'left out');
  const args = [join(ROOT, 'dist/cli/release-feed.js'), dir, '--version', version];
  if (options.notes) args.push('--notes-text', options.notes);
  if (options.staging !== undefined) args.push('--staging', String(options.staging));
  if (options.date) args.push('--date', options.date);
  const run = spawnSync(process.execPath, args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`release-feed failed (${run.status}): ${run.stderr}`);
  return { dir, appImage, deb, tgz, output: run.stdout };
}

/** An install id whose rollout position is `fraction` (bytes 12–15, as electron-updater reads them). */
export function idAt(fraction: number): string {
  const n = Math.round(fraction * 0xffffffff)
    .toString(16)
    .padStart(8, '0');
  return `4f1c2a9e-0b7d-4c3e-9a1b-2c3d${n}`;
}
