import { runToEnd } from './spawn.js';

/** redis-benchmark --csv against a port: one row per test (PING_INLINE, PING_MBULK, SET, GET). */

export interface RedisRow {
  test: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  avgMs: number;
  maxMs: number;
}

export async function runRedisBenchmark(port: number, requests: number, clients: number): Promise<RedisRow[]> {
  const args = ['-h', '127.0.0.1', '-p', String(port), '-t', 'ping,set,get', '-n', String(requests), '-c', String(clients), '--csv'];
  const text = await runToEnd('redis-benchmark', args, { timeoutMs: 600_000 });
  const lines = text
    .trim()
    .split('\n')
    .map((l) => l.split(',').map((c) => c.replace(/^"|"$/g, '')));
  const header = lines[0] ?? [];
  const col = (name: string) => {
    const i = header.indexOf(name);
    // Redis 7 prints percentile columns; older versions print only "test","rps".
    if (i < 0) throw new Error(`redis-benchmark --csv has no "${name}" column (Redis 7 or later prints it); header: ${header.join(',')}`);
    return i;
  };
  const [t, rps, p50, p99, avg, max] = ['test', 'rps', 'p50_latency_ms', 'p99_latency_ms', 'avg_latency_ms', 'max_latency_ms'].map<number>(
    col,
  );
  return lines.slice(1).map((row) => ({
    test: row[t!]!,
    rps: Number(row[rps!]),
    p50Ms: Number(row[p50!]),
    p99Ms: Number(row[p99!]),
    avgMs: Number(row[avg!]),
    maxMs: Number(row[max!]),
  }));
}
