import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GitInfo, MachineInfo } from './machine.js';
import type { BenchOptions } from './options.js';
import type { CliFigures } from './phases/cli-startup.js';
import type { IdleFigures } from './phases/idle-scale.js';
import type { ManyFigures } from './phases/many.js';
import type { LatencyRow } from './phases/latency.js';
import type { SetupRow } from './phases/setup.js';
import type { SlowFigures } from './phases/slow-consumer.js';
import type { ThroughputRow } from './phases/throughput.js';
import { GiB, MiB, ratio } from './stats.js';

/** The JSON written per run: raw numbers, derived ratios, goals, and the context they came from. */

export interface CostRow {
  name: string;
  transport: 'plain' | 'tls';
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
  /** 'ratio': a fraction shown as a percentage; 'x': a multiple (1.20x); else the unit of value and target. */
  /** 'min': value must be at least target; 'max': at most. */
  kind: 'min' | 'max';
  unit: string;
  met: boolean;
  note?: string;
}

export interface BenchResult {
  /** 2: TLS rows against a TLS socat chain, setupTls, many, cli, latency rows per transport. */
  schema: 2;
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
  /** Over ws:// against the plain socat chain. */
  setup?: SetupRow;
  /** Over wss:// against the socat chain with TLS middle legs. */
  setupTls?: SetupRow;
  idle?: IdleFigures;
  many?: ManyFigures;
  cli?: CliFigures;
  slow?: SlowFigures;
  goals: Goal[];
  errors: Array<{ phase: string; message: string }>;
}

/**
 * Agent vs the socat hop next to the server, CPU per GiB, per iperf3 case and over all runs of a
 * transport: plain tunnel vs plain chain, wss tunnel vs the TLS chain's hop (which decrypts and
 * encrypts as the agent does).
 */
export function costRows(throughput: ThroughputRow[]): CostRow[] {
  const row = (name: string, transport: 'plain' | 'tls', rows: ThroughputRow[]): CostRow => {
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
      transport,
      agentCpuSecondsPerGiB: agent,
      socatCpuSecondsPerGiB: socat,
      agentVsSocat: ratio(agent, socat),
      ...other('forwarder'),
      ...other('relay'),
    };
  };
  const out: CostRow[] = [];
  for (const transport of ['plain', 'tls'] as const) {
    const runs = throughput.filter(
      (r) => r.transport === transport && r.tunnel.cpuSeconds !== undefined && r.socat.cpuSeconds !== undefined,
    );
    out.push(...runs.map((r) => row(r.name, transport, [r])));
    if (runs.length > 1) out.push(row(ALL_RUNS[transport], transport, runs));
  }
  return out;
}

export const ALL_RUNS = { plain: 'all plain runs', tls: 'all TLS runs' } as const;

/** The goals of issue 17, each a ratio or a figure of one run. */
export const TARGETS = {
  throughputPlain: 1.0,
  throughputTls: 0.9,
  cpuPlain: 1.0,
  cpuTls: 1.2,
  setupP50Ms: 1,
  setupP99Ms: 5,
  setupTlsP50Ms: 3,
  connectionsPerSecond: 1500,
  agentCpuMsPerConnection: 0.3,
  manyConnectedSeconds: 5,
  manyRssMiB: 200,
  manyIdleCpuShare: 0.01,
  idleKiBPerConnection: 8,
  cliVsNode: 1.5,
  slowGrowthMiB: 32,
} as const;

/** The goal of one throughput row (the report finds it by this name). */
export function throughputGoalName(t: Pick<ThroughputRow, 'name' | 'transport'>): string {
  return `${t.name}: tunnel / socat${t.transport === 'tls' ? ' TLS chain' : ''}`;
}

export function evaluateGoals(
  r: Pick<BenchResult, 'throughput' | 'cost' | 'setup' | 'setupTls' | 'idle' | 'slow' | 'mode'> &
    Partial<Pick<BenchResult, 'many' | 'cli'>>,
): Goal[] {
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
  for (const t of r.throughput) {
    const target = t.transport === 'tls' ? TARGETS.throughputTls : TARGETS.throughputPlain;
    add(throughputGoalName(t), t.tunnelVsSocat, 'min', target, 'ratio');
  }
  const plainCost = r.cost.find((c) => c.name === ALL_RUNS.plain) ?? r.cost.find((c) => c.transport === 'plain');
  if (plainCost) add('agent CPU per GiB / socat hop', plainCost.agentVsSocat, 'max', TARGETS.cpuPlain, 'x');
  const tlsCost = r.cost.find((c) => c.name === ALL_RUNS.tls) ?? r.cost.find((c) => c.transport === 'tls');
  if (tlsCost) add('agent CPU per GiB over TLS / socat TLS hop', tlsCost.agentVsSocat, 'max', TARGETS.cpuTls, 'x');
  if (r.setup) {
    add('setup time p50', r.setup.tunnel.p50Ms, 'max', TARGETS.setupP50Ms, 'ms');
    add('setup time p99', r.setup.tunnel.p99Ms, 'max', TARGETS.setupP99Ms, 'ms');
    add('new connections per second', r.setup.tunnel.perSecond, 'min', TARGETS.connectionsPerSecond, '/s');
    if (r.setup.tunnelCpuMsPerConnection)
      add('agent CPU per new connection', r.setup.tunnelCpuMsPerConnection.agent, 'max', TARGETS.agentCpuMsPerConnection, 'ms');
  }
  if (r.setupTls) add('setup time p50 over TLS', r.setupTls.tunnel.p50Ms, 'max', TARGETS.setupTlsP50Ms, 'ms');
  if (r.many) {
    const note = r.many.count < 1000 ? `measured with ${r.many.count} Hybrid Connections, not 1,000` : undefined;
    add(
      `${r.many.count} Hybrid Connections: start to all Connected`,
      r.many.startToAllConnectedSeconds,
      'max',
      TARGETS.manyConnectedSeconds,
      's',
      note,
    );
    add(`${r.many.count} Hybrid Connections: agent RSS`, r.many.agentRssBytes / MiB, 'max', TARGETS.manyRssMiB, 'MiB', note);
    add(
      `${r.many.count} Hybrid Connections: agent idle CPU`,
      r.many.idle.agentCpuShare * 100,
      'max',
      TARGETS.manyIdleCpuShare * 100,
      '% of a core',
      note,
    );
    const t = r.many.traffic;
    // Integrity is a goal too: a fast tunnel that loses or mixes up bytes has failed.
    if (t) {
      const expected = t.connections * t.bytesEach;
      const intact = t.failures === 0 && t.mismatches === 0 ? t.checkedBytes / expected : 0;
      const detail = `${t.checkedBytes} of ${expected} bytes checked, ${t.failures} connections failed, ${t.mismatches} mismatched`;
      add(`${r.many.count} Hybrid Connections: traffic echoed intact`, intact, 'min', 1, 'ratio', note ? `${note}; ${detail}` : detail);
    }
  }
  if (r.idle) {
    const note =
      r.idle.requested < 10_000
        ? `measured at ${r.idle.requested} connections, not 10,000${r.idle.limitedBy ? ` (${r.idle.limitedBy})` : ''}`
        : undefined;
    add('agent memory per idle connection', r.idle.agentBytesPerConnection / 1024, 'max', TARGETS.idleKiBPerConnection, 'KiB', note);
  }
  if (r.cli) {
    for (const c of r.cli.commands) {
      // Both must hold: the wall time people wait and the CPU it costs.
      const worse = Math.max(c.wallVsNode, c.cpuVsNode);
      add(`${c.name} vs node -e 0 (the worse of wall and CPU)`, worse, 'max', TARGETS.cliVsNode, 'x');
    }
  }
  if (r.slow) {
    const note = r.slow.cappedAtSeconds
      ? `push capped at ${r.slow.cappedAtSeconds} s (${(r.slow.endpointReadBytes / MiB).toFixed(0)} MiB read of 1 GiB)`
      : undefined;
    add('slow consumer: agent memory growth', r.slow.agentGrowthBytes / MiB, 'max', TARGETS.slowGrowthMiB, 'MiB', note);
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
