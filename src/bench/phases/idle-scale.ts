import { ask } from '../ipc.js';
import { helperScript } from '../paths.js';
import { cpuSeconds, rssBytes } from '../proc-stats.js';
import { log } from '../progress.js';
import { startNodeHelper } from '../servers.js';
import { spawnTracked } from '../spawn.js';
import { sleep } from '../stats.js';
import { startTunnel } from '../tunnel.js';
import { stopProcess } from '../cleanup.js';

/**
 * Many idle tunneled connections: a helper process opens them through a fresh tunnel to an
 * endpoint that accepts and does nothing; the agent's RSS before and after gives memory per
 * connection, and its CPU over a quiet window gives the idle cost.
 */

export interface IdleFigures {
  requested: number;
  held: number;
  /** Why fewer than asked for, if so (file-descriptor limits). */
  limitedBy?: string;
  openSeconds: number;
  openedPerSecond: number;
  agentRssBeforeBytes: number;
  agentRssAfterBytes: number;
  agentBytesPerConnection: number;
  forwarderBytesPerConnection: number;
  emulatorBytesPerConnection: number;
  idleWindowSeconds: number;
  /** Agent CPU while idle, as a share of one core (0.01 = 1 %). */
  agentIdleCpuShare: number;
}

export async function runIdleScale(count: number, fdLimit: number, idleSeconds: number, limitedBy?: string): Promise<IdleFigures> {
  const server = await startNodeHelper('idle-server', [], fdLimit);
  const tunnel = await startTunnel({ endpoints: { idle: server.port }, plain: true, fdLimit });
  try {
    const port = tunnel.ports.idle!;
    const pids = { agent: tunnel.agent.pid, forwarder: tunnel.forwarders.idle!.pid, emulator: tunnel.emulator.pid };
    // Warm the path once (code loaded, token cached) so the baseline is a running agent.
    const warm = spawnTracked(process.execPath, [helperScript('hold-connections'), String(port), '20', '4'], { ipc: true });
    await waitFor(
      async () => (await ask<{ count: number }>(server.child.proc, 'count', 'count')).count >= 20,
      20_000,
      'warm-up connections',
    );
    await stopProcess(warm.proc);
    await waitFor(
      async () => (await ask<{ count: number }>(server.child.proc, 'count', 'count')).count === 0,
      20_000,
      'warm-up connections to close',
    );
    await sleep(2000);
    const before = { agent: rssBytes(pids.agent), forwarder: rssBytes(pids.forwarder), emulator: rssBytes(pids.emulator) };

    log(`idle scale: opening ${count} tunneled connections`);
    const t0 = Date.now();
    const holder = spawnTracked(process.execPath, [helperScript('hold-connections'), String(port), String(count), '64'], {
      ipc: true,
      fdLimit,
    });
    let lastLog = Date.now();
    await waitFor(
      async () => {
        const { count: open } = await ask<{ count: number }>(server.child.proc, 'count', 'count');
        if (Date.now() - lastLog > 5000) {
          lastLog = Date.now();
          const status = await ask<{ opened: number; failed: number; lastError: string }>(holder.proc, 'status', 'opened');
          log(
            `idle scale: ${open} at the endpoint, client opened ${status.opened}, failed ${status.failed}${status.lastError ? ` (${status.lastError})` : ''}`,
          );
          if (status.failed > 0)
            throw new Error(
              `idle scale: ${status.failed} connections failed: ${status.lastError}\nagent: ${tunnel.agent.output().slice(-2000)}`,
            );
        }
        return open >= count;
      },
      300_000,
      `${count} connections at the endpoint`,
    );
    const openSeconds = (Date.now() - t0) / 1000;
    await sleep(3000); // let allocation settle before reading RSS
    const after = { agent: rssBytes(pids.agent), forwarder: rssBytes(pids.forwarder), emulator: rssBytes(pids.emulator) };
    log(`idle scale: ${count} held; measuring ${idleSeconds} s of idle CPU`);
    const cpu0 = cpuSeconds(pids.agent);
    await sleep(idleSeconds * 1000);
    const idleCpu = cpuSeconds(pids.agent) - cpu0;
    const { count: stillOpen } = await ask<{ count: number }>(server.child.proc, 'count', 'count');
    await stopProcess(holder.proc);
    return {
      requested: count,
      held: stillOpen,
      ...(limitedBy ? { limitedBy } : {}),
      openSeconds,
      openedPerSecond: count / openSeconds,
      agentRssBeforeBytes: before.agent,
      agentRssAfterBytes: after.agent,
      agentBytesPerConnection: (after.agent - before.agent) / count,
      forwarderBytesPerConnection: (after.forwarder - before.forwarder) / count,
      emulatorBytesPerConnection: (after.emulator - before.emulator) / count,
      idleWindowSeconds: idleSeconds,
      agentIdleCpuShare: idleCpu / idleSeconds,
    };
  } finally {
    await tunnel.stop();
    await stopProcess(server.child.proc);
  }
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(100);
  }
}
