import { waitListening } from './listening.js';
import { freePort } from './ports.js';
import { type Spawned, spawnTracked } from './spawn.js';
import type { BenchCertificates } from './tls-certs.js';

/**
 * The reference relay: client -> socat -> socat -> socat -> server with 128 KiB buffers: the same
 * three hops as the tunnel (forwarder, relay, agent) without WebSockets. Plain, every leg is TCP;
 * with `tls`, the two middle legs are TLS (OPENSSL-LISTEN / OPENSSL, verified against the
 * bench's CA) as the tunnel's are (forwarder -> relay and relay <- agent are wss:// in production),
 * and the outer legs stay plain TCP, as the app's and the endpoint's are.
 */

export interface SocatChain {
  /** Where clients connect (the first hop). */
  port: number;
  /** The hop next to the server: the one whose CPU is compared with the agent's. */
  lastHop: Spawned;
  hops: Spawned[];
  tls: boolean;
}

export async function startSocatChain(targetPort: number, tls?: BenchCertificates): Promise<SocatChain> {
  const hops: Spawned[] = [];
  let next = targetPort;
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    // Built from the server end: hop 0 is next to the server, hop 2 where clients connect.
    const listenTls = tls && i < 2;
    const connectTls = tls && i > 0;
    const listen = listenTls
      ? `OPENSSL-LISTEN:${port},fork,reuseaddr,bind=127.0.0.1,backlog=4096,cert=${tls.certFile},key=${tls.keyFile},verify=0`
      : `TCP-LISTEN:${port},fork,reuseaddr,bind=127.0.0.1,backlog=4096`;
    const connect = connectTls ? `OPENSSL:127.0.0.1:${next},cafile=${tls.caFile},commonname=localhost` : `TCP:127.0.0.1:${next}`;
    const hop = spawnTracked('socat', ['-b', '131072', listen, connect]);
    await waitListening(port, 'socat', 10_000, () => hop.proc.exitCode === null);
    hops.unshift(hop);
    next = port;
  }
  return { port: next, lastHop: hops[hops.length - 1]!, hops, tls: Boolean(tls) };
}
