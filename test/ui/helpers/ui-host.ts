import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { HcmEnv } from '../../helpers/agent.js';
import { CLI } from '../../helpers/paths.js';

/** `hcm ui` as a real process: the browser host the UI tests drive. */
export interface UiHost {
  url: string;
  port: number;
  token: string;
  proc: ChildProcess;
  output(): string;
  /** Resolves with the exit code when the process ends by itself. */
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

export async function startUiHost(env: HcmEnv, args: string[] = []): Promise<UiHost> {
  const proc = spawn(process.execPath, [CLI, 'ui', '--port', '0', '--grace', '1', ...args], { env: env.env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(proc);
  let output = '';
  proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code, signal) => {
      running.delete(proc);
      resolve(code ?? (signal ? 128 : null));
    }),
  );
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (l) => l.startsWith('HCM UI: ') && resolve(l));
    void exited.then((code) => reject(new Error(`hcm ui exited with ${code} before printing its address:\n${output}`)));
  });
  const match = /^HCM UI: (http:\/\/127\.0\.0\.1:(\d+)\/#token=([A-Za-z0-9_-]+))$/.exec(line);
  if (!match) throw new Error(`unexpected first line from hcm ui: ${line}`);
  return {
    url: match[1]!,
    port: Number(match[2]),
    token: match[3]!,
    proc,
    output: () => output,
    exited,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      return exited;
    },
  };
}
