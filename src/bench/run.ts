import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { cleanupAll, installCleanupHandlers, stopProcess } from './cleanup.js';
import { buildCommit } from './build-commit.js';
import { ForeignLoadMeter } from './foreign-load.js';
import { canRaiseFdLimit, fdHardLimit, gitInfo, loadAverage, machineInfo } from './machine.js';
import { type BenchOptions, USAGE, UsageError, parseOptions } from './options.js';
import { REPO_ROOT, RESULTS_DIR, useCli } from './paths.js';
import { runIdleScale } from './phases/idle-scale.js';
import { runLatency } from './phases/latency.js';
import { type SocatPids, runSetup } from './phases/setup.js';
import { runSlowConsumer } from './phases/slow-consumer.js';
import { runThroughputCase } from './phases/throughput.js';
import { runMany } from './phases/many.js';
import { runCliStartup } from './phases/cli-startup.js';
import { log } from './progress.js';
import { type BenchResult, costRows, evaluateGoals, saveResult } from './results.js';
import { startIperfServer, startNodeHelper, startRedis } from './servers.js';
import { type SocatChain, startSocatChain } from './socat-chain.js';
import { formatReport } from './table.js';
import { checkTools } from './tools.js';
import { type Tunnel, startTunnel } from './tunnel.js';
import { makeBenchCertificates } from './tls-certs.js';

/**
 * `npm run bench`: the tunnel (hcm connect, hcm emulator, hcm run) over ws:// and wss:// against
 * direct loopback and three-hop socat chains (plain, and with TLS middle legs), with real servers;
 * then idle scale, many Hybrid Connections in one agent, CLI start-up and a slow consumer.
 * Prints a table; writes JSON to bench/results.
 */

const CASES: Array<{ streams: number; reverse: boolean }> = [
  { streams: 1, reverse: false },
  { streams: 1, reverse: true },
  { streams: 8, reverse: false },
  { streams: 8, reverse: true },
];

/** One phase failing (a tool crashing, a timeout) is recorded and the others still run. */
async function phase(result: BenchResult, name: string, body: () => Promise<void>): Promise<void> {
  const meter = new ForeignLoadMeter();
  try {
    await body();
    if (name !== 'servers') result.foreignLoad.push({ phase: name, ...meter.stop() });
  } catch (err) {
    const message = (err as Error).stack ?? String(err);
    log(`${name} failed: ${message}`);
    result.errors.push({ phase: name, message });
  }
}

/**
 * Throughput, cost, latency and setup share one set of servers and, per transport, one socat
 * chain per server and one tunnel: ws:// against the plain chain, wss:// (production's shape)
 * against the chain whose two middle legs are TLS. Each case runs direct, then plain socat and
 * tunnel, then TLS socat and tunnel, so a burst of other work hits them all.
 */
async function sharedPhases(o: BenchOptions, result: BenchResult): Promise<void> {
  const wants = (p: string) => o.phases.includes(p as never);
  const certs = makeBenchCertificates();
  const iperf = await startIperfServer();
  const redis = await startRedis();
  const echo = await startNodeHelper('echo-server');
  const chains: SocatChain[] = [];
  const chain = async (port: number, tls: boolean) => {
    const c = await startSocatChain(port, tls ? certs : undefined);
    chains.push(c);
    return c;
  };
  const socat = {
    plain: { iperf: await chain(iperf.port, false), redis: await chain(redis.port, false), echo: await chain(echo.port, false) },
    tls: { iperf: await chain(iperf.port, true), redis: await chain(redis.port, true), echo: await chain(echo.port, true) },
  };
  const endpoints = { iperf: iperf.port, redis: redis.port, echo: echo.port };
  const tunnels: Tunnel[] = [];
  try {
    tunnels.push(await startTunnel({ endpoints, plain: true }));
    tunnels.push(await startTunnel({ endpoints, plain: false }));
    const tunnel = { plain: tunnels[0]!, tls: tunnels[1]! };
    const socatPath = (c: SocatChain) => ({
      port: c.port,
      pid: c.lastHop.pid,
      withChildren: true,
      others: { first: c.hops[0]!.pid, middle: c.hops[1]!.pid },
    });
    const tunnelPath = (t: Tunnel, name: string) => ({
      port: t.ports[name]!,
      pid: t.agent.pid,
      others: { forwarder: t.forwarders[name]!.pid, relay: t.emulator.pid },
    });
    if (wants('throughput')) {
      await phase(result, 'throughput', async () => {
        for (const c of CASES) {
          const plain = await runThroughputCase(
            { ...c, transport: 'plain' },
            { direct: { port: iperf.port }, socat: socatPath(socat.plain.iperf), tunnel: tunnelPath(tunnel.plain, 'iperf') },
            o.iperfSeconds,
          );
          result.throughput.push(plain);
          result.throughput.push(
            await runThroughputCase(
              { ...c, transport: 'tls' },
              { direct: { port: iperf.port }, socat: socatPath(socat.tls.iperf), tunnel: tunnelPath(tunnel.tls, 'iperf') },
              o.iperfSeconds,
              plain.direct,
            ),
          );
        }
      });
      result.cost = costRows(result.throughput);
    }
    if (wants('latency')) {
      await phase(result, 'latency', async () => {
        for (const { clients, requests } of o.redis) {
          const plain = await runLatency(
            'plain',
            { direct: redis.port, socat: socat.plain.redis.port, tunnel: tunnel.plain.ports.redis! },
            requests,
            clients,
          );
          result.latency.push(...plain);
          result.latency.push(
            ...(await runLatency(
              'tls',
              { direct: plain.map((r) => r.direct), socat: socat.tls.redis.port, tunnel: tunnel.tls.ports.redis! },
              requests,
              clients,
            )),
          );
        }
      });
    }
    if (wants('setup')) {
      await phase(result, 'setup', async () => {
        const counts = { sequential: o.setupSequential, concurrent: o.setupConcurrent, workers: o.setupWorkers };
        const pids = (t: Tunnel, c: SocatChain) => ({
          tunnel: { agent: t.agent.pid, forwarder: t.forwarders.echo!.pid, relay: t.emulator.pid },
          socat: c.hops.map((h) => h.pid) as SocatPids,
        });
        result.setup = await runSetup(
          'plain',
          { direct: echo.port, socat: socat.plain.echo.port, tunnel: tunnel.plain.ports.echo! },
          counts,
          pids(tunnel.plain, socat.plain.echo),
        );
        result.setupTls = await runSetup(
          'tls',
          { direct: result.setup.direct, socat: socat.tls.echo.port, tunnel: tunnel.tls.ports.echo! },
          counts,
          pids(tunnel.tls, socat.tls.echo),
        );
      });
    }
  } finally {
    for (const t of tunnels) await t.stop();
    for (const c of chains) for (const hop of c.hops) await stopProcess(hop.proc);
    for (const s of [iperf, redis, echo]) await stopProcess(s.child.proc);
  }
}

/** How many idle connections this machine allows: the agent and the relay hold two descriptors each. */
function idlePlan(requested: number): { count: number; fdLimit: number; limitedBy?: string } {
  const wanted = 2 * requested + 1000;
  if (fdHardLimit() >= wanted || canRaiseFdLimit(wanted)) return { count: requested, fdLimit: wanted };
  const hard = fdHardLimit();
  const count = Math.min(requested, Math.floor((hard - 200) / 2));
  return {
    count,
    fdLimit: hard,
    limitedBy: `open-files hard limit ${hard}; raising it needs CAP_SYS_RESOURCE; the agent and the relay hold 2 descriptors per connection`,
  };
}

async function main(): Promise<number> {
  let o: BenchOptions;
  try {
    o = parseOptions(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    if (err.message) process.stderr.write(`${err.message}\n\n`);
    process.stderr.write(`${USAGE}\n`);
    return err.message ? 2 : 0;
  }
  checkTools();
  installCleanupHandlers();
  if (o.cli) {
    if (!existsSync(o.cli)) throw new Error(`--cli ${o.cli} does not exist`);
    useCli(resolve(o.cli));
  } else if (o.commit) {
    log(`building ${o.commit} in a temporary directory`);
    const built = buildCommit(o.commit);
    useCli(built.cli);
    o.commit = built.commit;
  }
  const t0 = Date.now();
  const result: BenchResult = {
    schema: 2,
    mode: o.quick ? 'quick' : 'full',
    startedAt: new Date(t0).toISOString(),
    finishedAt: '',
    durationSeconds: 0,
    git: o.commit
      ? { commit: o.commit, branch: o.cli ? `(build at ${o.cli})` : '(built from the commit)', dirtySrc: [] }
      : gitInfo(REPO_ROOT),
    machine: machineInfo(),
    load: { start: loadAverage(), end: [] },
    foreignLoad: [],
    options: o,
    throughput: [],
    cost: [],
    latency: [],
    goals: [],
    errors: [],
  };
  log(`open-hcm bench (${result.mode}), commit ${result.git.commit.slice(0, 12)}, load ${result.load.start.join(' ')}`);
  try {
    if (o.phases.some((p) => p === 'throughput' || p === 'latency' || p === 'setup'))
      await phase(result, 'servers', () => sharedPhases(o, result));
    if (o.phases.includes('scale')) {
      await phase(result, 'idle scale', async () => {
        const plan = idlePlan(o.idleConnections);
        result.idle = await runIdleScale(plan.count, plan.fdLimit, o.idleSeconds, plan.limitedBy);
      });
    }
    if (o.phases.includes('many')) {
      await phase(result, 'many Hybrid Connections', async () => {
        result.many = await runMany({
          count: o.manyCount,
          idleSeconds: o.manyIdleSeconds,
          costSeconds: o.manyCostSeconds,
          trafficBytes: o.manyTrafficBytes,
        });
      });
    }
    if (o.phases.includes('cli')) {
      await phase(result, 'cli start-up', async () => {
        result.cli = await runCliStartup(o.cliRuns);
      });
    }
    if (o.phases.includes('slow')) {
      await phase(result, 'slow consumer', async () => {
        result.slow = await runSlowConsumer(o.slowRate, o.slowTotal, o.slowCapSeconds);
      });
    }
  } finally {
    await cleanupAll();
  }
  result.finishedAt = new Date().toISOString();
  result.durationSeconds = (Date.now() - t0) / 1000;
  result.load.end = loadAverage();
  result.goals = evaluateGoals(result);
  process.stdout.write(`\n${formatReport(result)}\n`);
  if (o.save) {
    const { file } = saveResult(RESULTS_DIR, result);
    process.stdout.write(`\nresults: ${file} (and bench/results/latest.json)\n`);
  }
  return result.errors.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  async (err: Error) => {
    process.stderr.write(`bench failed: ${err.message}\n`);
    await cleanupAll();
    process.exit(1);
  },
);
