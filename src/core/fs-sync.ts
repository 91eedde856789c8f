/**
 * Node's file-system functions for the modules on every command's start-up path, taken without
 * an ES import: `import … from 'node:fs'` builds the module's whole namespace, and reading its
 * `promises` export loads fs/promises, readline and the stream classes, ~12 ms of CPU per command
 * on the bench machine (docs/performance.md, CLI start-up). Only the functions named here are read.
 */
const fs = process.getBuiltinModule('node:fs');

export const {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  watch,
  writeFileSync,
  writeSync,
} = fs;
