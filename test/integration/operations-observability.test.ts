import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlClient } from '../../src/core/control-socket.js';
import type { TunnelList } from '../../src/shared/api.js';
import { type Forwarder, type HcmEnv, type RunningProcess, hcm, hcmEnv, startAgent, startForwarder } from '../helpers/agent.js';
import { type EmulatorProcess, KEYS, startEmulator, testConfig, waitFor } from '../helpers/emulator.js';
import { parsePrometheusText, sample } from '../helpers/prometheus-text.js';
import { type TcpServer, startEchoServer } from '../helpers/tcp-servers.js';
import { addConnection, connectTcp, echoRoundTrip, removeDir, removeHome } from '../helpers/tunnel.js';

/**
 * Watching and seeing inside a running agent (issue 16, items 3, 4, 5): `hcm run --metrics` scraped
 * while traffic flows and read with a Prometheus text parser (and Prometheus' own promtool where it
 * is installed), /ready and /healthz, the live connection inspector (hcm show --connections, hcm
 * disconnect, the tunnels event) and --log-format json. Real processes throughout.
 */

const HC = 'hc-observed';
const ID = `testns/${HC}`;

let echo: TcpServer | undefined;
let emu: EmulatorProcess | undefined;
let env: HcmEnv | undefined;
let client: HcmEnv | undefined;
let agent: RunningProcess | undefined;
let forwarder: Forwarder | undefined;
let base = '';

beforeAll(async () => {
  echo = await startEchoServer();
  emu = await startEmulator({ config: testConfig([{ name: HC, endpoint: `127.0.0.1:${echo.port}` }]) });
  env = hcmEnv(emu.ca, { HCM_SLOW_RETRY_MS: '500' }); // a deleted Hybrid Connection is retried at once
  client = hcmEnv(emu.ca);
  await addConnection(env, emu.hybridConnections[HC]!.listen);
  agent = await startAgent(env, { args: ['--metrics', '127.0.0.1:0', '--log-format', 'json'], waitConnected: 1 });
  await waitFor(() => /metrics on http:\/\/127\.0\.0\.1:\d+/.test(agent!.output()), 10_000, 'the metrics address in the log');
  base = /metrics on (http:\/\/127\.0\.0\.1:\d+)/.exec(agent.output())![1]!;
  forwarder = await startForwarder(client, emu.hybridConnections[HC]!.send);
}, 120_000);

afterAll(async () => {
  await forwarder?.stop();
  await agent?.stop();
  await emu?.stop();
  await echo?.close();
  removeHome(env);
  removeHome(client);
  removeDir(emu?.stateDir);
});

async function get(path: string): Promise<{ status: number; type: string; text: string }> {
  const r = await fetch(`${base}${path}`);
  return { status: r.status, type: r.headers.get('content-type') ?? '', text: await r.text() };
}

/** Echo `rounds` times on one connection, `size` bytes each. */
async function traffic(socket: net.Socket, rounds: number, size: number): Promise<void> {
  for (let i = 0; i < rounds; i++) await echoRoundTrip(socket, randomBytes(size));
}

describe('metrics, readiness and health', () => {
  it('serves /metrics in the Prometheus text format while traffic flows', async () => {
    let stop = false;
    let done = 0;
    const load = Promise.all(
      [0, 1, 2].map(async () => {
        while (!stop) {
          const s = await connectTcp(forwarder!.port);
          await traffic(s, 3, 16 * 1024);
          s.destroy();
          done++;
        }
      }),
    );
    const scrapes: string[] = [];
    await waitFor(async () => {
      scrapes.push((await get('/metrics')).text);
      return done >= 30 && scrapes.length >= 3;
    }, 30_000);
    stop = true;
    await load;

    const first = parsePrometheusText(scrapes[0]!);
    const last = parsePrometheusText(scrapes[scrapes.length - 1]!);
    const m = await get('/metrics');
    expect(m.status).toBe(200);
    expect(m.type).toMatch(/^text\/plain; version=0\.0\.4/);

    // Per connection: status, listeners, tunnels, bytes; each family typed as Prometheus expects.
    expect(last.get('hcm_connection_status')!.type).toBe('GAUGE');
    expect(sample(last, 'hcm_connection_status', { connection: ID, status: 'Connected' })).toBe(1);
    expect(sample(last, 'hcm_connection_status', { connection: ID, status: 'NotConnected' })).toBe(0);
    expect(sample(last, 'hcm_connection_listeners', { connection: ID })).toBe(1);
    expect(last.get('hcm_tunnels_total')!.type).toBe('COUNTER');
    expect(sample(last, 'hcm_tunnels_total', { connection: ID })).toBeGreaterThan(sample(first, 'hcm_tunnels_total', { connection: ID }));
    expect(sample(last, 'hcm_tunnels_failed_total', { connection: ID })).toBe(0);
    expect(sample(last, 'hcm_bytes_to_endpoint_total', { connection: ID })).toBeGreaterThan(100_000);
    expect(sample(last, 'hcm_bytes_from_endpoint_total', { connection: ID })).toBeGreaterThan(100_000);
    expect(sample(last, 'hcm_tunnels_active', { connection: ID })).toBeGreaterThanOrEqual(0);
    // Setup times: a histogram whose +Inf bucket counts every opened tunnel.
    const setup = last.get('hcm_tunnel_setup_seconds')!;
    expect(setup.type).toBe('HISTOGRAM');
    expect(Number(setup.metrics[0]!.buckets!['+Inf'])).toBeGreaterThanOrEqual(30);
    expect(Number(setup.metrics[0]!.buckets!['0.25'])).toBeGreaterThan(0);
    // Process metrics and the agent's version.
    expect(sample(last, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(sample(last, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(last.get('hcm_agent_info')!.metrics[0]!.labels!.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(sample(last, 'hcm_ready')).toBe(1);

    // Prometheus' own parser and linter, where Debian's prometheus package is installed.
    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: m.text, encoding: 'utf8' });
    if (promtool.error === undefined) {
      expect(promtool.status, promtool.stdout + promtool.stderr).not.toBe(1); // 1: the text does not parse
      const ours = `${promtool.stdout}${promtool.stderr}`.split('\n').filter((l) => l.startsWith('hcm_'));
      expect(ours).toEqual([]); // no lint finding about our own metrics
    }
  });

  it('says ready (200) while Connected, 503 with the reason when not, and healthy throughout', async () => {
    const ready = await get('/ready');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.text)).toEqual({ ready: true, reasons: [] });
    expect((await get('/healthz')).text).toBe('ok\n');
    expect((await get('/nothing')).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);

    // The Hybrid Connection is deleted in the relay: not ready, with the reason; reconnects counted.
    expect(await emu!.reload(testConfig([]))).toBe('reloaded');
    await waitFor(async () => (await get('/ready')).status === 503, 20_000, '/ready to answer 503');
    const notReady = JSON.parse((await get('/ready')).text) as { ready: boolean; reasons: string[] };
    expect(notReady.ready).toBe(false);
    expect(notReady.reasons[0]).toMatch(new RegExp(`^${ID}: (NotConnected|NotFound)`));
    expect((await get('/healthz')).status).toBe(200);
    expect(await emu!.reload(testConfig([{ name: HC, endpoint: `127.0.0.1:${echo!.port}` }]))).toBe('reloaded');
    await waitFor(async () => (await get('/ready')).status === 200, 60_000, '/ready to answer 200 again');
    const metrics = parsePrometheusText((await get('/metrics')).text);
    expect(sample(metrics, 'hcm_reconnects_total', { connection: ID, reason: 'relay_closed' })).toBeGreaterThanOrEqual(1);
  }, 120_000);
});

describe('the live connection inspector', () => {
  it('lists each open tunnel with its sender, age, bytes and endpoint address, pushes changes, and closes one on request', async () => {
    const events: TunnelList[] = [];
    const control = await ControlClient.connect(`${env!.home}/hcm.sock`);
    await control!.subscribe(['tunnels'], (event, payload) => {
      if (event === 'tunnels') events.push(payload as TunnelList);
    });
    const a = await connectTcp(forwarder!.port);
    const b = await connectTcp(forwarder!.port);
    await traffic(a, 2, 10_000);
    await traffic(b, 1, 5_000);
    await new Promise((r) => setTimeout(r, 1_100)); // ages of a second or more

    const shown = await hcm(env!, ['show', HC, '--connections', '--json']);
    expect(shown.code, shown.stderr).toBe(0);
    const list = JSON.parse(shown.stdout) as TunnelList;
    expect(list.connectionId).toBe(ID);
    expect(list.total).toBe(2);
    const bySize = [...list.tunnels].sort((x, y) => y.bytesToEndpoint - x.bytesToEndpoint);
    expect(bySize.map((t) => [t.bytesToEndpoint, t.bytesFromEndpoint])).toEqual([
      [20_000, 20_000],
      [5_000, 5_000],
    ]);
    for (const t of list.tunnels) {
      expect(t.id).toMatch(new RegExp(`^${ID}#\\d+$`));
      expect(t.sender).toMatch(/^127\.0\.0\.1:\d+$/); // hcm connect's address as the relay saw it
      expect(t.endpoint).toBe(`127.0.0.1:${echo!.port}`);
      expect(t.endpointAddress).toBe(`127.0.0.1:${echo!.port}`);
      expect(Date.parse(list.at) - Date.parse(t.openedAt)).toBeGreaterThanOrEqual(1_000);
    }
    const text = await hcm(env!, ['show', HC, '--connections']);
    expect(text.stdout).toMatch(/^ID\s+FROM\s+AGE\s+TO ENDPOINT\s+FROM ENDPOINT\s+ENDPOINT/);
    expect(text.stdout).toContain('20 KiB');

    // The view is live: the event carries both tunnels with their bytes.
    await waitFor(() => events.some((e) => e.connectionId === ID && e.total === 2), 5_000, 'a tunnels event');

    // Close the bigger one from the CLI: its client sees the end, the other one keeps working.
    const victim = bySize[0]!;
    const closedA = new Promise<void>((resolve) => a.once('close', () => resolve()));
    const closed = await hcm(env!, ['disconnect', victim.id.replace(/^testns\//, '')]);
    expect(closed.stdout.trim()).toBe(`closed ${victim.id}`);
    await closedA;
    await traffic(b, 1, 1_000);
    const again = await hcm(env!, ['disconnect', victim.id]);
    expect(again.stdout).toContain('is not open');
    await waitFor(async () => {
      const l = JSON.parse((await hcm(env!, ['show', HC, '--connections', '--json'])).stdout) as TunnelList;
      return l.total === 1;
    });
    await waitFor(() => events.some((e) => e.connectionId === ID && e.total === 1), 5_000, 'a tunnels event after the close');
    b.destroy();
    control!.close();
    expect(agent!.output()).toContain('closed on request');
  });
});

describe('--log-format json', () => {
  it('writes one JSON object per line (time, level, connection, event, message, fields) and never a key', async () => {
    const lines = agent!
      .output()
      .split('\n')
      .filter((l) => l.trim());
    expect(lines.length).toBeGreaterThan(20);
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const r of records) {
      expect(Object.keys(r)).toEqual(['time', 'level', 'connection', 'event', 'message', 'fields']);
      expect(Number.isNaN(Date.parse(r.time as string))).toBe(false);
      expect(['debug', 'info', 'warn', 'error']).toContain(r.level);
    }
    const started = records.find((r) => r.event === 'agent.started')!;
    expect(started.fields).toMatchObject({ connections: 1 });
    const status = records.find((r) => r.event === 'status' && r.connection === ID)!;
    expect(status.fields).toMatchObject({ status: expect.any(String) });
    const ended = records.find((r) => r.event === 'tunnel.closed')!;
    expect(ended.connection).toBe(ID);
    expect(ended.fields).toMatchObject({
      sender: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      endpoint: `127.0.0.1:${echo!.port}`,
      bytesToEndpoint: expect.any(Number),
    });
    const out = agent!.output();
    for (const key of Object.values(KEYS)) expect(out).not.toContain(key);
  });
});
