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
import { runSetup } from './phases/setup.js';
import { runSlowConsumer } from './phases/slow-consumer.js';
import { type ThroughputCase, type ThroughputRow, runThroughputCase } from './phases/throughput.js';
import { log } from './progress.js';
import { type BenchResult, costRows, evaluateGoals, saveResult } from './results.js';
import { startIperfServer, startNodeHelper, startRedis } from './servers.js';
import { startSocatChain } from './socat-chain.js';
import { formatReport } from './table.js';
import { checkTools } from './tools.js';
import { startTunnel } from './tunnel.js';

/**
 * `npm run bench`: the tunnel (emulator --plain, hcm run, hcm connect) against direct loopback
 * and a three-hop socat chain, with real servers. Prints a table; writes JSON to bench/results.
 */

const PLAIN_CASES: ThroughputCase[] = [
  { streams: 1, reverse: false, transport: 'plain' },
  { streams: 1, reverse: true, transport: 'plain' },
  { streams: 8, reverse: false, transport: 'plain' },
  { streams: 8, reverse: true, transport: 'plain' },
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

/** Throughput, cost, latency and setup share one set of servers, socat chains and one tunnel. */
async function sharedPhases(o: BenchOptions, result: BenchResult): Promise<void> {
  const wants = (p: string) => o.phases.includes(p as never);
  const iperf = await startIperfServer();
  const redis = await startRedis();
  const echo = await startNodeHelper('echo-server');
  const socat = {
    iperf: await startSocatChain(iperf.port),
    redis: await startSocatChain(redis.port),
    echo: await startSocatChain(echo.port),
  };
  const tunnel = await startTunnel({ endpoints: { iperf: iperf.port, redis: redis.port, echo: echo.port }, plain: true });
  try {
    if (wants('throughput')) {
      await phase(result, 'throughput', async () => {
        const paths = {
          direct: { port: iperf.port },
          socat: { port: socat.iperf.port, pid: socat.iperf.lastHop.pid, withChildren: true },
          tunnel: {
            port: tunnel.ports.iperf!,
            pid: tunnel.agent.pid,
            others: { forwarder: tunnel.forwarders.iperf!.pid, relay: tunnel.emulator.pid },
          },
        };
        for (const c of PLAIN_CASES) result.throughput.push(await runThroughputCase(c, paths, o.iperfSeconds));
      });
      await phase(result, 'throughput over TLS', async () => {
        const tls = await startTunnel({ endpoints: { iperf: iperf.port }, plain: false });
        try {
          for (const c of PLAIN_CASES.filter((c) => c.streams === 1)) {
            const plainRow = result.throughput.find(
              (r: ThroughputRow) => r.transport === 'plain' && r.streams === c.streams && (r.direction === 'server->client') === c.reverse,
            );
            const paths = {
              direct: { port: iperf.port },
              socat: { port: socat.iperf.port },
              tunnel: {
                port: tls.ports.iperf!,
                pid: tls.agent.pid,
                others: { forwarder: tls.forwarders.iperf!.pid, relay: tls.emulator.pid },
              },
            };
            result.throughput.push(
              await runThroughputCase(
                { ...c, transport: 'tls' },
                paths,
                o.iperfSeconds,
                plainRow ? { direct: plainRow.direct, socat: plainRow.socat } : undefined,
              ),
            );
          }
        } finally {
          await tls.stop();
        }
      });
      result.cost = costRows(result.throughput);
    }
    if (wants('latency')) {
      await phase(result, 'latency', async () => {
        for (const { clients, requests } of o.redis)
          result.latency.push(
            ...(await runLatency({ direct: redis.port, socat: socat.redis.port, tunnel: tunnel.ports.redis! }, requests, clients)),
          );
      });
    }
    if (wants('setup')) {
      await phase(result, 'setup', async () => {
        result.setup = await runSetup(
          { direct: echo.port, socat: socat.echo.port, tunnel: tunnel.ports.echo! },
          o.setupSequential,
          o.setupConcurrent,
          o.setupWorkers,
          {
            agent: tunnel.agent.pid,
            forwarder: tunnel.forwarders.echo!.pid,
            relay: tunnel.emulator.pid,
          },
        );
      });
    }
  } finally {
    await tunnel.stop();
    for (const chain of Object.values(socat)) for (const hop of chain.hops) await stopProcess(hop.proc);
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
    schema: 1,
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
