import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionSummary } from '../../src/shared/api.js';
import { type HcmEnv, type RunningProcess, hcm, hcmEnv, listLive, startAgent, startForwarder } from '../helpers/agent.js';
import { type EmulatorProcess, startEmulator, testConfig, waitFor } from '../helpers/emulator.js';
import { type TcpServer, startEchoServer } from '../helpers/tcp-servers.js';
import { echoText } from '../helpers/tunnel.js';

/**
 * Control channels open through the engine's gate (HCM_OPEN_CONCURRENCY at a time) and the
 * runtime-information GET after each opening queues with them: with a gate of 2 and 5 Hybrid
 * Connections every one still connects, carries traffic, and has its metadata read (an endpoint
 * moved in Azure is noticed on connect, with no restart). `hcm list` without an agent then shows
 * the saved view, the noticed change included.
 */

const NAMES = Array.from({ length: 5 }, (_, i) => `gated-${i}`);
let first: TcpServer;
let second: TcpServer;
let emu: EmulatorProcess;
let env: HcmEnv;
let agent: RunningProcess | undefined;

const config = (port: number) => testConfig(NAMES.map((name) => ({ name, endpoint: `127.0.0.1:${port}` })));
const listSaved = async () => {
  const r = await hcm(env, ['list', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { agentRunning: boolean; connections: ConnectionSummary[] };
};

beforeAll(async () => {
  first = await startEchoServer();
  second = await startEchoServer();
  emu = await startEmulator({ config: config(first.port) });
  env = hcmEnv(emu.ca, { HCM_OPEN_CONCURRENCY: '2' });
  for (const name of NAMES) expect((await hcm(env, ['add', emu.hybridConnections[name]!.listen])).code).toBe(0);
});

afterAll(async () => {
  await agent?.stop('SIGKILL');
  await emu?.stop();
  await first?.close();
  await second?.close();
});

describe('opening through a gate of 2', () => {
  it('lists the saved connections without an agent: NotConnected, in the order added, no traffic', async () => {
    const saved = await listSaved();
    expect(saved.agentRunning).toBe(false);
    expect(saved.connections.map((c) => [c.name, c.status, c.endpoint, c.counters.totalConnections, c.endpointChange])).toEqual(
      NAMES.map((n) => [n, 'NotConnected', `127.0.0.1:${first.port}`, 0, null]),
    );
  });

  it('connects all five, and reads the metadata of each once it is connected', async () => {
    expect(await emu.reload(config(second.port))).toBe('reloaded');
    agent = await startAgent(env, { waitConnected: NAMES.length });
    await waitFor(async () => (await listLive(env)).every((c) => c.endpointChange !== null), 20_000, 'every change seen');
    for (const row of await listLive(env)) {
      expect(row.endpointChange).toMatchObject({ from: `127.0.0.1:${first.port}`, to: `127.0.0.1:${second.port}` });
    }
  });

  it('carries traffic on every one of them', async () => {
    for (const name of NAMES) {
      const fwd = await startForwarder(env, emu.hybridConnections[name]!.send);
      try {
        expect(await echoText(fwd.port, `through ${name}`)).toBe(`through ${name}`);
      } finally {
        await fwd.stop();
      }
    }
    expect(first.connections).toBe(NAMES.length);
  });

  it('without the agent, the saved view keeps what was noticed', async () => {
    expect(await agent!.stop()).toBe(0);
    agent = undefined;
    const saved = await listSaved();
    expect(saved.agentRunning).toBe(false);
    for (const c of saved.connections) {
      expect([c.status, c.endpoint, c.endpointChange?.to]).toEqual(['NotConnected', `127.0.0.1:${first.port}`, `127.0.0.1:${second.port}`]);
    }
  });
});
