import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './emulator.js';
import { freePort } from './ports.js';

/** A real tinyproxy (Debian's package) on a free loopback port, with its log, for proxy tests. */

export interface Tinyproxy {
  port: number;
  url: string;
  /** The CONNECT requests it logged so far ("host:port" each). */
  connects(): string[];
  stop(): Promise<void>;
}

export async function startTinyproxy(
  options: { basicAuth?: { user: string; password: string }; connectPorts?: number[] } = {},
): Promise<Tinyproxy> {
  if (!existsSync('/usr/bin/tinyproxy')) throw new Error('tinyproxy is not installed: run "bash .ci/install-deps"');
  const dir = mkdtempSync(join(tmpdir(), 'hcm-tinyproxy-'));
  chmodSync(dir, 0o777); // it drops to nobody when started as root, and writes its log here
  const port = await freePort();
  const log = join(dir, 'tinyproxy.log');
  const lines = [
    `Port ${port}`,
    'Listen 127.0.0.1',
    'Timeout 600',
    `LogFile "${log}"`,
    'LogLevel Connect',
    'MaxClients 200',
    'DisableViaHeader Yes',
    ...(process.getuid?.() === 0 ? ['User nobody', 'Group nogroup'] : []),
    ...(options.basicAuth ? [`BasicAuth ${options.basicAuth.user} ${options.basicAuth.password}`] : []),
    ...(options.connectPorts ?? []).map((p) => `ConnectPort ${p}`),
  ];
  const conf = join(dir, 'tinyproxy.conf');
  writeFileSync(conf, `${lines.join('\n')}\n`);
  const proc: ChildProcess = spawn('/usr/bin/tinyproxy', ['-d', '-c', conf], { stdio: 'ignore' });
  const readLog = () => (existsSync(log) ? readFileSync(log, 'utf8') : '');
  await waitFor(async () => proc.exitCode !== null || (await accepts(port)), 10_000, 'tinyproxy to listen');
  if (proc.exitCode !== null) throw new Error(`tinyproxy exited:\n${readLog()}`);
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    connects: () => [...readLog().matchAll(/Request \(file descriptor \d+\): CONNECT (\S+) HTTP/g)].map((m) => m[1]!),
    stop: () =>
      new Promise((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}
