import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GitInfo, MachineInfo } from './machine.js';
import type { BenchOptions } from './options.js';
import type { IdleFigures } from './phases/idle-scale.js';
import type { LatencyRow } from './phases/latency.js';
import type { SetupRow } from './phases/setup.js';
import type { SlowFigures } from './phases/slow-consumer.js';
import type { ThroughputRow } from './phases/throughput.js';
import { GiB, MiB, ratio } from './stats.js';

/** The JSON written per run: raw numbers, derived ratios, goals, and the context they came from. */

export interface CostRow {
  name: string;
  agentCpuSecondsPerGiB: number;
  socatCpuSecondsPerGiB: number;
  agentVsSocat: number;
  /** The forwarder's and the relay emulator's CPU per GiB on the same runs (information). */
  forwarderCpuSecondsPerGiB?: number;
  relayCpuSecondsPerGiB?: number;
}

export interface Goal {
  name: string;
  value: number;
  target: number;
  /** 'min': value must be at least target; 'max': at most. */
  kind: 'min' | 'max';
  unit: string;
  met: boolean;
  note?: string;
}

export interface BenchResult {
  schema: 1;
  mode: 'quick' | 'full';
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  git: GitInfo;
  machine: MachineInfo;
  load: { start: number[]; end: number[] };
  /** Per phase: cores used by other work on the machine meanwhile (see foreign-load.ts). */
  foreignLoad: Array<{ phase: string; seconds: number; foreignCores: number }>;
  options: BenchOptions;
  throughput: ThroughputRow[];
  cost: CostRow[];
  latency: LatencyRow[];
  setup?: SetupRow;
  idle?: IdleFigures;
  slow?: SlowFigures;
  goals: Goal[];
  errors: Array<{ phase: string; message: string }>;
}

/** Agent vs last socat hop CPU per GiB, per plain-tunnel iperf3 case and over all of them. */
export function costRows(throughput: ThroughputRow[]): CostRow[] {
  const plain = throughput.filter((r) => r.transport === 'plain' && r.tunnel.cpuSeconds !== undefined && r.socat.cpuSeconds !== undefined);
  const tls = throughput.filter((r) => r.transport === 'tls' && r.tunnel.cpuSeconds !== undefined);
  const row = (name: string, rows: ThroughputRow[]): CostRow => {
    const agent = rows.reduce((s, r) => s + r.tunnel.cpuSeconds!, 0) / (rows.reduce((s, r) => s + r.tunnel.bytes, 0) / GiB);
    const socat = rows.reduce((s, r) => s + r.socat.cpuSeconds!, 0) / (rows.reduce((s, r) => s + r.socat.bytes, 0) / GiB);
    const other = (key: string) => {
      const runs = rows.filter((r) => r.tunnel.otherCpuSeconds?.[key] !== undefined);
      if (runs.length !== rows.length) return {};
      return {
        [`${key}CpuSecondsPerGiB`]:
          runs.reduce((s, r) => s + r.tunnel.otherCpuSeconds![key]!, 0) / (runs.reduce((s, r) => s + r.tunnel.bytes, 0) / GiB),
      };
    };
    return {
      name,
      agentCpuSecondsPerGiB: agent,
      socatCpuSecondsPerGiB: socat,
      agentVsSocat: ratio(agent, socat),
      ...other('forwarder'),
      ...other('relay'),
    };
  };
  const rows = plain.map((r) => row(r.name, [r]));
  if (plain.length > 1) rows.push(row('all plain runs', plain));
  // Over TLS there is no socat counterpart: the ratio uses the plain socat runs of the same case.
  for (const t of tls) {
    const r = row(t.name, [t]);
    rows.push(r);
  }
  return rows;
}

export function evaluateGoals(r: Pick<BenchResult, 'throughput' | 'cost' | 'setup' | 'idle' | 'slow' | 'mode'>): Goal[] {
  const goals: Goal[] = [];
  const add = (name: string, value: number, kind: 'min' | 'max', target: number, unit: string, note?: string) =>
    goals.push({
      name,
      value,
      target,
      kind,
      unit,
      met: Number.isFinite(value) && (kind === 'min' ? value >= target : value <= target),
      ...(note ? { note } : {}),
    });
  for (const t of r.throughput.filter((t) => t.transport === 'plain')) {
    const target = t.streams === 1 ? 0.5 : 0.6;
    add(`${t.name}: tunnel / socat`, t.tunnelVsSocat, 'min', target, 'ratio');
  }
  const all = r.cost.find((c) => c.name === 'all plain runs') ?? r.cost[0];
  if (all) add('agent CPU per GiB / socat hop', all.agentVsSocat, 'max', 2, 'ratio');
  if (r.setup) {
    add('setup time p50', r.setup.tunnel.p50Ms, 'max', 2, 'ms');
    add('setup time p99', r.setup.tunnel.p99Ms, 'max', 10, 'ms');
    add('new connections per second', r.setup.tunnel.perSecond, 'min', 1000, '/s');
  }
  if (r.idle) {
    const note =
      r.idle.requested < 10_000
        ? `measured at ${r.idle.requested} connections, not 10,000${r.idle.limitedBy ? ` (${r.idle.limitedBy})` : ''}`
        : undefined;
    add('agent memory per idle connection', r.idle.agentBytesPerConnection / 1024, 'max', 20, 'KiB', note);
  }
  if (r.slow) {
    const note = r.slow.cappedAtSeconds
      ? `push capped at ${r.slow.cappedAtSeconds} s (${(r.slow.endpointReadBytes / MiB).toFixed(0)} MiB read of 1 GiB)`
      : undefined;
    add('slow consumer: agent memory growth', r.slow.agentGrowthBytes / MiB, 'max', 32, 'MiB', note);
  }
  return goals;
}

export function saveResult(dir: string, result: BenchResult): { file: string; latest: string } {
  mkdirSync(dir, { recursive: true });
  const stamp = result.startedAt.replace(/[:.]/g, '-');
  const file = join(dir, `${stamp}-${result.mode}.json`);
  const text = `${JSON.stringify(result, null, 2)}\n`;
  writeFileSync(file, text);
  const latest = join(dir, 'latest.json');
  writeFileSync(latest, text);
  return { file, latest };
}
