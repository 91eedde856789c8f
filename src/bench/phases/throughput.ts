import { ForeignLoadMeter } from '../foreign-load.js';
import { type IperfResult, runIperf } from '../iperf.js';
import { cpuSeconds } from '../proc-stats.js';
import { log } from '../progress.js';
import { ratio } from '../stats.js';

/**
 * iperf3 through three paths, interleaved case by case so that load from other work on the
 * machine hits all of them alike: direct, the socat chain (the reference), the tunnel. The CPU
 * of the agent and of the socat hop next to the server is read around each run (cost per GiB).
 */

export interface Path {
  port: number;
  /** Process whose CPU is charged for the bytes (agent, or the last socat hop and its children). */
  pid?: number;
  withChildren?: boolean;
  /** Other processes on the path whose CPU is recorded for information (forwarder, relay). */
  others?: Record<string, number>;
}

export interface MeasuredRun extends IperfResult {
  /** CPU seconds of the charged process during the run. */
  cpuSeconds?: number;
  /** CPU seconds of the path's other processes during the run (where the rest of the time goes). */
  otherCpuSeconds?: Record<string, number>;
  /** Cores used by other work on the machine during this run (how disturbed it was). */
  foreignCores?: number;
}

export interface ThroughputRow {
  name: string;
  streams: number;
  direction: 'client->server' | 'server->client';
  /**
   * Which tunnel and which reference: ws:// against the plain socat chain, or wss:// (production's
   * shape) against the socat chain whose two middle legs are TLS.
   */
  transport: 'plain' | 'tls';
  direct: MeasuredRun;
  socat: MeasuredRun;
  tunnel: MeasuredRun;
  tunnelVsSocat: number;
  tunnelVsDirect: number;
  socatVsDirect: number;
}

export interface ThroughputCase {
  streams: number;
  reverse: boolean;
  transport: 'plain' | 'tls';
}

export async function measured(path: Path, run: () => Promise<IperfResult>): Promise<MeasuredRun> {
  const others = Object.entries(path.others ?? {});
  const before = path.pid ? cpuSeconds(path.pid, path.withChildren) : 0;
  // socat forks a child per connection: its other hops (information) count their children too.
  const othersBefore = others.map(([, pid]) => cpuSeconds(pid, path.withChildren));
  const meter = new ForeignLoadMeter();
  const result: MeasuredRun = await run();
  result.foreignCores = meter.stop().foreignCores;
  if (!path.pid) return result;
  // socat's forked child is reaped a moment after the connection ends; its time then moves to cutime.
  if (path.withChildren) await new Promise((r) => setTimeout(r, 200));
  const measuredRun: MeasuredRun = { ...result, cpuSeconds: cpuSeconds(path.pid, path.withChildren) - before };
  if (others.length)
    measuredRun.otherCpuSeconds = Object.fromEntries(
      others.map(([name, pid], i) => [name, cpuSeconds(pid, path.withChildren) - othersBefore[i]!]),
    );
  return measuredRun;
}

/** `direct` reuses the direct run of the same case (the wss row shares the plain row's). */
export async function runThroughputCase(
  c: ThroughputCase,
  paths: { direct: Path; socat: Path; tunnel: Path },
  seconds: number,
  direct?: MeasuredRun,
): Promise<ThroughputRow> {
  const direction = c.reverse ? 'server->client' : 'client->server';
  const name = `${c.streams} stream${c.streams > 1 ? 's' : ''} ${direction}${c.transport === 'tls' ? ' (wss)' : ''}`;
  log(`throughput: ${name}`);
  const iperf = (port: number) => () => runIperf({ port, streams: c.streams, reverse: c.reverse, seconds });
  const directRun = direct ?? (await measured(paths.direct, iperf(paths.direct.port)));
  const socat = await measured(paths.socat, iperf(paths.socat.port));
  const tunnel = await measured(paths.tunnel, iperf(paths.tunnel.port));
  return {
    name,
    streams: c.streams,
    direction,
    transport: c.transport,
    direct: directRun,
    socat,
    tunnel,
    tunnelVsSocat: ratio(tunnel.bytesPerSecond, socat.bytesPerSecond),
    tunnelVsDirect: ratio(tunnel.bytesPerSecond, directRun.bytesPerSecond),
    socatVsDirect: ratio(socat.bytesPerSecond, directRun.bytesPerSecond),
  };
}
