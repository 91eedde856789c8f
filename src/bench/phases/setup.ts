import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { log } from '../progress.js';
import { cpuSeconds } from '../proc-stats.js';
import { percentile } from '../stats.js';

/**
 * Connection setup: connect -> send 1 byte -> first echoed byte -> close, against an echo
 * server. Through the tunnel this includes the relay rendezvous, the agent's endpoint connect
 * and the accept: everything a new app connection waits for. Sequential round trips give the
 * setup time; concurrent workers give the rate of new connections.
 */

export interface SetupFigures {
  sequential: number;
  p50Ms: number;
  p99Ms: number;
  concurrent: number;
  workers: number;
  /** New connections per second with `workers` clients looping. */
  perSecond: number;
  concurrentP50Ms: number;
  concurrentP99Ms: number;
  failures: number;
}

export interface SetupRow {
  /** ws:// tunnel against the plain socat chain, or wss:// against the chain with TLS middle legs. */
  transport: 'plain' | 'tls';
  direct: SetupFigures;
  socat: SetupFigures;
  tunnel: SetupFigures;
  /**
   * CPU milliseconds per new tunneled connection in each process of the tunnel (all round trips
   * of the tunnel path, warm-up included). The agent's figure sizes a deployment: in production
   * the other two are Azure's and App Service's.
   */
  tunnelCpuMsPerConnection?: { agent: number; forwarder: number; relay: number };
  /** The same for the socat chain's hops (each with its forked children), from the client's end. */
  socatCpuMsPerConnection?: { first: number; middle: number; last: number };
}

export interface TunnelPids {
  agent: number;
  forwarder: number;
  relay: number;
}

/** The socat hops from the client's end: first, middle, last (next to the server). */
export type SocatPids = [number, number, number];

const WARM_UP = 20;

function roundTrip(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const s = net.connect({ port, host: '127.0.0.1', noDelay: true });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error('no echo within 10 s'));
    }, 10_000);
    s.once('connect', () => s.write('x'));
    s.once('data', () => {
      const ms = performance.now() - t0;
      clearTimeout(timer);
      s.destroy();
      resolve(ms);
    });
    s.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    s.once('close', () => {
      clearTimeout(timer);
      reject(new Error('closed before the echo'));
    });
  });
}

async function measurePath(port: number, sequential: number, concurrent: number, workers: number): Promise<SetupFigures> {
  let failures = 0;
  const attempt = async (into: number[]) => {
    try {
      into.push(await roundTrip(port));
    } catch {
      failures++;
    }
  };
  for (let i = 0; i < WARM_UP; i++) await attempt([]); // JIT, first token, pools
  const seq: number[] = [];
  for (let i = 0; i < sequential; i++) await attempt(seq);
  const conc: number[] = [];
  let left = concurrent;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (left-- > 0) await attempt(conc);
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return {
    sequential,
    p50Ms: percentile(seq, 50),
    p99Ms: percentile(seq, 99),
    concurrent,
    workers,
    perSecond: conc.length / seconds,
    concurrentP50Ms: percentile(conc, 50),
    concurrentP99Ms: percentile(conc, 99),
    failures,
  };
}

/** `direct` reuses the direct figures measured for the other transport in the same run. */
export async function runSetup(
  transport: 'plain' | 'tls',
  paths: { direct: number | SetupFigures; socat: number; tunnel: number },
  counts: { sequential: number; concurrent: number; workers: number },
  pids?: { tunnel: TunnelPids; socat: SocatPids },
): Promise<SetupRow> {
  const { sequential, concurrent, workers } = counts;
  log(`connection setup (${transport}): ${sequential} sequential + ${concurrent} with ${workers} workers, per path`);
  const direct = typeof paths.direct === 'number' ? await measurePath(paths.direct, sequential, concurrent, workers) : paths.direct;
  const connections = WARM_UP + sequential + concurrent;
  const msPer = (seconds: number) => (seconds * 1000) / connections;
  const socatBefore = pids?.socat.map((pid) => cpuSeconds(pid, true));
  const socat = await measurePath(paths.socat, sequential, concurrent, workers);
  // socat's forked children are reaped a moment after their connection ends.
  if (pids) await new Promise((r) => setTimeout(r, 300));
  const socatAfter = pids?.socat.map((pid) => cpuSeconds(pid, true));
  const cpuBefore = pids && {
    agent: cpuSeconds(pids.tunnel.agent),
    forwarder: cpuSeconds(pids.tunnel.forwarder),
    relay: cpuSeconds(pids.tunnel.relay),
  };
  const tunnel = await measurePath(paths.tunnel, sequential, concurrent, workers);
  const row: SetupRow = { transport, direct, socat, tunnel };
  if (pids && cpuBefore && socatBefore && socatAfter) {
    row.tunnelCpuMsPerConnection = {
      agent: msPer(cpuSeconds(pids.tunnel.agent) - cpuBefore.agent),
      forwarder: msPer(cpuSeconds(pids.tunnel.forwarder) - cpuBefore.forwarder),
      relay: msPer(cpuSeconds(pids.tunnel.relay) - cpuBefore.relay),
    };
    const hop = (i: number) => msPer(socatAfter[i]! - socatBefore[i]!);
    row.socatCpuMsPerConnection = { first: hop(0), middle: hop(1), last: hop(2) };
  }
  return row;
}
