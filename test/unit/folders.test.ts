import { chmodSync, mkdirSync, mkdtempSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FolderError, ensureFolder, ensurePrivateFolder } from '../../src/core/folders.js';

const scratch = () => mkdtempSync(join(tmpdir(), 'hcm-folders-'));
const uid = process.getuid!();

describe('folders', () => {
  it('creates missing parents with mode 0700', () => {
    const dir = join(scratch(), 'a', 'b', 'c');
    ensurePrivateFolder(dir, 'configuration');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, '..')).mode & 0o777).toBe(0o700);
  });

  it('tightens a folder of ours that others could enter', () => {
    const dir = join(scratch(), 'open');
    mkdirSync(dir);
    chmodSync(dir, 0o755);
    ensurePrivateFolder(dir, 'control socket');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('refuses a folder owned by another user, naming the owner', () => {
    const dir = join(scratch(), 'theirs');
    mkdirSync(dir);
    // Seen as if we were another user: the check compares the owner with the uid it is given.
    expect(() => ensurePrivateFolder(dir, 'control socket', uid + 1)).toThrow(
      new RegExp(`refusing to use the control socket folder .*theirs: it belongs to user ${uid}, not to you \\(${uid + 1}\\)`),
    );
  });

  it('refuses a symbolic link where the folder should be', () => {
    const base = scratch();
    mkdirSync(join(base, 'real'));
    symlinkSync(join(base, 'real'), join(base, 'link'));
    expect(() => ensureFolder(join(base, 'link'), 'log')).toThrow(/cannot use the log folder .*link: it is not a folder/);
  });

  it('names the file in the way, with a code', () => {
    const base = scratch();
    writeFileSync(join(base, 'file'), 'x');
    let caught: unknown;
    try {
      ensureFolder(join(base, 'file', 'sub', 'dir'), 'data');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(FolderError);
    expect((caught as FolderError).code).toBe('E_FOLDER');
    expect((caught as Error).message).toBe(
      `cannot create the data folder ${join(base, 'file', 'sub', 'dir')}: a file is in the way at ${join(base, 'file')} (ENOTDIR)`,
    );
  });
});
