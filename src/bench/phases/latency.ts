import { log } from '../progress.js';
import { type RedisRow, runRedisBenchmark } from '../redis-benchmark.js';

/**
 * redis-benchmark against a real redis-server: direct, through socat, through the tunnel; ws://
 * against the plain socat chain, wss:// against the chain with TLS middle legs. The figure that
 * matters is the latency the path adds to a small request/response: tunnel minus direct.
 */

export interface LatencyRow {
  transport: 'plain' | 'tls';
  clients: number;
  test: string;
  direct: RedisRow;
  socat: RedisRow;
  tunnel: RedisRow;
}

/** `direct` reuses the direct rows measured for the other transport with the same clients. */
export async function runLatency(
  transport: 'plain' | 'tls',
  ports: { direct: number | RedisRow[]; socat: number; tunnel: number },
  requests: number,
  clients: number,
): Promise<LatencyRow[]> {
  log(`latency (${transport}): redis-benchmark -c ${clients} -n ${requests} (direct, socat, tunnel)`);
  const direct = typeof ports.direct === 'number' ? await runRedisBenchmark(ports.direct, requests, clients) : ports.direct;
  const socat = await runRedisBenchmark(ports.socat, requests, clients);
  const tunnel = await runRedisBenchmark(ports.tunnel, requests, clients);
  return direct.map((d) => {
    const s = socat.find((r) => r.test === d.test);
    const t = tunnel.find((r) => r.test === d.test);
    if (!s || !t) throw new Error(`redis-benchmark did not report ${d.test} on every path`);
    return { transport, clients, test: d.test, direct: d, socat: s, tunnel: t };
  });
}
