import { closeSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from './fs-sync.js';
import { hostname } from 'node:os';
import { HcmError } from '../shared/errors.js';
import { nodeCrypto } from './lazy-crypto.js';

/**
 * A lock file for short read-modify-write sections shared by the CLI, the agent and the UI host.
 * It names its holder (pid and host), so a lock left by a killed process is broken at once
 * instead of after a timeout, and waiters retry within a bound (many `hcm add` at once all land).
 * A lock file naming nobody — its creator was killed between creating it and writing its name, or
 * the machine lost power before the name reached the disk — is broken once it is older than
 * EMPTY_LOCK_STALE_MS: a live creator writes its name microseconds after creating the file.
 */

export const EMPTY_LOCK_STALE_MS = 5_000;

export interface LockOptions {
  /** How long to wait for a live holder before giving up (default 30 s). */
  timeoutMs?: number;
  /** A lock from another host (shared file system) counts as stale after this age (default 60 s). */
  foreignStaleMs?: number;
}

interface Holder {
  pid: number;
  host: string;
  token: string;
}

export async function withFileLock<T>(lockPath: string, fn: () => Promise<T> | T, options: LockOptions = {}): Promise<T> {
  const token = await acquire(lockPath, options);
  try {
    return await fn();
  } finally {
    release(lockPath, token);
  }
}

async function acquire(lockPath: string, options: LockOptions): Promise<string> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  const token = `${process.pid}\n${hostname()}\n${nodeCrypto().randomBytes(8).toString('hex')}\n`;
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx', 0o600);
      try {
        writeSync(fd, token);
      } catch (err) {
        closeSync(fd);
        unlinkQuietly(lockPath); // no lock naming nobody left behind (e.g. a full disk)
        throw err;
      }
      closeSync(fd);
      return token;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = readHolder(lockPath);
    if (holder ? isStale(lockPath, holder, options.foreignStaleMs ?? 60_000) : namesNobody(lockPath)) {
      breakStaleLock(lockPath, holder);
      continue;
    }
    if (Date.now() > deadline) {
      const who = holder ? `process ${holder.pid}${holder.host === hostname() ? '' : ` on ${holder.host}`}` : 'another process';
      throw new HcmError(
        'E_CONFIG',
        `the configuration is locked by ${who} (${lockPath}); try again, or remove that file if no HCM is running`,
      );
    }
    // Short, growing, jittered waits: sections last milliseconds, and waiters should not march in step.
    await new Promise((r) => setTimeout(r, Math.min(200, 5 + attempt * 5) + Math.random() * 10));
  }
}

function readHolder(lockPath: string): Holder | null {
  try {
    const [pid, host, token] = readFileSync(lockPath, 'utf8').split('\n');
    const n = Number(pid);
    return Number.isInteger(n) && n > 0 && host && token ? { pid: n, host, token } : null;
  } catch {
    return null; // released meanwhile, or still being written
  }
}

function isStale(lockPath: string, holder: Holder, foreignStaleMs: number): boolean {
  if (holder.host !== hostname()) {
    try {
      return Date.now() - statSync(lockPath).mtimeMs > foreignStaleMs;
    } catch {
      return false;
    }
  }
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** The lock file exists, names no holder, and has done so for longer than a live creator ever takes. */
function namesNobody(lockPath: string): boolean {
  try {
    return Date.now() - statSync(lockPath).mtimeMs > EMPTY_LOCK_STALE_MS;
  } catch {
    return false; // released meanwhile
  }
}

/**
 * Moves the lock aside and removes it only if it is still the stale one: the dead holder's, or one
 * naming nobody (another waiter may have been quicker and a new holder may have taken it).
 */
function breakStaleLock(lockPath: string, holder: Holder | null): void {
  const aside = `${lockPath}.stale-${nodeCrypto().randomBytes(4).toString('hex')}`;
  try {
    renameSync(lockPath, aside);
  } catch {
    return; // someone else broke it
  }
  const moved = readHolder(aside);
  if (moved && moved.token !== holder?.token) {
    // A live holder's fresh lock was moved by mistake: put it back unless a newer one exists
    // (link, unlike rename, never replaces what is there).
    try {
      linkSync(aside, lockPath);
    } catch {
      /* a newer lock exists; the moved one's holder releases by token and finds nothing to remove */
    }
    unlinkQuietly(aside);
    return;
  }
  unlinkQuietly(aside);
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}

function release(lockPath: string, token: string): void {
  try {
    if (readFileSync(lockPath, 'utf8') === token) unlinkSync(lockPath);
  } catch {
    /* already gone */
  }
}
