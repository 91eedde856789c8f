import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeDir, stopProcess, trackDir } from './cleanup.js';
import { cliPath } from './paths.js';
import { type Spawned, runToEnd, spawnTracked } from './spawn.js';
import { AGENT_NODE_FLAGS } from '../core/agent-node-flags.js';

/**
 * The tunnel under test, exactly as the README's headless walkthrough builds it:
 * client -> `hcm connect` (forwarder) -> `hcm emulator` -> `hcm run` (agent) -> server.
 * One Hybrid Connection per server; each gets its own forwarder port.
 */

export interface Tunnel {
  /** Forwarder port per Hybrid Connection name: where clients connect. */
  ports: Record<string, number>;
  agent: Spawned;
  emulator: Spawned;
  forwarders: Record<string, Spawned>;
  /** The agent's HCM_HOME (its config.json, secrets.json and control socket). */
  home: string;
  /** The emulator's CA file (wss://), or null (ws://). */
  caFile: string | null;
  stop(): Promise<void>;
}

export interface TunnelOptions {
  /** Hybrid Connection name -> endpoint port on 127.0.0.1. */
  endpoints: Record<string, number>;
  /** ws:// (like-for-like with plain-TCP socat) instead of wss://. */
  plain: boolean;
  /** Open-files limit for the three processes (idle-scale test). */
  fdLimit?: number;
}

interface ReadyLine {
  port: number;
  ca: string | null;
  hybridConnections: Record<string, { listen: string; send: string }>;
}

export async function startTunnel(options: TunnelOptions): Promise<Tunnel> {
  const dir = mkdtempSync(join(tmpdir(), 'hcm-bench-'));
  trackDir(dir);
  const started: Spawned[] = [];
  const stop = async () => {
    // Sender side first, so the agent sees clean closes rather than a vanished relay.
    for (const p of started.reverse()) await stopProcess(p.proc);
    removeDir(dir);
  };
  try {
    const config = {
      namespaces: [
        {
          name: 'bench',
          hybridConnections: Object.entries(options.endpoints).map(([name, port]) => ({ name, endpoint: `127.0.0.1:${port}` })),
        },
      ],
    };
    const configFile = join(dir, 'emulator.json');
    writeFileSync(configFile, JSON.stringify(config));
    const limit = options.fdLimit ? { fdLimit: options.fdLimit } : {};

    const emuArgs = [cliPath(), 'emulator', '--port', '0', '--state-dir', join(dir, 'emulator'), '--config', configFile];
    if (options.plain) emuArgs.push('--plain');
    // HCM_BENCH_NODE_ARGS go to the tunnel's own processes only (e.g. --cpu-prof to profile them).
    const nodeArgs = (process.env.HCM_BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
    const emulator = spawnTracked(process.execPath, [...nodeArgs, ...emuArgs], limit);
    started.push(emulator);
    const ready = JSON.parse(await emulator.waitForLine(/^\{/)) as ReadyLine;

    const env: NodeJS.ProcessEnv = { ...process.env, HCM_HOME: join(dir, 'home') };
    delete env.NODE_OPTIONS;
    if (ready.ca) env.HCM_CA_FILE = ready.ca;
    // In parallel: the config store locks each read-modify-write, as the README promises.
    await Promise.all(
      Object.values(ready.hybridConnections).map((hc) =>
        runToEnd(process.execPath, [cliPath(), 'add', hc.listen], { env, timeoutMs: 60_000 }),
      ),
    );

    // The agent as the service units start it (src/core/agent-node-flags.ts).
    const agent = spawnTracked(process.execPath, [...AGENT_NODE_FLAGS, ...nodeArgs, cliPath(), 'run'], { env, ...limit });
    started.push(agent);
    await agent.waitForLine(/agent started/);
    await waitConnected(agent, env, Object.keys(options.endpoints).length);

    const ports: Record<string, number> = {};
    const forwarders: Record<string, Spawned> = {};
    await Promise.all(
      Object.entries(ready.hybridConnections).map(async ([name, hc]) => {
        const fwd = spawnTracked(process.execPath, [...nodeArgs, cliPath(), 'connect', hc.send, '--port', '0'], { env, ...limit });
        started.push(fwd);
        const line = await fwd.waitForLine(/^forwarding /);
        const port = Number(/:(\d+) ->/.exec(line)?.[1]);
        if (!port) throw new Error(`unexpected hcm connect output: ${line}`);
        ports[name] = port;
        forwarders[name] = fwd;
      }),
    );
    return { ports, agent, emulator, forwarders, home: env.HCM_HOME!, caFile: ready.ca, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Until the agent has every connection Connected: its "listening" log lines are the quick
 * signal; `hcm list --json` (slower, a process per call) decides if the wording ever changes.
 */
async function waitConnected(agent: Spawned, env: NodeJS.ProcessEnv, count: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  let last = '';
  let nextList = Date.now() + 2000;
  while (Date.now() < deadline) {
    if ((agent.output().match(/listening \(listener id/g) ?? []).length >= count) return;
    if (Date.now() >= nextList) {
      last = await runToEnd(process.execPath, [cliPath(), 'list', '--json'], { env, timeoutMs: 30_000 });
      const list = JSON.parse(last) as { connections: Array<{ status: string }> };
      if (list.connections.filter((c) => c.status === 'Connected').length >= count) return;
      nextList = Date.now() + 1000;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`the agent did not connect every Hybrid Connection within 30 s:\n${last}\n${agent.output().slice(-2000)}`);
}
