import { runToEnd } from './spawn.js';

/** One iperf3 client run against 127.0.0.1:port, parsed from its JSON report. */

export interface IperfResult {
  /** Bytes the receiving side got during the test. */
  bytes: number;
  seconds: number;
  bytesPerSecond: number;
}

export interface IperfOptions {
  port: number;
  streams: number;
  /** Server to client (iperf3 -R) instead of client to server. */
  reverse: boolean;
  seconds: number;
}

/** The server still finishing the previous test (its tunnel closing) answers "busy": retry. */
export async function runIperf(o: IperfOptions): Promise<IperfResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await runIperfOnce(o);
    } catch (err) {
      if (attempt >= 20 || !/server is busy/.test((err as Error).message)) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

async function runIperfOnce(o: IperfOptions): Promise<IperfResult> {
  const args = [
    '-c',
    '127.0.0.1',
    '-p',
    String(o.port),
    '-P',
    String(o.streams),
    '-t',
    String(o.seconds),
    '-J',
    '--connect-timeout',
    '10000',
  ];
  if (o.reverse) args.push('-R');
  // iperf3 -J reports its own errors inside the JSON on stdout, with a non-zero exit.
  const text = await runToEnd('iperf3', args, { timeoutMs: (o.seconds + 30) * 1000, allowFailure: true });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`iperf3 ${args.join(' ')} printed no JSON report:\n${text.slice(0, 2000)}`);
  }
  const report = parsed as { error?: string; end?: { sum_received?: { bytes: number; seconds: number; bits_per_second: number } } };
  if (report.error) throw new Error(`iperf3 ${args.join(' ')}: ${report.error}`);
  const sum = report.end?.sum_received;
  if (!sum) throw new Error(`iperf3 ${args.join(' ')} gave no sum_received`);
  return { bytes: sum.bytes, seconds: sum.seconds, bytesPerSecond: sum.bits_per_second / 8 };
}
