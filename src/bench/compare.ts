import { readFileSync } from 'node:fs';
import type { BenchResult } from './results.js';
import { MB, MiB } from './stats.js';

/**
 * Side-by-side Markdown table of the headline figures of several result files, for
 * docs/performance.md: `node dist/bench/compare.js bench/results/A.json bench/results/B.json`.
 */

type Pick = (r: BenchResult) => number | undefined;

const tp =
  (name: string, path: 'tunnel' | 'socat' | 'direct'): Pick =>
  (r) => {
    const row = r.throughput.find((t) => t.name === name);
    return row ? row[path].bytesPerSecond / MB : undefined;
  };
const tpRatio =
  (name: string): Pick =>
  (r) =>
    r.throughput.find((t) => t.name === name)?.tunnelVsSocat;
const lat =
  (clients: number, test: string, which: 'p50Ms' | 'p99Ms', path: 'tunnel' | 'direct'): Pick =>
  (r) =>
    r.latency.find((l) => l.clients === clients && l.test === test)?.[path][which];

const FIGURES: Array<[string, Pick, number]> = [
  ['1 stream client->server, tunnel MB/s', tp('1 stream client->server', 'tunnel'), 0],
  ['  socat MB/s', tp('1 stream client->server', 'socat'), 0],
  ['  tunnel/socat', tpRatio('1 stream client->server'), 2],
  ['  direct MB/s (how fast the machine was)', tp('1 stream client->server', 'direct'), 0],
  ['1 stream server->client, tunnel MB/s', tp('1 stream server->client', 'tunnel'), 0],
  ['  socat MB/s', tp('1 stream server->client', 'socat'), 0],
  ['  tunnel/socat', tpRatio('1 stream server->client'), 2],
  ['8 streams client->server, tunnel MB/s', tp('8 streams client->server', 'tunnel'), 0],
  ['  socat MB/s', tp('8 streams client->server', 'socat'), 0],
  ['  tunnel/socat', tpRatio('8 streams client->server'), 2],
  ['8 streams server->client, tunnel MB/s', tp('8 streams server->client', 'tunnel'), 0],
  ['  socat MB/s', tp('8 streams server->client', 'socat'), 0],
  ['  tunnel/socat', tpRatio('8 streams server->client'), 2],
  ['1 stream client->server over wss, MB/s', tp('1 stream client->server (wss)', 'tunnel'), 0],
  ['  socat TLS chain MB/s', tp('1 stream client->server (wss)', 'socat'), 0],
  ['  tunnel/socat TLS', tpRatio('1 stream client->server (wss)'), 2],
  ['1 stream server->client over wss, MB/s', tp('1 stream server->client (wss)', 'tunnel'), 0],
  ['  tunnel/socat TLS', tpRatio('1 stream server->client (wss)'), 2],
  ['8 streams client->server over wss, MB/s', tp('8 streams client->server (wss)', 'tunnel'), 0],
  ['  tunnel/socat TLS', tpRatio('8 streams client->server (wss)'), 2],
  ['8 streams server->client over wss, MB/s', tp('8 streams server->client (wss)', 'tunnel'), 0],
  ['  tunnel/socat TLS', tpRatio('8 streams server->client (wss)'), 2],
  ['agent CPU s/GiB (all TLS runs)', (r) => r.cost.find((c) => c.name === 'all TLS runs')?.agentCpuSecondsPerGiB, 2],
  ['  socat TLS hop CPU s/GiB', (r) => r.cost.find((c) => c.name === 'all TLS runs')?.socatCpuSecondsPerGiB, 2],
  ['  agent/socat TLS hop', (r) => r.cost.find((c) => c.name === 'all TLS runs')?.agentVsSocat, 2],
  ['  relay emulator CPU s/GiB (TLS)', (r) => r.cost.find((c) => c.name === 'all TLS runs')?.relayCpuSecondsPerGiB, 2],
  ['agent CPU s/GiB (all plain runs)', (r) => r.cost.find((c) => c.name === 'all plain runs')?.agentCpuSecondsPerGiB, 2],
  ['  socat hop CPU s/GiB', (r) => r.cost.find((c) => c.name === 'all plain runs')?.socatCpuSecondsPerGiB, 2],
  ['  agent/socat', (r) => r.cost.find((c) => c.name === 'all plain runs')?.agentVsSocat, 2],
  ['redis GET -c 1 p50 ms, tunnel', lat(1, 'GET', 'p50Ms', 'tunnel'), 3],
  ['  direct', lat(1, 'GET', 'p50Ms', 'direct'), 3],
  ['redis GET -c 1 p99 ms, tunnel', lat(1, 'GET', 'p99Ms', 'tunnel'), 3],
  ['redis GET -c 50 p50 ms, tunnel', lat(50, 'GET', 'p50Ms', 'tunnel'), 3],
  ['  direct', lat(50, 'GET', 'p50Ms', 'direct'), 3],
  ['redis GET -c 50 requests/s, tunnel', (r) => r.latency.find((l) => l.clients === 50 && l.test === 'GET')?.tunnel.rps, 0],
  ['setup p50 ms, tunnel', (r) => r.setup?.tunnel.p50Ms, 2],
  ['setup p99 ms, tunnel', (r) => r.setup?.tunnel.p99Ms, 2],
  ['new connections/s, tunnel', (r) => r.setup?.tunnel.perSecond, 0],
  ['  socat', (r) => r.setup?.socat.perSecond, 0],
  ['agent CPU ms per new connection', (r) => r.setup?.tunnelCpuMsPerConnection?.agent, 3],
  ['setup over TLS p50 / p99 ms, tunnel', (r) => r.setupTls?.tunnel.p50Ms, 2],
  ['  p99', (r) => r.setupTls?.tunnel.p99Ms, 2],
  ['new connections/s over TLS, tunnel', (r) => r.setupTls?.tunnel.perSecond, 0],
  ['agent CPU ms per new TLS connection', (r) => r.setupTls?.tunnelCpuMsPerConnection?.agent, 3],
  ['idle: agent KiB per connection', (r) => (r.idle ? r.idle.agentBytesPerConnection / 1024 : undefined), 1],
  ['idle: connections held', (r) => r.idle?.held, 0],
  ['idle: agent CPU % of a core', (r) => (r.idle ? r.idle.agentIdleCpuShare * 100 : undefined), 2],
  ['many: Hybrid Connections', (r) => r.many?.count, 0],
  ['  start to all Connected, s', (r) => r.many?.startToAllConnectedSeconds, 2],
  ['  agent RSS MiB', (r) => (r.many ? r.many.agentRssBytes / MiB : undefined), 1],
  ['  idle agent CPU % of a core', (r) => (r.many ? r.many.idle.agentCpuShare * 100 : undefined), 2],
  ['hcm version, x node -e 0 (CPU)', (r) => r.cli?.commands.find((c) => c.name === 'hcm version')?.cpuVsNode, 2],
  ['  wall', (r) => r.cli?.commands.find((c) => c.name === 'hcm version')?.wallVsNode, 2],
  ['hcm list --json (no agent), x node (CPU)', (r) => r.cli?.commands.find((c) => c.name.startsWith('hcm list --json (no'))?.cpuVsNode, 2],
  ['hcm list --json (agent), x node (CPU)', (r) => r.cli?.commands.find((c) => c.name.startsWith('hcm list --json (agent'))?.cpuVsNode, 2],
  ['slow consumer: agent growth MiB', (r) => (r.slow ? r.slow.agentGrowthBytes / MiB : undefined), 1],
  ['goals met', (r) => r.goals.filter((g) => g.met).length, 0],
  ['other work during throughput, cores', (r) => r.foreignLoad?.find((l) => l.phase === 'throughput')?.foreignCores, 2],
  [
    'other work, whole run, cores (max phase)',
    (r) => (r.foreignLoad?.length ? Math.max(...r.foreignLoad.map((l) => l.foreignCores)) : undefined),
    2,
  ],
  ['load avg 1 min, start', (r) => r.load.start[0], 2],
  ['load avg 1 min, end', (r) => r.load.end[0], 2],
];

const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write('usage: node dist/bench/compare.js RESULT.json [RESULT.json …]\n');
  process.exit(2);
}
const results = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as BenchResult);
const head = ['figure', ...results.map((r) => `${r.git.commit.slice(0, 7)} ${r.mode} ${r.startedAt.slice(11, 16)}`)];
const rows = FIGURES.map(([label, pick, digits]) => [
  label,
  ...results.map((r) => {
    const v = pick(r);
    return v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits);
  }),
]);
process.stdout.write(`| ${head.join(' | ')} |\n|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|\n`);
for (const row of rows) process.stdout.write(`| ${row.join(' | ')} |\n`);
