import type * as httpModule from 'node:http';
import type { Agent } from 'node:http';
import type * as httpsModule from 'node:https';
import { createRequire } from 'node:module';
import type semverModule from 'semver';
import type * as yamlModule from 'yaml';
import { HcmError } from '../../shared/errors.js';
import { FEED_MAX_BYTES } from './defaults.js';

/**
 * The update feed in electron-builder's format: a folder with latest.yml (Windows),
 * latest-mac.yml, latest-linux.yml (x64) and latest-linux-<arch>.yml, each naming one version
 * and its files with sha512 (base64) and size. electron-updater reads the same files in the
 * desktop app; command-line hosts read them here. The parser is strict: anything that is not
 * exactly a feed is an error with the reason, never a guess.
 */

export interface FeedFile {
  /** A file name relative to the feed folder, or an absolute https URL. */
  url: string;
  /** base64 of the SHA-512 digest, as electron-builder writes it. */
  sha512: string;
  size: number;
}

export interface UpdateFeed {
  version: string;
  files: FeedFile[];
  releaseDate: string | null;
  releaseNotes: string | null;
  /** 0–100: the share of installs that get this version now; null = everyone. */
  stagingPercentage: number | null;
}

/** The feed file electron-updater reads on this platform and architecture. */
export function feedFileName(platform: NodeJS.Platform = process.platform, arch: string = process.arch): string {
  if (platform === 'win32') return 'latest.yml';
  if (platform === 'darwin') return 'latest-mac.yml';
  return arch === 'x64' ? 'latest-linux.yml' : `latest-linux-${arch}.yml`;
}

// Loaded when a feed is read, not by every command that only asks whether checks are on (hcm version).
const require = createRequire(import.meta.url);
const semver = () => require('semver') as typeof semverModule;
const yaml = () => require('yaml') as typeof yamlModule;
// Required when a feed is fetched, not imported: an ES import of node:http reads every export, and
// its WebSocket getter loads Node's fetch library (undici); even required, node:http costs ~10 ms of
// start-up of every command that imports this file (hcm version). https loads TLS (~40 ms of CPU).
const http = () => require('node:http') as typeof httpModule;
const https = () => require('node:https') as typeof httpsModule;

const fail = (source: string, problem: string) => new HcmError('E_UPDATE', `the update feed ${source} ${problem}`);

export function parseFeed(text: string, source: string): UpdateFeed {
  let doc: unknown;
  try {
    doc = yaml().parse(text, { uniqueKeys: true, maxAliasCount: 0 });
  } catch (err) {
    throw fail(source, `is not valid YAML (${(err as Error).message.split('\n')[0]})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw fail(source, `is not an update feed (expected "version" and "files", got ${describe(doc)})`);
  const o = doc as Record<string, unknown>;

  const version = o.version;
  if (typeof version !== 'string' || semver().valid(version) !== version)
    throw fail(source, `has no valid version (expected a semantic version such as 1.2.3, got ${describe(version)})`);

  if (!Array.isArray(o.files) || o.files.length === 0) throw fail(source, 'lists no files');
  const files = o.files.map((f: unknown, i) => parseFile(f, `${source} files[${i}]`));

  let releaseDate: string | null = null;
  if (o.releaseDate !== undefined && o.releaseDate !== null) {
    const ms = typeof o.releaseDate === 'string' ? Date.parse(o.releaseDate) : NaN;
    if (Number.isNaN(ms)) throw fail(source, `has a releaseDate that is not a date (${describe(o.releaseDate)})`);
    releaseDate = new Date(ms).toISOString();
  }

  let stagingPercentage: number | null = null;
  if (o.stagingPercentage !== undefined && o.stagingPercentage !== null) {
    const p = o.stagingPercentage;
    if (typeof p !== 'number' || !Number.isFinite(p) || p < 0 || p > 100)
      throw fail(source, `has a stagingPercentage that is not a number from 0 to 100 (${describe(p)})`);
    stagingPercentage = p;
  }

  return { version, files, releaseDate, releaseNotes: parseNotes(o.releaseNotes, source), stagingPercentage };
}

function parseFile(value: unknown, where: string): FeedFile {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HcmError('E_UPDATE', `${where} is not a file entry`);
  const f = value as Record<string, unknown>;
  if (typeof f.url !== 'string' || f.url === '' || f.url.includes('\\') || f.url.split('/').includes('..'))
    throw new HcmError('E_UPDATE', `${where} has no usable url (${describe(f.url)})`);
  if (typeof f.sha512 !== 'string' || !isSha512Base64(f.sha512))
    throw new HcmError('E_UPDATE', `${where} (${f.url}) has no valid sha512 (expected base64 of 64 bytes)`);
  if (typeof f.size !== 'number' || !Number.isSafeInteger(f.size) || f.size <= 0)
    throw new HcmError('E_UPDATE', `${where} (${f.url}) has no valid size`);
  return { url: f.url, sha512: f.sha512, size: f.size };
}

function isSha512Base64(text: string): boolean {
  return /^[A-Za-z0-9+/]{86}==$/.test(text) && Buffer.from(text, 'base64').length === 64;
}

/** A string, or electron-builder's list form [{ version, note }] (newest first). */
function parseNotes(value: unknown, source: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value.trim() || null;
  if (Array.isArray(value)) {
    const parts = value.map((n: unknown) => {
      const e = n as { version?: unknown; note?: unknown } | null;
      if (typeof e !== 'object' || e === null || typeof e.version !== 'string' || (e.note !== null && typeof e.note !== 'string'))
        throw fail(source, 'has releaseNotes that are neither text nor a list of { version, note }');
      return e.note ? `${e.version}: ${e.note.trim()}` : null;
    });
    return parts.filter((p) => p !== null).join('\n\n') || null;
  }
  throw fail(source, `has releaseNotes that are not text (${describe(value)})`);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  // Quoted and escaped: a feed answering binary garbage must not put control characters in a log line.
  if (typeof value === 'string') return value.length > 60 ? `text ${JSON.stringify(value.slice(0, 57))}…` : JSON.stringify(value);
  if (Array.isArray(value)) return 'a list';
  return typeof value;
}

/** A file's absolute URL: names are relative to the feed folder. */
export function fileUrl(feedUrl: string, file: FeedFile): string {
  return new URL(file.url, feedUrl).toString();
}

export interface FetchOptions {
  timeoutMs: number;
  /** Trusted CAs (system roots plus the agent's extra CA), when an extra CA is configured. */
  ca?: string[];
  agent?: Agent;
  /** Background checks do not keep the process alive. */
  background?: boolean;
  userAgent?: string;
  maxBytes?: number;
}

/** GET of one feed file with a deadline and a size limit; redirects are followed (https stays https). */
export function fetchText(url: string, options: FetchOptions, redirects = 3): Promise<string> {
  const target = new URL(url);
  const get = target.protocol === 'https:' ? https().get : http().get;
  const max = options.maxBytes ?? FEED_MAX_BYTES;
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (err: Error | null, text?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(text!);
    };
    const req = get(
      target,
      {
        headers: {
          'User-Agent': options.userAgent ?? 'open-hcm',
          'Cache-Control': 'no-cache',
          Accept: 'application/x-yaml, text/yaml, */*',
        },
        ...(options.agent ? { agent: options.agent } : {}),
        ...(options.ca && target.protocol === 'https:' ? { ca: options.ca } : {}),
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400 && res.headers.location) {
          res.resume();
          const next = new URL(res.headers.location, target);
          if (redirects <= 0) return done(new HcmError('E_UPDATE', `${url} redirects too often`));
          if (target.protocol === 'https:' && next.protocol !== 'https:')
            return done(new HcmError('E_UPDATE', `${url} redirects from https to ${next.protocol}, refused`));
          fetchText(next.toString(), options, redirects - 1).then(
            (t) => done(null, t),
            (e: Error) => done(e),
          );
          return;
        }
        if (status !== 200) {
          res.resume();
          return done(new HcmError('E_UPDATE', `${url} answered HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}`));
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > max) {
            req.destroy();
            done(new HcmError('E_UPDATE', `${url} is larger than ${Math.round(max / 1024)} KiB; not an update feed`));
          } else chunks.push(c);
        });
        res.on('end', () => done(null, Buffer.concat(chunks).toString('utf8')));
        res.on('error', (e) => done(networkError(url, e)));
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      done(new HcmError('E_UPDATE', `${url} did not answer within ${options.timeoutMs / 1000} s`));
    }, options.timeoutMs);
    if (options.background) {
      timer.unref();
      req.on('socket', (s) => s.unref());
    }
    req.on('error', (e) => done(networkError(url, e)));
  });
}

function networkError(url: string, err: NodeJS.ErrnoException): HcmError {
  const host = new URL(url).host;
  const why =
    err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN'
      ? `the name ${new URL(url).hostname} does not resolve`
      : err.code === 'ECONNREFUSED'
        ? 'connection refused'
        : err.code === 'ECONNRESET'
          ? 'the connection was reset'
          : err.message;
  return new HcmError('E_UPDATE', `cannot read ${url} (${host}: ${why})`, { cause: err });
}

/** Reads and checks the feed file for this platform. */
export async function readFeed(feedUrl: string, options: FetchOptions & { fileName?: string }): Promise<UpdateFeed> {
  const url = new URL(options.fileName ?? feedFileName(), feedUrl).toString();
  return parseFeed(await fetchText(url, options), url);
}
