import { randomBytes } from 'node:crypto';
import type { ConnectionString } from '../relay/connection-string.js';
import { openSender } from '../relay/sender.js';
import type { TransportOptions } from '../relay/transport.js';

/**
 * "Send test traffic": connections through the relay as App Service makes them (the sender side),
 * each sending random bytes that the demo's echo endpoint sends back; every byte is compared.
 */

export interface EchoTrafficResult {
  ok: boolean;
  connections: number;
  bytesSent: number;
  bytesEchoed: number;
  ms: number;
  failures: string[];
}

export async function sendEchoTraffic(
  cs: ConnectionString,
  options: { connections?: number; bytesEach?: number; transport?: TransportOptions; timeoutMs?: number } = {},
): Promise<EchoTrafficResult> {
  const connections = options.connections ?? 5;
  const bytesEach = options.bytesEach ?? 64 * 1024;
  const started = performance.now();
  const results = await Promise.all(
    Array.from({ length: connections }, () => echoOnce(cs, bytesEach, options.transport, options.timeoutMs ?? 15_000)),
  );
  const failures = results.filter((r): r is { error: string } => 'error' in r).map((r) => r.error);
  const echoed = results.reduce((sum, r) => sum + ('echoed' in r ? r.echoed : 0), 0);
  return {
    ok: failures.length === 0,
    connections,
    bytesSent: connections * bytesEach,
    bytesEchoed: echoed,
    ms: Math.round(performance.now() - started),
    failures,
  };
}

async function echoOnce(
  cs: ConnectionString,
  size: number,
  transport: TransportOptions | undefined,
  timeoutMs: number,
): Promise<{ echoed: number } | { error: string }> {
  const payload = randomBytes(size);
  let ws;
  try {
    ws = await openSender(cs, { ...transport, timeoutMs });
  } catch (err) {
    return { error: (err as Error).message };
  }
  const socket = ws;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let done = false;
    const finish = (result: { echoed: number } | { error: string }) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.removeAllListeners('message');
      socket.close();
      resolve(result);
    };
    const timer = setTimeout(() => finish({ error: `only ${received} of ${size} bytes came back within ${timeoutMs} ms` }), timeoutMs);
    socket.on('message', (data: Buffer) => {
      chunks.push(data);
      received += data.length;
      if (received < size) return;
      const back = Buffer.concat(chunks);
      finish(back.equals(payload) ? { echoed: back.length } : { error: 'the bytes that came back differ from those sent' });
    });
    socket.on('close', () => finish({ error: `the tunnel closed after ${received} of ${size} bytes` }));
    socket.on('error', (err) => finish({ error: err.message }));
    // The .NET stream (and App Service) send each write as one binary message; do the same in slices.
    for (let off = 0; off < size; off += 16 * 1024) socket.send(payload.subarray(off, off + 16 * 1024), { binary: true });
  });
}
