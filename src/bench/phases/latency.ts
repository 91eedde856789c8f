import { log } from '../progress.js';
import { type RedisRow, runRedisBenchmark } from '../redis-benchmark.js';

/** redis-benchmark against a real redis-server: direct, through socat, through the tunnel. */

export interface LatencyRow {
  clients: number;
  test: string;
  direct: RedisRow;
  socat: RedisRow;
  tunnel: RedisRow;
}

export async function runLatency(
  ports: { direct: number; socat: number; tunnel: number },
  requests: number,
  clients: number,
): Promise<LatencyRow[]> {
  log(`latency: redis-benchmark -c ${clients} -n ${requests} (direct, socat, tunnel)`);
  const direct = await runRedisBenchmark(ports.direct, requests, clients);
  const socat = await runRedisBenchmark(ports.socat, requests, clients);
  const tunnel = await runRedisBenchmark(ports.tunnel, requests, clients);
  return direct.map((d) => {
    const s = socat.find((r) => r.test === d.test);
    const t = tunnel.find((r) => r.test === d.test);
    if (!s || !t) throw new Error(`redis-benchmark did not report ${d.test} on every path`);
    return { clients, test: d.test, direct: d, socat: s, tunnel: t };
  });
}
