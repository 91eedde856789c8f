import net from 'node:net';
import { stopProcess } from '../cleanup.js';
import { ask } from '../ipc.js';
import { RssSampler, rssBytes } from '../proc-stats.js';
import { log } from '../progress.js';
import { startNodeHelper } from '../servers.js';
import { sleep } from '../stats.js';
import { startTunnel } from '../tunnel.js';

/**
 * A slow endpoint (reads at `rate` bytes/s) and a client pushing `total` bytes as fast as
 * backpressure lets it. With working backpressure the agent holds a bounded amount; without it
 * the agent buffers everything the client sends faster than the endpoint reads.
 */

export interface SlowFigures {
  rateBytesPerSecond: number;
  totalBytes: number;
  /** Stopped early at this many seconds (quick mode), or undefined when `total` was delivered. */
  cappedAtSeconds?: number;
  seconds: number;
  clientWroteBytes: number;
  endpointReadBytes: number;
  agentRssBaselineBytes: number;
  agentRssPeakBytes: number;
  agentGrowthBytes: number;
  forwarderGrowthBytes: number;
  emulatorGrowthBytes: number;
  samples: number;
}

const CHUNK = Buffer.alloc(64 * 1024, 0x5a);

/** Waits for 'drain' but wakes up anyway, so the loop can notice the deadline. */
function drainOrTimeout(socket: net.Socket, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      socket.off('drain', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    socket.once('drain', done);
  });
}

export async function runSlowConsumer(rate: number, total: number, capSeconds: number | undefined): Promise<SlowFigures> {
  const server = await startNodeHelper('slow-server', [String(rate)]);
  const tunnel = await startTunnel({ endpoints: { slow: server.port }, plain: true });
  const pids = { agent: tunnel.agent.pid, forwarder: tunnel.forwarders.slow!.pid, emulator: tunnel.emulator.pid };
  const samplers = {
    agent: new RssSampler(pids.agent),
    forwarder: new RssSampler(pids.forwarder),
    emulator: new RssSampler(pids.emulator),
  };
  let socket: net.Socket | undefined;
  try {
    await sleep(1000);
    const baseline = { agent: rssBytes(pids.agent), forwarder: rssBytes(pids.forwarder), emulator: rssBytes(pids.emulator) };
    for (const s of Object.values(samplers)) s.start();
    log(
      `slow consumer: pushing ${(total / 2 ** 30).toFixed(2)} GiB into an endpoint reading ${(rate / 2 ** 20).toFixed(2)} MiB/s${capSeconds ? ` (capped at ${capSeconds} s)` : ''}`,
    );
    const t0 = Date.now();
    const deadline = capSeconds ? t0 + capSeconds * 1000 : Infinity;
    socket = net.connect({ port: tunnel.ports.slow!, host: '127.0.0.1' });
    socket.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      socket!.once('connect', () => resolve());
      socket!.once('error', reject);
    });
    let wrote = 0;
    let read = 0;
    let lastLog = Date.now();
    while (Date.now() < deadline) {
      if (wrote < total) {
        const ok = socket.write(CHUNK);
        wrote += CHUNK.length;
        if (!ok) await drainOrTimeout(socket, 250);
        if (socket.destroyed) throw new Error('the tunnel closed during the slow-consumer push');
        if (ok) continue;
      } else {
        await sleep(250);
      }
      read = (await ask<{ received: number }>(server.child.proc, 'received', 'received')).received;
      if (read >= total) break;
      if (Date.now() - lastLog > 30_000) {
        lastLog = Date.now();
        log(
          `slow consumer: ${(read / 2 ** 20).toFixed(0)} MiB read by the endpoint, agent RSS ${(samplers.agent.last / 2 ** 20).toFixed(1)} MiB (peak ${(samplers.agent.peak / 2 ** 20).toFixed(1)})`,
        );
      }
    }
    const seconds = (Date.now() - t0) / 1000;
    read = (await ask<{ received: number }>(server.child.proc, 'received', 'received')).received;
    for (const s of Object.values(samplers)) s.stop();
    return {
      rateBytesPerSecond: rate,
      totalBytes: total,
      ...(read < total ? { cappedAtSeconds: capSeconds } : {}),
      seconds,
      clientWroteBytes: wrote - socket.writableLength,
      endpointReadBytes: read,
      agentRssBaselineBytes: baseline.agent,
      agentRssPeakBytes: samplers.agent.peak,
      agentGrowthBytes: samplers.agent.peak - baseline.agent,
      forwarderGrowthBytes: samplers.forwarder.peak - baseline.forwarder,
      emulatorGrowthBytes: samplers.emulator.peak - baseline.emulator,
      samples: samplers.agent.samples,
    };
  } finally {
    for (const s of Object.values(samplers)) s.stop();
    socket?.destroy();
    await tunnel.stop();
    await stopProcess(server.child.proc);
  }
}
