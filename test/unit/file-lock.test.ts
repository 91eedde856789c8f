import { existsSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EMPTY_LOCK_STALE_MS, withFileLock } from '../../src/core/file-lock.js';

/**
 * A lock file that names nobody: its creator was SIGKILLed between creating the file and writing
 * its pid in it (seen in the lock's code while writing the fault suite, whose config-kills.fault.ts
 * shows it end to end). Every later change used to wait 30 s and then fail with "locked by another
 * process" until someone removed the file.
 */
describe('withFileLock and a lock file naming nobody', () => {
  function emptyLock(ageMs: number): string {
    const lock = join(mkdtempSync(join(tmpdir(), 'hcm-lock-')), 'config.lock');
    writeFileSync(lock, '');
    const at = new Date(Date.now() - ageMs);
    utimesSync(lock, at, at);
    return lock;
  }

  it('breaks it at once when it is older than a live creator ever takes', async () => {
    const lock = emptyLock(EMPTY_LOCK_STALE_MS + 5_000);
    const started = Date.now();
    expect(await withFileLock(lock, () => 'done', { timeoutMs: 30_000 })).toBe('done');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(existsSync(lock)).toBe(false);
    expect(existsSync(`${lock}.stale`)).toBe(false);
  });

  it('waits for one just created: its creator is about to write its name', async () => {
    const lock = emptyLock(0);
    await expect(withFileLock(lock, () => 'taken', { timeoutMs: 300 })).rejects.toThrow(/locked by another process/);
  });

  it('takes one that was just created once it has named nobody for long enough', async () => {
    const lock = emptyLock(EMPTY_LOCK_STALE_MS - 500);
    const started = Date.now();
    expect(await withFileLock(lock, () => 'done', { timeoutMs: 30_000 })).toBe('done');
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  });
});
