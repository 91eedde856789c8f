import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

/**
 * Everything the bench starts or creates is registered here, so one call (from a normal finish,
 * a failure or Ctrl-C) stops every process and removes every temporary directory.
 */

const processes = new Set<ChildProcess>();
const dirs = new Set<string>();

export function trackProcess(child: ChildProcess): void {
  processes.add(child);
  child.once('exit', () => processes.delete(child));
}

export function trackDir(dir: string): void {
  dirs.add(dir);
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  dirs.delete(dir);
}

/** Signals a process's whole group: socat forks a child per connection and those must go too. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** SIGTERM, then SIGKILL for whatever has not exited after graceMs. */
export async function stopProcess(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (!alive(child)) {
    signalGroup(child, 'SIGKILL'); // leftovers of the group (forked socat children)
    return;
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  signalGroup(child, 'SIGTERM');
  const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
  signalGroup(child, 'SIGKILL');
}

export async function cleanupAll(): Promise<void> {
  await Promise.all([...processes].map((p) => stopProcess(p)));
  for (const dir of [...dirs]) removeDir(dir);
}

/** Last resort when the bench dies without awaiting cleanupAll (it cannot await here). */
function killAllNow(): void {
  for (const p of processes) signalGroup(p, 'SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}

let installed = false;
export function installCleanupHandlers(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping every process the bench started…\n`);
      void cleanupAll().finally(() => process.exit(130));
    });
  }
}
