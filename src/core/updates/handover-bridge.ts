import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Keeping connections up while the desktop app updates itself. The app hosts the relay engine in
 * its own process, so quitting to install would drop every connection until the new version is
 * up. Before it quits, the app starts a stand-in agent from its own files (`hcm run --takeover`):
 * the stand-in listens next to the app and takes its connections over (service.ts, the same
 * hand-over as a service restart). The new version then takes them back the same way, and the
 * stand-in exits. A marker file in the configuration folder tells the new version that the agent
 * it finds running is such a stand-in (and not an `hcm run` the user started, which it would show).
 */

/** How the app starts its command line: Electron's binary as Node (ELECTRON_RUN_AS_NODE) and dist/cli/main.js. */
export interface CliCommand {
  execPath: string;
  /** What comes before the command's own arguments, e.g. the path of dist/cli/main.js. */
  args: string[];
  env: NodeJS.ProcessEnv;
}

export interface BridgeMarker {
  pid: number;
  fromVersion: string;
  startedAt: string;
}

const MARKER = 'update-handover.json';
/** A marker older than this is from an update that never restarted; it is ignored. */
const MARKER_MAX_AGE_MS = 60 * 60 * 1000;

export function bridgeMarkerPath(home: string): string {
  return join(home, MARKER);
}

/**
 * Starts the stand-in agent, detached so it outlives the app; its output goes to its own log files.
 * `graceMs`: how long the app's open tunnels may finish; `waitMs`: how long the stand-in waits for
 * its listeners before it gives up (the app then restarts without it).
 */
export function startHandoverBridge(
  command: CliCommand,
  options: { home: string; fromVersion: string; graceMs: number; waitMs: number },
): ChildProcess {
  const child = spawn(
    command.execPath,
    [
      ...command.args,
      'run',
      '--takeover',
      '--grace',
      String(Math.ceil(options.graceMs / 1000)),
      '--takeover-wait',
      String(Math.ceil(options.waitMs / 1000)),
    ],
    { env: command.env, detached: true, stdio: 'ignore', windowsHide: true },
  );
  child.on('error', () => undefined); // reported through 'exit' / the hand-over not happening
  child.unref();
  if (child.pid) {
    const marker: BridgeMarker = { pid: child.pid, fromVersion: options.fromVersion, startedAt: new Date().toISOString() };
    writeFileSync(bridgeMarkerPath(options.home), `${JSON.stringify(marker)}\n`, { mode: 0o600 });
  }
  return child;
}

/** The marker of a stand-in still running and recent enough, else null (a stale one is removed). */
export function readBridgeMarker(home: string, now = Date.now()): BridgeMarker | null {
  let marker: BridgeMarker;
  try {
    marker = JSON.parse(readFileSync(bridgeMarkerPath(home), 'utf8')) as BridgeMarker;
  } catch {
    return null; // none, or unreadable: no stand-in to take back from
  }
  const age = now - Date.parse(marker.startedAt);
  if (!Number.isInteger(marker.pid) || !(age >= 0 && age < MARKER_MAX_AGE_MS) || !isAlive(marker.pid)) {
    clearBridgeMarker(home);
    return null;
  }
  return marker;
}

export function clearBridgeMarker(home: string): void {
  rmSync(bridgeMarkerPath(home), { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
