/** Command line of `npm run bench -- [options]`. */

export type Phase = 'throughput' | 'latency' | 'setup' | 'scale' | 'many' | 'cli' | 'slow';
export const PHASES: Phase[] = ['throughput', 'latency', 'setup', 'scale', 'many', 'cli', 'slow'];

export interface BenchOptions {
  quick: boolean;
  phases: Phase[];
  /** iperf3 seconds per run. */
  iperfSeconds: number;
  /** redis-benchmark runs: concurrent clients and requests per test. */
  redis: Array<{ clients: number; requests: number }>;
  setupSequential: number;
  setupConcurrent: number;
  setupWorkers: number;
  idleConnections: number;
  idleSeconds: number;
  /** Hybrid Connections in one agent (the many-connections test). */
  manyCount: number;
  /** Idle window with all of them connected, at the default keep-alive. */
  manyIdleSeconds: number;
  /** Window of each accelerated run (keep-alive pings, token renewals). */
  manyCostSeconds: number;
  /** Bytes each way through each of them in the traffic test. */
  manyTrafficBytes: number;
  /** Timed runs of each command in the CLI start-up test. */
  cliRuns: number;
  slowRate: number;
  slowTotal: number;
  /** Stop the slow-consumer push after this many seconds (undefined: until all bytes are read). */
  slowCapSeconds: number | undefined;
  /** Write results to bench/results (off with --no-save, e.g. while trying things). */
  save: boolean;
  /** Another build's dist/cli/main.js to measure (e.g. an older commit), and that build's commit. */
  cli?: string;
  commit?: string;
}

export const USAGE = `npm run bench -- [--quick] [--only throughput,latency,setup,scale,many,cli,slow]
                  [--seconds N] [--connections N] [--hybrid-connections N] [--slow-seconds N]
                  [--no-save] [--commit REV] [--cli DIST/cli/main.js --commit SHA]

  --quick           everyday run, a few minutes: short iperf3 runs, fewer requests, 2,000 idle
                    connections, 250 Hybrid Connections, slow consumer capped at 20 s
  --only LIST       run only these phases (comma-separated)
  --seconds N       iperf3 duration per run (full: 10, quick: 2)
  --connections N   idle connections for the scale test (full: 10000, quick: 2000)
  --hybrid-connections N
                    Hybrid Connections in one agent for the many test (full: 1000, quick: 250)
  --slow-seconds N  cap the slow-consumer push (full: none, i.e. the whole GiB; quick: 20)
  --no-save         print the table only, write nothing under bench/results
  --commit REV      measure that commit: exported and built in a temporary directory
                    (a before/after comparison; also immune to rebuilds of dist/ meanwhile)
  --cli FILE        measure a build made elsewhere; --commit then names its commit`;

export function parseOptions(argv: string[]): BenchOptions {
  const quick = argv.includes('--quick');
  const o: BenchOptions = {
    quick,
    phases: [...PHASES],
    iperfSeconds: quick ? 2 : 10,
    redis: quick
      ? [
          { clients: 1, requests: 3000 },
          { clients: 50, requests: 5000 },
        ]
      : [
          { clients: 1, requests: 50_000 },
          { clients: 50, requests: 100_000 },
        ],
    setupSequential: quick ? 200 : 2000,
    setupConcurrent: quick ? 500 : 5000,
    setupWorkers: 16,
    idleConnections: quick ? 2000 : 10_000,
    idleSeconds: quick ? 3 : 10,
    manyCount: quick ? 250 : 1000,
    manyIdleSeconds: quick ? 10 : 60,
    manyCostSeconds: quick ? 5 : 20,
    manyTrafficBytes: quick ? 64 * 1024 : 1024 * 1024,
    cliRuns: quick ? 5 : 20,
    slowRate: 1024 * 1024,
    slowTotal: 1024 ** 3,
    slowCapSeconds: quick ? 20 : undefined,
    save: true,
  };
  const value = (i: number, flag: string) => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    return v;
  };
  const positive = (v: string, flag: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} must be a positive whole number, not "${v}"`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') continue;
    else if (a === '--no-save') o.save = false;
    else if (a === '--help' || a === '-h') throw new UsageError('');
    else if (a === '--only') {
      const list = value(i++, a).split(',');
      const bad = list.filter((p) => !PHASES.includes(p as Phase));
      if (bad.length) throw new UsageError(`unknown phase(s) ${bad.join(', ')}; known: ${PHASES.join(', ')}`);
      o.phases = list as Phase[];
    } else if (a === '--seconds') o.iperfSeconds = positive(value(i++, a), a);
    else if (a === '--cli') o.cli = value(i++, a);
    else if (a === '--commit') o.commit = value(i++, a);
    else if (a === '--connections') o.idleConnections = positive(value(i++, a), a);
    else if (a === '--hybrid-connections') o.manyCount = positive(value(i++, a), a);
    else if (a === '--slow-seconds') o.slowCapSeconds = positive(value(i++, a), a);
    else throw new UsageError(`unknown option ${a}`);
  }
  if (o.cli && !o.commit) throw new UsageError('--cli needs --commit: the results must say what was measured');
  return o;
}

export class UsageError extends Error {}
