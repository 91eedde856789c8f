import { randomBytes } from 'node:crypto';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Forwarder, type HcmEnv, type RunningProcess, hcmEnv, startAgent, startForwarder, startHcm } from '../helpers/agent.js';
import { type EmulatorProcess, startEmulator, testConfig, waitFor } from '../helpers/emulator.js';
import { type TcpServer, startEchoServer } from '../helpers/tcp-servers.js';
import { addConnection, connectTcp, echoRoundTrip, firstDifference, removeDir, removeHome } from '../helpers/tunnel.js';

/**
 * Restart without dropping a connection (issue 16, item 2): `hcm run --takeover` ten times in a
 * row while a client opens connections without pause and holds some open for a few seconds (less
 * than the grace period). Every new connection must succeed, and no held tunnel may be cut: each
 * old agent stops listening only after its successor listens, then drains and exits 0.
 * All real processes: the emulator, the agents, `hcm connect` and an echo server.
 */

const HC = 'hc-takeover';
const GRACE_S = 20;
const HOLD_MS = 2_500;

let echo: TcpServer | undefined;
let emu: EmulatorProcess | undefined;
let env: HcmEnv | undefined;
let client: HcmEnv | undefined;
let forwarder: Forwarder | undefined;
const agents: RunningProcess[] = [];

beforeAll(async () => {
  echo = await startEchoServer();
  emu = await startEmulator({ config: testConfig([{ name: HC, endpoint: `127.0.0.1:${echo.port}` }]) });
  env = hcmEnv(emu.ca);
  client = hcmEnv(emu.ca);
  await addConnection(env, emu.hybridConnections[HC]!.listen);
  agents.push(await startAgent(env, { args: ['--grace', String(GRACE_S)], waitConnected: 1 }));
  forwarder = await startForwarder(client, emu.hybridConnections[HC]!.send);
}, 120_000);

afterAll(async () => {
  await forwarder?.stop();
  for (const a of agents) await a.stop('SIGKILL');
  await emu?.stop();
  await echo?.close();
  removeHome(env);
  removeHome(client);
  removeDir(emu?.stateDir);
});

/** One echo through the tunnel on an open socket; throws with what went wrong. */
async function echoOnce(socket: net.Socket, size: number): Promise<void> {
  const payload = randomBytes(size);
  const back = await echoRoundTrip(socket, payload);
  const at = firstDifference(back, payload);
  if (at !== -1) throw new Error(`echo differs at byte ${at}`);
}

describe('hcm run --takeover', () => {
  it('restarts 10 times under continuous load: no new connection fails, no held tunnel is cut', async () => {
    const failures: string[] = [];
    let opened = 0;
    let held = 0;
    let running = true;

    // Short connections, back to back, from 3 workers.
    const shortWorker = async (w: number) => {
      for (let i = 0; running; i++) {
        try {
          const s = await connectTcp(forwarder!.port);
          try {
            await echoOnce(s, 4096);
            opened++;
          } finally {
            s.destroy();
          }
        } catch (err) {
          failures.push(`short ${w}.${i}: ${(err as Error).message}`);
        }
      }
    };
    // Held connections: open, echo, hold HOLD_MS (< the grace period), echo again.
    const heldWorker = async (w: number) => {
      for (let i = 0; running; i++) {
        try {
          const s = await connectTcp(forwarder!.port);
          try {
            await echoOnce(s, 1024);
            await new Promise((r) => setTimeout(r, HOLD_MS));
            await echoOnce(s, 64 * 1024);
            held++;
          } finally {
            s.destroy();
          }
        } catch (err) {
          failures.push(`held ${w}.${i}: ${(err as Error).message}`);
        }
      }
    };
    const load = Promise.all([0, 1, 2].map(shortWorker).concat([0, 1, 2, 3].map(heldWorker)));

    const exits: Array<Promise<number | null>> = [];
    for (let round = 1; round <= 10; round++) {
      await new Promise((r) => setTimeout(r, 700)); // let the load reach the current agent
      const previous = agents[agents.length - 1]!;
      const next = startHcm(env!, ['run', '--takeover', '--grace', String(GRACE_S)]);
      agents.push(next);
      await waitFor(
        () => next.output().includes('took over from agent pid') || next.proc.exitCode !== null,
        30_000,
        `round ${round}: the new agent to take over`,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n--- new agent:\n${next.output()}\n--- previous agent:\n${previous.output().slice(-3000)}`);
      });
      expect(next.proc.exitCode, next.output()).toBeNull();
      expect(previous.output()).toContain('handing over to a new agent');
      exits.push(previous.exited);
    }
    await new Promise((r) => setTimeout(r, 1_500));
    running = false;
    await load;

    expect(failures, failures.slice(0, 10).join('\n')).toEqual([]);
    expect(opened).toBeGreaterThan(100);
    expect(held).toBeGreaterThan(10);
    // Every old agent drained within the grace period and exited cleanly.
    const codes = await Promise.all(exits);
    expect(codes).toEqual(Array(10).fill(0));
    for (const a of agents.slice(0, 10)) {
      expect(a.output()).toContain('handed over: this agent exits');
      expect(a.output()).not.toMatch(/ended after [\d.]+ s: .*\(aborted\)/);
    }
    // The last agent serves the CLI over the control socket.
    const last = agents[agents.length - 1]!;
    expect(last.proc.exitCode).toBeNull();
  }, 300_000);
});
