import { waitListening } from './listening.js';
import { freePort } from './ports.js';
import { type Spawned, spawnTracked } from './spawn.js';

/**
 * The reference relay: client -> socat -> socat -> socat -> server, plain TCP with 128 KiB
 * buffers: the same three hops as the tunnel (forwarder, relay, agent) without WebSockets.
 */

export interface SocatChain {
  /** Where clients connect (the first hop). */
  port: number;
  /** The hop next to the server: the one whose CPU is compared with the agent's. */
  lastHop: Spawned;
  hops: Spawned[];
}

export async function startSocatChain(targetPort: number): Promise<SocatChain> {
  const hops: Spawned[] = [];
  let next = targetPort;
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    const hop = spawnTracked('socat', [
      '-b',
      '131072',
      `TCP-LISTEN:${port},fork,reuseaddr,bind=127.0.0.1,backlog=4096`,
      `TCP:127.0.0.1:${next}`,
    ]);
    await waitListening(port, 'socat', 10_000, () => hop.proc.exitCode === null);
    hops.unshift(hop);
    next = port;
  }
  return { port: next, lastHop: hops[hops.length - 1]!, hops };
}
