import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Forwarder, type HcmEnv, type RunningProcess, hcmEnv, startAgent, startForwarder } from '../helpers/agent.js';
import { type EmulatorProcess, startEmulator, testConfig, waitFor } from '../helpers/emulator.js';
import { type TcpServer, startEchoServer } from '../helpers/tcp-servers.js';
import { addConnection, connectTcp, echoRoundTrip, firstDifference, liveConnection, removeDir, removeHome } from '../helpers/tunnel.js';

/**
 * Redundancy the way Azure offers it: two agents (two machines, here two HCM_HOME dirs) listen on
 * the same Hybrid Connection with the same connection string; the relay spreads connections
 * across them, and when one dies the other carries everything. All real processes.
 */

const HC = 'hc-redundant';

let echo: TcpServer | undefined;
let emu: EmulatorProcess | undefined;
let envA: HcmEnv | undefined;
let envB: HcmEnv | undefined;
let envClient: HcmEnv | undefined;
let agentA: RunningProcess | undefined;
let agentB: RunningProcess | undefined;
let forwarder: Forwarder | undefined;

beforeAll(async () => {
  echo = await startEchoServer();
  emu = await startEmulator({ config: testConfig([{ name: HC, endpoint: `127.0.0.1:${echo.port}` }]) });
  envA = hcmEnv(emu.ca);
  envB = hcmEnv(emu.ca);
  envClient = hcmEnv(emu.ca);
  await addConnection(envA, emu.hybridConnections[HC]!.listen);
  await addConnection(envB, emu.hybridConnections[HC]!.listen);
  agentA = await startAgent(envA, { waitConnected: 1 });
  agentB = await startAgent(envB, { waitConnected: 1 });
  forwarder = await startForwarder(envClient, emu.hybridConnections[HC]!.send);
}, 120_000);

afterAll(async () => {
  await forwarder?.stop();
  await agentA?.stop();
  await agentB?.stop();
  await emu?.stop();
  await echo?.close();
  for (const e of [envA, envB, envClient]) removeHome(e);
  removeDir(emu?.stateDir);
});

async function listenerCount(): Promise<number> {
  const r = await emu!.admin(HC);
  if (r.status !== 200) throw new Error(`admin GET answered ${r.status}: ${r.text}`);
  return (JSON.parse(r.text) as { listeners: number }).listeners;
}

/** `count` connections, `parallel` at a time, each echoing its own payload; returns the failures. */
async function echoConnections(count: number, parallel: number): Promise<string[]> {
  const failures: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const payload = randomBytes(8 * 1024 + i);
      try {
        const s = await connectTcp(forwarder!.port);
        try {
          const back = await echoRoundTrip(s, payload);
          const at = firstDifference(back, payload);
          if (at !== -1) failures.push(`#${i}: differs at byte ${at}`);
        } finally {
          s.destroy();
        }
      } catch (err) {
        failures.push(`#${i}: ${(err as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return failures;
}

describe('two agents on one Hybrid Connection', () => {
  it('both carry traffic; after one is killed, every new connection goes through the survivor', async () => {
    await waitFor(async () => (await listenerCount()) === 2, 30_000, 'the emulator to count both agents');

    const first = await echoConnections(60, 6);
    expect(first, first.slice(0, 10).join('\n')).toEqual([]);

    // Each agent's own view: both took some, none failed, and together they took all 60.
    let a = (await liveConnection(envA!, HC)).counters;
    let b = (await liveConnection(envB!, HC)).counters;
    await waitFor(
      async () => {
        a = (await liveConnection(envA!, HC)).counters;
        b = (await liveConnection(envB!, HC)).counters;
        return a.activeConnections === 0 && b.activeConnections === 0;
      },
      30_000,
      'both agents to finish the first 60 tunnels',
    );
    expect(a.totalConnections).toBeGreaterThan(0);
    expect(b.totalConnections).toBeGreaterThan(0);
    expect(a.totalConnections + b.totalConnections).toBe(60);
    expect(a.failedConnections).toBe(0);
    expect(b.failedConnections).toBe(0);

    // Agent A dies without a word (no Close frame, no graceful stop).
    await agentA!.stop('SIGKILL');
    await waitFor(async () => (await listenerCount()) === 1, 60_000, 'the emulator to drop the killed agent');

    const second = await echoConnections(30, 3);
    expect(second, second.slice(0, 10).join('\n')).toEqual([]);

    const survivor = await liveConnection(envB!, HC);
    expect(survivor.status).toBe('Connected');
    expect(survivor.counters.totalConnections).toBe(b.totalConnections + 30);
    expect(survivor.counters.failedConnections).toBe(0);
    expect(agentB!.proc.exitCode).toBeNull();
  }, 300_000);
});
