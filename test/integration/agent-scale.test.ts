import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Forwarder, type HcmEnv, type RunningProcess, hcmEnv, startAgent, startForwarder } from '../helpers/agent.js';
import { type EmulatorProcess, startEmulator, testConfig, waitFor } from '../helpers/emulator.js';
import { type TcpServer, startTcpServer } from '../helpers/tcp-servers.js';
import { addConnection, connectTcp, echoRoundTrip, firstDifference, liveConnection, removeDir, removeHome } from '../helpers/tunnel.js';

/**
 * 1,000 simultaneous connections through ONE agent (`hcm run`) to an echo endpoint, each with its
 * own payload, every byte checked. The chain is all real processes:
 *   test sockets -> `hcm connect` -> `hcm emulator` (TLS) -> `hcm run` -> echo server (this process)
 * File descriptors: each connection costs about 2 per process (client + endpoint socket here,
 * two sockets in each of forwarder, emulator and agent), so ~2,000 per process at the peak; the
 * limit on these machines is 20,000 (`ulimit -n`), so nothing is raised. The test checks the
 * limit first and says so instead of failing obscurely if a machine has less.
 */

const CONNECTIONS = 1000;
const BATCH = 100;
const HC = 'hc-scale';

let echo: TcpServer | undefined;
let emu: EmulatorProcess | undefined;
let env: HcmEnv | undefined;
let agent: RunningProcess | undefined;
let forwarder: Forwarder | undefined;
let endpointActive = 0;
const clients: net.Socket[] = [];

beforeAll(async () => {
  echo = await startTcpServer(
    (s) => {
      endpointActive++;
      s.once('close', () => endpointActive--);
      s.pipe(s);
    },
    { allowHalfOpen: true },
  );
  emu = await startEmulator({ config: testConfig([{ name: HC, endpoint: `127.0.0.1:${echo.port}` }]) });
  env = hcmEnv(emu.ca);
  await addConnection(env, emu.hybridConnections[HC]!.listen);
  agent = await startAgent(env, { waitConnected: 1 });
  forwarder = await startForwarder(env, emu.hybridConnections[HC]!.send);
}, 120_000);

afterAll(async () => {
  for (const c of clients) c.destroy();
  await forwarder?.stop();
  await agent?.stop();
  await emu?.stop();
  await echo?.close();
  removeHome(env);
  removeDir(emu?.stateDir);
});

describe(`${CONNECTIONS} concurrent connections through one agent`, () => {
  it('all open at once, each echoes its own 16-64 KiB payload intact', async () => {
    const limit = Number(execFileSync('/bin/sh', ['-c', 'ulimit -n']).toString().trim());
    expect(limit, 'open-file limit too low for this test (needs ~2,000 per process plus slack)').toBeGreaterThanOrEqual(4 * CONNECTIONS);

    const closedEarly: number[] = [];
    const errors: string[] = [];
    // Open in batches so the forwarder's accept backlog is never the bottleneck; every batch is
    // confirmed at the endpoint before the next, and nothing is sent until all are open.
    for (let start = 0; start < CONNECTIONS; start += BATCH) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(BATCH, CONNECTIONS - start) }, async (_, j) => {
          const s = await connectTcp(forwarder!.port);
          const index = start + j;
          s.on('error', (err) => errors.push(`#${index}: ${err.message}`));
          s.once('close', () => closedEarly.push(index));
          return s;
        }),
      );
      clients.push(...batch);
      await waitFor(
        () => endpointActive >= clients.length || closedEarly.length > 0,
        120_000,
        `${clients.length} connections at the endpoint`,
      );
      expect(closedEarly, `connections closed while opening: ${errors.slice(0, 5).join('; ')}`).toEqual([]);
    }
    expect(endpointActive).toBe(CONNECTIONS);

    // Every tunnel is open end to end (the agent counts a tunnel once the rendezvous is up).
    let live = await liveConnection(env!, HC);
    await waitFor(
      async () => (live = await liveConnection(env!, HC)).counters.activeConnections >= CONNECTIONS,
      120_000,
      `the agent to report ${CONNECTIONS} open tunnels`,
    );
    expect(live.counters.activeConnections).toBe(CONNECTIONS);
    expect(closedEarly).toEqual([]);

    // Now send: each connection its own random payload, all at the same time.
    const payloads = clients.map((_, i) => {
      const p = randomBytes(randomInt(16 * 1024, 64 * 1024 + 1));
      p.writeUInt32BE(i, 0); // unique even if two random buffers collided
      return p;
    });
    const results = await Promise.allSettled(clients.map((s, i) => echoRoundTrip(s, payloads[i]!)));
    const failures: string[] = [];
    results.forEach((r, i) => {
      if (r.status === 'rejected') failures.push(`#${i}: ${(r.reason as Error).message}`);
      else if (firstDifference(r.value, payloads[i]!) !== -1)
        failures.push(`#${i}: differs at byte ${firstDifference(r.value, payloads[i]!)} of ${payloads[i]!.length}`);
    });
    expect(failures.length, failures.slice(0, 10).join('\n')).toBe(0);
    expect(errors).toEqual([]);
    expect(closedEarly).toEqual([]);

    const sent = payloads.reduce((n, p) => n + p.length, 0);
    const counters = (await liveConnection(env!, HC)).counters;
    expect(counters.totalConnections).toBeGreaterThanOrEqual(CONNECTIONS);
    expect(counters.failedConnections).toBe(0);
    expect(counters.bytesToEndpoint).toBe(sent);
    expect(counters.bytesFromEndpoint).toBe(sent);
    expect(agent!.proc.exitCode).toBeNull();

    // Closing the clients ends every tunnel: nothing stays open at the endpoint or in the agent.
    for (const c of clients) c.destroy();
    await waitFor(() => endpointActive === 0, 120_000, 'every endpoint socket to close');
    let after = await liveConnection(env!, HC);
    await waitFor(
      async () => (after = await liveConnection(env!, HC)).counters.activeConnections === 0,
      120_000,
      'the agent to report 0 open tunnels',
    );
    expect(after.counters.failedConnections).toBe(0);
    expect(after.counters.totalConnections).toBe(counters.totalConnections);
  }, 600_000);
});
