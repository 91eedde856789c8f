import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { trackProcess } from './cleanup.js';

/**
 * Child processes of the bench: each in its own process group (so stopping it also stops what
 * it forked), output kept for error messages, and an optional raised file-descriptor limit.
 */

export interface Spawned {
  proc: ChildProcess;
  pid: number;
  /** stdout and stderr so far (capped, for error messages). */
  output: () => string;
  /** Resolves with the first stdout or stderr line matching the pattern; rejects if the process exits first. */
  waitForLine: (pattern: RegExp, timeoutMs?: number) => Promise<string>;
  /** Calls `listener` with every later stdout or stderr line (kept whole, unlike `output`); returns an unsubscribe. */
  onLine: (listener: (line: string) => void) => () => void;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  /** Raise the open-files limit to this (or as far as the hard limit allows) before exec. */
  fdLimit?: number;
  ipc?: boolean;
}

const OUTPUT_CAP = 64 * 1024;

export function spawnTracked(command: string, args: string[], options: SpawnOptions = {}): Spawned {
  let file = command;
  let argv = args;
  if (options.fdLimit) {
    // Soft limit up to the hard one always works; raising the hard one needs CAP_SYS_RESOURCE.
    const script = `ulimit -Hn ${options.fdLimit} 2>/dev/null; ulimit -Sn ${options.fdLimit} 2>/dev/null || ulimit -Sn "$(ulimit -Hn)"; exec "$@"`;
    file = 'bash';
    argv = ['-c', script, 'bash', command, ...args];
  }
  const stdio: Array<'ignore' | 'pipe' | 'ipc'> = ['ignore', 'pipe', 'pipe'];
  if (options.ipc) stdio.push('ipc');
  const proc = spawn(file, argv, { env: options.env ?? process.env, stdio, detached: true });
  trackProcess(proc);
  let output = '';
  const keep = (d: Buffer) => {
    output += d.toString();
    if (output.length > OUTPUT_CAP) output = output.slice(-OUTPUT_CAP);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  let spawnError: Error | undefined;
  proc.on('error', (err) => (spawnError = err));
  // Both streams: the agent logs to stderr, the emulator and forwarder announce on stdout.
  const lines = [createInterface({ input: proc.stdout! }), createInterface({ input: proc.stderr! })];
  const waitForLine = (pattern: RegExp, timeoutMs = 30_000) =>
    new Promise<string>((resolve, reject) => {
      const done = (err: Error | undefined, line?: string) => {
        clearTimeout(timer);
        for (const l of lines) l.off('line', onLine);
        proc.off('exit', onExit);
        if (err) reject(err);
        else resolve(line!);
      };
      const onLine = (line: string) => {
        if (pattern.test(line)) done(undefined, line);
      };
      const onExit = () =>
        done(
          new Error(
            `${command} ${args.slice(0, 2).join(' ')} exited before printing ${pattern}${spawnError ? `: ${spawnError.message}` : ''}\n${output}`,
          ),
        );
      const timer = setTimeout(() => done(new Error(`${command} did not print ${pattern} within ${timeoutMs} ms\n${output}`)), timeoutMs);
      for (const l of lines) l.on('line', onLine);
      proc.once('exit', onExit);
    });
  const onLine = (listener: (line: string) => void) => {
    for (const l of lines) l.on('line', listener);
    return () => {
      for (const l of lines) l.off('line', listener);
    };
  };
  if (proc.pid === undefined) throw new Error(`could not start ${command}`);
  return { proc, pid: proc.pid, output: () => output, waitForLine, onLine };
}

/** Runs a command to completion and returns its stdout; throws with its output on failure (or only when killed, with allowFailure). */
export function runToEnd(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; allowFailure?: boolean } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawnTracked(command, args, options.env ? { env: options.env } : {});
    let stdout = '';
    child.proc.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    const timer = setTimeout(() => child.proc.kill('SIGKILL'), options.timeoutMs ?? 300_000);
    child.proc.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.proc.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0 || (options.allowFailure && code !== null)) resolve(stdout);
      else reject(new Error(`${command} ${args.join(' ')} failed (${code ?? signal}):\n${child.output()}`));
    });
  });
}
