import { waitListening } from './listening.js';
import { helperScript } from './paths.js';
import { freePort } from './ports.js';
import { type Spawned, spawnTracked } from './spawn.js';

/** The real servers behind every path: iperf3, redis-server and small Node endpoints. */

export interface Server {
  port: number;
  child: Spawned;
}

async function started(child: Spawned, port: number, what: string): Promise<Server> {
  await waitListening(port, what, 15_000, () => child.proc.exitCode === null);
  return { port, child };
}

export async function startIperfServer(): Promise<Server> {
  const port = await freePort();
  return started(spawnTracked('iperf3', ['-s', '-p', String(port), '-B', '127.0.0.1']), port, 'iperf3 -s');
}

export async function startRedis(): Promise<Server> {
  const port = await freePort();
  const child = spawnTracked('redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--protected-mode',
    'no',
    '--maxclients',
    '10000',
  ]);
  return started(child, port, 'redis-server');
}

/** A Node helper from dist/bench/helpers, with an IPC channel; `args` come after the port. */
export async function startNodeHelper(
  name: 'echo-server' | 'idle-server' | 'slow-server',
  args: string[] = [],
  fdLimit?: number,
): Promise<Server> {
  const port = await freePort();
  const child = spawnTracked(process.execPath, [helperScript(name), String(port), ...args], { ipc: true, ...(fdLimit ? { fdLimit } : {}) });
  return started(child, port, name);
}
