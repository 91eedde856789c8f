import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeDir, stopProcess, trackDir } from '../cleanup.js';
import { cliPath, helperScript } from '../paths.js';
import { cpuSeconds, rssBytes, RssSampler } from '../proc-stats.js';
import { log } from '../progress.js';
import { startNodeHelper } from '../servers.js';
import { type Spawned, runToEnd, spawnTracked } from '../spawn.js';
import { sleep } from '../stats.js';
import { AGENT_NODE_FLAGS } from '../../core/agent-node-flags.js';
import { ConfigStore, type StoredConnection } from '../../core/config-store.js';
import { hostWithPort, namespaceName, parseConnectionString } from '../../relay/connection-string.js';

/**
 * Many Hybrid Connections in one agent: an emulator (wss://, production's shape) configured with
 * `count` of them, all pointing at one echo endpoint, and an agent whose configuration is written
 * directly (in the format of src/core/config-store.ts: `hcm add` a thousand times would take
 * minutes). Measured: the time from starting `hcm run` until every control channel is up, the
 * agent's memory with all of them, its CPU while idle (keep-alive pings included), the cost of a
 * keep-alive ping and of a token renewal (two more agents with those timers shortened, so that
 * enough of them happen in a short window), and traffic across all of them at once, every byte
 * checked (helpers/many-senders.ts).
 */

export interface ManyFigures {
  count: number;
  transport: 'tls';
  /** From spawning `hcm run` to the last "listening" line (every control channel open). */
  startToAllConnectedSeconds: number;
  /** Same, for an agent with one Hybrid Connection (the fixed start-up cost). */
  startOneConnectedSeconds: number;
  /** Agent RSS 3 s after all were connected, and of a one-connection agent at the same point. */
  agentRssBytes: number;
  agentRssOneBytes: number;
  /** The same agent started as plain `node main.js run`, without the agent's Node options (src/core/agent-node-flags.ts). */
  agentRssPlainNodeBytes?: number;
  bytesPerHybridConnection: number;
  idle: {
    seconds: number;
    agentCpuShare: number;
    emulatorCpuShare: number;
    rssStartBytes: number;
    rssEndBytes: number;
    rssPeakBytes: number;
  };
  keepAlive: { intervalMs: number; defaultIntervalMs: number; seconds: number; pings: number; cpuMsPerPing: number };
  renewal: { ttlSeconds: number; defaultRenewEverySeconds: number; seconds: number; renewals: number; cpuMsPerRenewal: number };
  /** Agent CPU (share of a core) at the defaults: measured idle plus renewals spread over their period. */
  projectedIdleCpuShare: number;
  traffic?: {
    connections: number;
    bytesEach: number;
    /** Opening all the sender connections at once, before any traffic. */
    openSeconds?: number;
    /** The traffic, from the moment all were open. */
    seconds: number;
    receivedBytes: number;
    checkedBytes: number;
    mismatches: number;
    failures: number;
    errors: string[];
    agentCpuSeconds: number;
    agentRssPeakBytes: number;
  };
}

export interface ManyOptions {
  count: number;
  idleSeconds: number;
  /** Window of each accelerated run (keep-alive, renewal). */
  costSeconds: number;
  trafficBytes: number;
}

interface Ready {
  ca: string | null;
  hybridConnections: Record<string, { listen: string; send: string }>;
}

const DEFAULT_KEEPALIVE_MS = 25_000;
const DEFAULT_TOKEN_TTL_S = 3600;
const FAST_KEEPALIVE_MS = 1000;
const SHORT_TTL_S = 20;

/** Renewals happen at three quarters of a token's life (control-channel.ts). */
const renewEvery = (ttl: number) => ttl * 0.75;

export async function runMany(o: ManyOptions): Promise<ManyFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'hcm-bench-many-'));
  trackDir(dir);
  const echo = await startNodeHelper('echo-server');
  const names = Array.from({ length: o.count }, (_, i) => `hc-${String(i).padStart(4, '0')}`);
  const configFile = join(dir, 'emulator.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      namespaces: [{ name: 'many', hybridConnections: names.map((name) => ({ name, endpoint: `127.0.0.1:${echo.port}` })) }],
    }),
  );
  const emulator = spawnTracked(process.execPath, [
    cliPath(),
    'emulator',
    '--port',
    '0',
    '--state-dir',
    join(dir, 'emulator'),
    '--config',
    configFile,
    '--no-azure',
    '--max-listeners',
    '25',
  ]);
  const agents: Spawned[] = [];
  try {
    const ready = JSON.parse(await emulator.waitForLine(/^\{/, 60_000)) as Ready;
    const listen = names.map((n) => ready.hybridConnections[n]!.listen);
    const baseEnv: NodeJS.ProcessEnv = { ...process.env };
    delete baseEnv.NODE_OPTIONS;
    if (ready.ca) baseEnv.HCM_CA_FILE = ready.ca;

    // The fixed cost: an agent with one Hybrid Connection.
    const oneHome = join(dir, 'one');
    await writeConfig(oneHome, listen.slice(0, 1), echo.port);
    const one = await startAgent({ ...baseEnv, HCM_HOME: oneHome }, 1, agents);
    await sleep(3000);
    const agentRssOneBytes = rssBytes(one.agent.pid);
    await stopProcess(one.agent.proc);

    // All of them, at the defaults.
    const home = join(dir, 'all');
    await writeConfig(home, listen, echo.port);
    log(`many: starting an agent with ${o.count} Hybrid Connections`);
    const all = await startAgent({ ...baseEnv, HCM_HOME: home }, o.count, agents);
    log(`many: all ${o.count} connected ${all.seconds.toFixed(2)} s after start`);
    await sleep(3000);
    const agentRssBytes = rssBytes(all.agent.pid);
    log(`many: ${o.idleSeconds} s idle`);
    const sampler = new RssSampler(all.agent.pid, 1000).start();
    const cpu0 = { agent: cpuSeconds(all.agent.pid), emulator: cpuSeconds(emulator.pid) };
    await sleep(o.idleSeconds * 1000);
    sampler.stop();
    const idleAgent = (cpuSeconds(all.agent.pid) - cpu0.agent) / o.idleSeconds;
    const idleEmulator = (cpuSeconds(emulator.pid) - cpu0.emulator) / o.idleSeconds;
    const idle = {
      seconds: o.idleSeconds,
      agentCpuShare: idleAgent,
      emulatorCpuShare: idleEmulator,
      rssStartBytes: agentRssBytes,
      rssEndBytes: sampler.last,
      rssPeakBytes: sampler.peak,
    };

    let traffic: ManyFigures['traffic'];
    if (o.trafficBytes > 0) {
      log(`many: ${(o.trafficBytes / 1024).toFixed(0)} KiB each way through each of the ${o.count} at once`);
      const specFile = join(dir, 'senders.json');
      writeFileSync(
        specFile,
        JSON.stringify({ ca: ready.ca, send: names.map((n) => ready.hybridConnections[n]!.send), bytes: o.trafficBytes }),
      );
      const peak = new RssSampler(all.agent.pid, 100).start();
      const before = cpuSeconds(all.agent.pid);
      const out = await runToEnd(process.execPath, [helperScript('many-senders'), specFile], { timeoutMs: 400_000, allowFailure: true });
      peak.stop();
      const agentCpuSeconds = cpuSeconds(all.agent.pid) - before;
      const result = JSON.parse(out.trim().split('\n').pop() ?? '{}') as Omit<NonNullable<ManyFigures['traffic']>, 'agentCpuSeconds'> & {
        error?: string;
      };
      if (result.error) throw new Error(`many-senders: ${result.error}`);
      traffic = { ...result, agentCpuSeconds, agentRssPeakBytes: peak.peak };
    }
    await stopProcess(all.agent.proc);

    // The same, without the options every launcher of ours gives the agent (a user's bare `hcm run`).
    log(`many: again without the agent's Node options (${AGENT_NODE_FLAGS.join(' ')})`);
    const bare = await startAgent({ ...baseEnv, HCM_HOME: home }, o.count, agents, []);
    await sleep(3000);
    const agentRssPlainNodeBytes = rssBytes(bare.agent.pid);
    await stopProcess(bare.agent.proc);

    // Keep-alive: pings every FAST_KEEPALIVE_MS instead of 25 s; the extra CPU over idle, per ping.
    log(`many: keep-alive cost (pings every ${FAST_KEEPALIVE_MS} ms, ${o.costSeconds} s)`);
    const ka = await startAgent({ ...baseEnv, HCM_HOME: home, HCM_KEEPALIVE_INTERVAL_MS: String(FAST_KEEPALIVE_MS) }, o.count, agents);
    await sleep(2000);
    const kaCpu0 = cpuSeconds(ka.agent.pid);
    await sleep(o.costSeconds * 1000);
    const kaRate = (cpuSeconds(ka.agent.pid) - kaCpu0) / o.costSeconds;
    await stopProcess(ka.agent.proc);
    const extraPingsPerSecond = o.count * (1000 / FAST_KEEPALIVE_MS - 1000 / DEFAULT_KEEPALIVE_MS);
    const keepAlive = {
      intervalMs: FAST_KEEPALIVE_MS,
      defaultIntervalMs: DEFAULT_KEEPALIVE_MS,
      seconds: o.costSeconds,
      pings: Math.round((o.count * o.costSeconds * 1000) / FAST_KEEPALIVE_MS),
      cpuMsPerPing: (Math.max(0, kaRate - idleAgent) * 1000) / extraPingsPerSecond,
    };

    // Renewal: tokens of SHORT_TTL_S seconds, renewed every 15 s; the extra CPU over idle, per renewal.
    log(`many: token renewal cost (${SHORT_TTL_S} s tokens, ${o.costSeconds} s)`);
    const rn = await startAgent({ ...baseEnv, HCM_HOME: home, HCM_TOKEN_TTL_SECONDS: String(SHORT_TTL_S) }, o.count, agents);
    await sleep(2000);
    const rnCpu0 = cpuSeconds(rn.agent.pid);
    await sleep(o.costSeconds * 1000);
    const rnRate = (cpuSeconds(rn.agent.pid) - rnCpu0) / o.costSeconds;
    await stopProcess(rn.agent.proc);
    const renewalsPerSecond = o.count / renewEvery(SHORT_TTL_S);
    const renewal = {
      ttlSeconds: SHORT_TTL_S,
      defaultRenewEverySeconds: renewEvery(DEFAULT_TOKEN_TTL_S),
      seconds: o.costSeconds,
      renewals: Math.round(renewalsPerSecond * o.costSeconds),
      cpuMsPerRenewal: (Math.max(0, rnRate - idleAgent) * 1000) / renewalsPerSecond,
    };
    const projectedIdleCpuShare = idleAgent + (o.count * renewal.cpuMsPerRenewal) / 1000 / renewEvery(DEFAULT_TOKEN_TTL_S);

    return {
      count: o.count,
      transport: 'tls',
      startToAllConnectedSeconds: all.seconds,
      startOneConnectedSeconds: one.seconds,
      agentRssBytes,
      agentRssOneBytes,
      agentRssPlainNodeBytes,
      bytesPerHybridConnection: (agentRssBytes - agentRssOneBytes) / Math.max(1, o.count - 1),
      idle,
      keepAlive,
      renewal,
      projectedIdleCpuShare,
      ...(traffic ? { traffic } : {}),
    };
  } finally {
    for (const a of agents) await stopProcess(a.proc);
    await stopProcess(emulator.proc);
    await stopProcess(echo.child.proc);
    removeDir(dir);
  }
}

/** config.json and secrets.json as `hcm add` writes them, for every listen connection string. */
async function writeConfig(home: string, listen: string[], port: number): Promise<void> {
  const store = new ConfigStore({ home, configFile: join(home, 'config.json'), secretsFile: join(home, 'secrets.json') });
  const addedAt = new Date().toISOString();
  await store.update((list) => {
    list.length = 0;
    for (const text of listen) {
      const cs = parseConnectionString(text, { requireEntityPath: true });
      const connection: StoredConnection = {
        id: `${namespaceName(cs)}/${cs.entityPath}`,
        name: cs.entityPath!,
        namespace: namespaceName(cs),
        serviceBusAddress: `sb://${hostWithPort(cs)}/`,
        keyName: cs.sharedAccessKeyName ?? null,
        endpoint: `127.0.0.1:${port}`,
        endpointSource: 'metadata',
        addedAt,
        connectionString: text,
      };
      list.push(connection);
    }
  });
}

/** Starts `hcm run` (as the service units do: with the agent's Node options unless told otherwise) and resolves once `count` control channels are open, with the time that took. */
async function startAgent(
  env: NodeJS.ProcessEnv,
  count: number,
  agents: Spawned[],
  nodeOptions: readonly string[] = AGENT_NODE_FLAGS,
): Promise<{ agent: Spawned; seconds: number }> {
  const t0 = performance.now();
  const agent = spawnTracked(process.execPath, [...nodeOptions, cliPath(), 'run'], { env });
  agents.push(agent);
  let listening = 0;
  await new Promise<void>((resolve, reject) => {
    const finish = (err?: Error) => {
      off();
      clearTimeout(timer);
      agent.proc.off('exit', onExit);
      if (err) reject(err);
      else resolve();
    };
    const off = agent.onLine((line) => {
      if (line.includes('listening (listener id') && ++listening >= count) finish();
    });
    const onExit = (code: number | null) =>
      finish(new Error(`hcm run exited (${code}) with ${listening} of ${count} connected:\n${agent.output().slice(-2000)}`));
    agent.proc.once('exit', onExit);
    const timer = setTimeout(
      () => finish(new Error(`only ${listening} of ${count} Hybrid Connections connected within 120 s:\n${agent.output().slice(-2000)}`)),
      120_000,
    );
  });
  return { agent, seconds: (performance.now() - t0) / 1000 };
}
