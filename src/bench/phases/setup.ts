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
  direct: SetupFigures;
  socat: SetupFigures;
  tunnel: SetupFigures;
  /**
   * CPU milliseconds per new tunneled connection in each process of the tunnel (all round trips
   * of the tunnel path, warm-up included). The agent's figure sizes a deployment: in production
   * the other two are Azure's and App Service's.
   */
  tunnelCpuMsPerConnection?: { agent: number; forwarder: number; relay: number };
}

export interface TunnelPids {
  agent: number;
  forwarder: number;
  relay: number;
}

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

export async function runSetup(
  ports: { direct: number; socat: number; tunnel: number },
  sequential: number,
  concurrent: number,
  workers: number,
  pids?: TunnelPids,
): Promise<SetupRow> {
  log(`connection setup: ${sequential} sequential + ${concurrent} with ${workers} workers, per path`);
  const direct = await measurePath(ports.direct, sequential, concurrent, workers);
  const socat = await measurePath(ports.socat, sequential, concurrent, workers);
  const cpuBefore = pids && { agent: cpuSeconds(pids.agent), forwarder: cpuSeconds(pids.forwarder), relay: cpuSeconds(pids.relay) };
  const tunnel = await measurePath(ports.tunnel, sequential, concurrent, workers);
  const row: SetupRow = { direct, socat, tunnel };
  if (pids && cpuBefore) {
    const connections = WARM_UP + sequential + concurrent;
    const msPer = (pid: number, before: number) => ((cpuSeconds(pid) - before) * 1000) / connections;
    row.tunnelCpuMsPerConnection = {
      agent: msPer(pids.agent, cpuBefore.agent),
      forwarder: msPer(pids.forwarder, cpuBefore.forwarder),
      relay: msPer(pids.relay, cpuBefore.relay),
    };
  }
  return row;
}
