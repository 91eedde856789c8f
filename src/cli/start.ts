#!/usr/bin/env node
/**
 * `npm start`: opens the desktop app where Electron's binary is installed; where it is not
 * (Electron >= 42 downloads it on first use, which offline or locked-down machines cannot do),
 * says why in one line and serves the same UI to a browser with `hcm ui` instead.
 * Plain Node on purpose: requiring the 'electron' package would try that download.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type ElectronLookup = { found: true; binary: string } | { found: false; reason: string };

/** Where the electron package keeps its binary, without running the package's own lookup (which downloads). */
export function findElectronBinary(packageDir: string | null, env: NodeJS.ProcessEnv = process.env): ElectronLookup {
  if (!packageDir) return { found: false, reason: 'the electron package is not installed (run npm install)' };
  const pathFile = join(packageDir, 'path.txt');
  const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : null;
  if (env.ELECTRON_OVERRIDE_DIST_PATH) {
    const binary = join(env.ELECTRON_OVERRIDE_DIST_PATH, relative ?? 'electron');
    return existsSync(binary)
      ? { found: true, binary }
      : { found: false, reason: `ELECTRON_OVERRIDE_DIST_PATH has no Electron binary (${binary})` };
  }
  if (!relative) return { found: false, reason: "Electron's binary was never downloaded (node_modules/electron/path.txt is missing)" };
  const binary = join(packageDir, 'dist', relative);
  return existsSync(binary) ? { found: true, binary } : { found: false, reason: `Electron's binary is missing (${binary})` };
}

function electronPackageDir(): string | null {
  try {
    return dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return null;
  }
}

/** Runs a child with our stdio and passes Ctrl+C / SIGTERM on, so it can shut down cleanly. */
function runChild(command: string, args: string[], env: NodeJS.ProcessEnv): void {
  const child = spawn(command, args, { stdio: 'inherit', env });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? (signal ? 1 : 0);
  });
  child.on('error', (err) => {
    process.stderr.write(`hcm: could not start ${command}: ${err.message}\n`);
    process.exitCode = 1;
  });
}

function start(args: string[]): void {
  const appRoot = fileURLToPath(new URL('../../', import.meta.url));
  const electron = findElectronBinary(electronPackageDir());
  if (electron.found) {
    const env = { ...process.env };
    delete env.ELECTRON_RUN_AS_NODE; // would make the binary a plain Node
    runChild(electron.binary, [appRoot, ...args], env);
    return;
  }
  process.stderr.write(`hcm: desktop app not available: ${electron.reason}; serving the same UI to your browser instead (hcm ui).\n`);
  runChild(process.execPath, [join(appRoot, 'dist', 'cli', 'main.js'), 'ui', ...args], process.env);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) start(process.argv.slice(2));
