import { type ChildProcess, type ChildProcessByStdio, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { ConnectionSummary } from '../../src/shared/api.js';
import { waitFor } from './emulator.js';
import { CLI } from './paths.js';

/** `hcm` as real processes: one-shot commands, the `run` agent and the `connect` forwarder. */

export interface HcmEnv {
  home: string;
  env: NodeJS.ProcessEnv;
}

export function hcmEnv(caFile: string | null | undefined, extra: NodeJS.ProcessEnv = {}): HcmEnv {
  const home = mkdtempSync(join(tmpdir(), 'hcm-home-'));
  const env: NodeJS.ProcessEnv = { ...process.env, HCM_HOME: home, ...extra };
  delete env.NODE_OPTIONS;
  if (caFile) env.HCM_CA_FILE = caFile;
  return { home, env };
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

export function hcm(env: HcmEnv, args: string[], timeoutMs = 60_000): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: env.env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`hcm ${args.join(' ')} did not finish within ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface RunningProcess {
  proc: ChildProcess;
  output: () => string;
  /** SIGTERM (or the given signal) and wait for the exit code. */
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
  exited: Promise<number | null>;
}

/** Any long-running `hcm` command as a child process (output is stdout and stderr together). */
export function startHcm(env: HcmEnv, args: string[]): RunningProcess {
  return watchProcess(spawn(process.execPath, [CLI, ...args], { env: env.env, stdio: ['ignore', 'pipe', 'pipe'] }));
}

/**
 * A spawned `hcm` process (stdout and stderr piped) as a RunningProcess: its output collected, its
 * exit awaited, and killed if the test process exits first.
 */
export function watchProcess(proc: ChildProcessByStdio<null, Readable, Readable>): RunningProcess {
  children.add(proc);
  let output = '';
  proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code, signal) => {
      children.delete(proc);
      resolve(code ?? (signal ? 128 : null));
    }),
  );
  return {
    proc,
    output: () => output,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

/** Starts `hcm run`; resolves once every configured connection is Connected (or `expect` says so). */
export async function startAgent(env: HcmEnv, options: { args?: string[]; waitConnected?: number } = {}): Promise<RunningProcess> {
  const agent = startHcm(env, ['run', ...(options.args ?? [])]);
  await waitFor(() => agent.output().includes('agent started') || agent.proc.exitCode !== null, 20_000, 'agent start');
  if (agent.proc.exitCode !== null) throw new Error(`hcm run exited early:\n${agent.output()}`);
  if (options.waitConnected !== undefined) {
    await waitFor(
      async () => (await listLive(env)).filter((c) => c.status === 'Connected').length >= options.waitConnected!,
      20_000,
      'connections to be Connected',
    );
  }
  return agent;
}

export async function listLive(env: HcmEnv): Promise<ConnectionSummary[]> {
  const r = await hcm(env, ['list', '--json']);
  if (r.code !== 0) throw new Error(`hcm list failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { connections: ConnectionSummary[] }).connections;
}

export interface Forwarder extends RunningProcess {
  port: number;
}

/** Starts `hcm connect` on a free port; resolves with the port once it is listening. */
export async function startForwarder(env: HcmEnv, sendConnectionString: string, extraArgs: string[] = []): Promise<Forwarder> {
  const fwd = startHcm(env, ['connect', sendConnectionString, '--port', '0', ...extraArgs]);
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: fwd.proc.stdout! });
    rl.once('line', resolve);
    fwd.proc.once('exit', () => reject(new Error(`hcm connect exited:\n${fwd.output()}`)));
  });
  const port = Number(/:(\d+) ->/.exec(line)?.[1]);
  if (!port) throw new Error(`unexpected hcm connect output: ${line}`);
  return { ...fwd, port };
}
