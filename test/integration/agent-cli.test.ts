import { readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionDetails } from '../../src/shared/api.js';
import { type HcmEnv, type RunningProcess, hcm, hcmEnv, listLive, startAgent, startForwarder, startHcm } from '../helpers/agent.js';
import { type EmulatorProcess, KEYS, startEmulator, testConfig, waitFor } from '../helpers/emulator.js';
import { type TcpServer, startEchoServer } from '../helpers/tcp-servers.js';
import { echoText } from '../helpers/tunnel.js';

/** The `hcm` verbs as an admin uses them, with and without a running agent. */

let emu: EmulatorProcess;
let echo: TcpServer;
const agents: RunningProcess[] = [];

beforeAll(async () => {
  echo = await startEchoServer();
  emu = await startEmulator({
    config: testConfig([
      { name: 'orders-db', endpoint: `127.0.0.1:${echo.port}` },
      { name: 'no-metadata' },
      { name: 'second', endpoint: `127.0.0.1:${echo.port}` },
      ...Array.from({ length: 5 }, (_, i) => ({ name: `parallel-${i}`, endpoint: `127.0.0.1:${echo.port}` })),
    ]),
  });
});

afterAll(async () => {
  for (const a of agents) await a.stop('SIGKILL');
  await emu?.stop();
  await echo?.close();
});

const listen = (hc: string) => emu.hybridConnections[hc]!.listen;
const listeners = async (hc: string) => (JSON.parse((await emu.admin(hc)).text) as { listeners: number }).listeners;

describe('hcm without a running agent', () => {
  let env: HcmEnv;
  beforeAll(() => {
    env = hcmEnv(emu.ca);
  });

  it('adds by connection string, resolving the endpoint from the metadata', async () => {
    const r = await hcm(env, ['add', listen('orders-db')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`added testns/orders-db -> 127.0.0.1:${echo.port}`);
    expect(r.stdout + r.stderr).not.toContain(KEYS.listen);
    const config = readFileSync(join(env.home, 'config.json'), 'utf8');
    expect(config).not.toContain(KEYS.listen);
    expect(readFileSync(join(env.home, 'secrets.json'), 'utf8')).toContain(KEYS.listen);
  });

  it('refuses duplicates, and --endpoint where the metadata already has one', async () => {
    const dup = await hcm(env, ['add', listen('orders-db')]);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/already added/);
    const manual = await hcm(env, ['add', listen('second'), '--endpoint', 'other:1']);
    expect(manual.code).toBe(1);
    expect(manual.stderr).toMatch(/already defines its endpoint/);
  });

  it('needs --endpoint only where the metadata has none', async () => {
    const missing = await hcm(env, ['add', listen('no-metadata')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no user metadata.*give the endpoint explicitly/);
    const bad = await hcm(env, ['add', listen('no-metadata'), '--endpoint', 'db.internal']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/has no port/);
    const ok = await hcm(env, ['add', listen('no-metadata'), '--endpoint', '[::1]:5432', '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ id: 'testns/no-metadata', endpoint: '[::1]:5432', endpointSource: 'manual' });
  });

  it('explains a bad connection string without echoing the key', async () => {
    const r = await hcm(env, [
      'add',
      `Endpoint=sb://localhost:${emu.port}/;SharedAccessKeyName=defaultListener;SharedAccessKey=${KEYS.listen};EntityPath=x;Colour=blue`,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown connection string key "Colour"/);
    expect(r.stderr).not.toContain(KEYS.listen);
    const wrongKey = await hcm(env, ['add', listen('second').replace(KEYS.listen, 'd3Jvbmc=')]);
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toMatch(/refused the key \(401\)/);
    const ghost = await hcm(env, ['add', listen('second').replace('EntityPath=second', 'EntityPath=ghost')]);
    expect(ghost.code).toBe(1);
  });

  it('lists and shows the saved configuration, saying no agent is running', async () => {
    const list = await hcm(env, ['list', '--json']);
    expect(list.code).toBe(0);
    const parsed = JSON.parse(list.stdout) as { agentRunning: boolean; connections: Array<{ id: string }> };
    expect(parsed.agentRunning).toBe(false);
    expect(parsed.connections.map((c) => c.id).sort()).toEqual(['testns/no-metadata', 'testns/orders-db']);
    const text = await hcm(env, ['list']);
    expect(text.stdout).toMatch(/orders-db\s+testns\s+127\.0\.0\.1:\d+\s+agent not running/);
    const show = await hcm(env, ['show', 'orders-db', '--json']);
    const details = JSON.parse(show.stdout) as ConnectionDetails;
    expect(details).toMatchObject({
      name: 'orders-db',
      namespace: 'testns',
      keyName: 'defaultListener',
      serviceBusAddress: `sb://testns.localhost:${emu.port}/`,
      listenerCount: 0,
    });
    expect(show.stdout).not.toContain(KEYS.listen);
    expect((await hcm(env, ['show', 'nope'])).code).toBe(1);
    expect((await hcm(env, ['restart', 'orders-db'])).stderr).toMatch(/no agent is running/);
  });

  it('uses exit code 2 for usage errors and 0 for --help everywhere', async () => {
    expect((await hcm(env, ['add'])).code).toBe(2);
    expect((await hcm(env, ['bogus'])).code).toBe(2);
    expect((await hcm(env, ['list', '--nope'])).code).toBe(2);
    expect((await hcm(env, ['connect', 'x'])).code).toBe(2);
    for (const cmd of ['add', 'list', 'show', 'remove', 'restart', 'run', 'connect', 'test', 'logs', 'version', 'emulator', 'ui']) {
      const r = await hcm(env, [cmd, '--help']);
      expect(r.code, cmd).toBe(0);
      expect(r.stdout, cmd).toMatch(/Usage: hcm/);
    }
    const v = await hcm(env, ['version']);
    expect(v.stdout).toMatch(/^open-hcm \d+\.\d+\.\d+/);
  });

  it('tests endpoints: DNS and TCP, and the relay for a named connection', async () => {
    const ok = await hcm(env, ['test', `127.0.0.1:${echo.port}`]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/TCP endpoint 127\.0\.0\.1:\d+\s+ok/);
    const closed = await hcm(env, ['test', '127.0.0.1:1']);
    expect(closed.code).toBe(1);
    expect(closed.stdout).toMatch(/FAILED.*refused/);
    const dns = await hcm(env, ['test', 'no-such-host.invalid:5432', '--json']);
    expect(dns.code).toBe(1);
    expect(JSON.parse(dns.stdout).steps[0]).toMatchObject({ ok: false, detail: expect.stringMatching(/cannot resolve/) });
    const named = await hcm(env, ['test', 'orders-db', '--json']);
    expect(named.code).toBe(0);
    expect(
      (JSON.parse(named.stdout) as { steps: Array<{ name: string }> }).steps.map((s) => s.name.split(' ').slice(0, 2).join(' ')),
    ).toEqual(['DNS endpoint', 'TCP endpoint', 'DNS relay', 'TCP relay', 'TLS relay', 'Clock relay']);
  });

  it('keeps a corrupt config file and says which file is broken', async () => {
    const broken = hcmEnv(emu.ca);
    writeFileSync(join(broken.home, 'config.json'), '{ "schemaVersion": 1, ');
    const run = await hcm(broken, ['run']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(join(broken.home, 'config.json'));
    expect(run.stderr).toMatch(/not valid JSON.*left untouched/);
    expect((await hcm(broken, ['add', listen('second')])).code).toBe(1);
    expect(readFileSync(join(broken.home, 'config.json'), 'utf8')).toBe('{ "schemaVersion": 1, ');
  });
});

describe('hcm with a running agent', () => {
  let env: HcmEnv;
  let agent: RunningProcess;

  beforeAll(async () => {
    env = hcmEnv(emu.ca);
    expect((await hcm(env, ['add', listen('orders-db')])).code).toBe(0);
    agent = await startAgent(env, { waitConnected: 1 });
    agents.push(agent);
  });

  it('shows live status and counters, and carries traffic', async () => {
    const before = Date.now();
    const fwd = await startForwarder(env, emu.hybridConnections['orders-db']!.send);
    expect(await echoText(fwd.port, 'ping through the tunnel')).toBe('ping through the tunnel');
    await fwd.stop();
    await waitFor(async () => (await listLive(env))[0]!.counters.bytesFromEndpoint >= 23, 10_000, 'counters');
    const list = JSON.parse((await hcm(env, ['list', '--json'])).stdout) as {
      agentRunning: boolean;
      connections: Array<{ status: string; counters: { totalConnections: number } }>;
    };
    expect(list.agentRunning).toBe(true);
    expect(list.connections[0]).toMatchObject({ status: 'Connected', counters: { totalConnections: 1 } });
    const show = JSON.parse((await hcm(env, ['show', 'orders-db', '--json'])).stdout) as ConnectionDetails;
    expect(show.listenerCount).toBe(1);
    expect(show.counters.bytesToEndpoint).toBe(23);
    expect(show.counters.activeConnections).toBe(0);
    expect(show.counters.failedConnections).toBe(0);
    const last = Date.parse(show.counters.lastConnectionAt ?? '');
    expect(last).toBeGreaterThanOrEqual(before - 1000);
    expect(last).toBeLessThanOrEqual(Date.now());
  });

  it('guards its control socket and refuses a second agent on the same config', async () => {
    if (process.platform !== 'win32') expect(statSync(join(env.home, 'hcm.sock')).mode & 0o777).toBe(0o600);
    const second = await hcm(env, ['run'], 20_000);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/another HCM agent is already running/);
    expect(await listeners('orders-db')).toBe(1);
  });

  it('applies adds and removes from other processes at once, losing none when they race', async () => {
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => hcm(env, ['add', listen(`parallel-${i}`)])));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    await waitFor(async () => (await listLive(env)).filter((c) => c.status === 'Connected').length === 6, 20_000, 'all six Connected');
    for (let i = 0; i < 5; i++) expect(await listeners(`parallel-${i}`)).toBe(1);
    for (let i = 0; i < 5; i++) expect((await hcm(env, ['remove', `parallel-${i}`])).code).toBe(0);
    await waitFor(async () => (await listeners('parallel-0')) === 0, 10_000, 'listener removed');
    expect((await listLive(env)).map((c) => c.id)).toEqual(['testns/orders-db']);
  });

  it('restarts one connection: a new control channel replaces the old', async () => {
    const before = agent.output().match(/listening \(listener id/g)?.length ?? 0;
    const r = await hcm(env, ['restart', 'orders-db']);
    expect(r.code).toBe(0);
    await waitFor(() => (agent.output().match(/listening \(listener id/g)?.length ?? 0) > before, 10_000, 'relisten');
    await waitFor(async () => (await listLive(env))[0]!.status === 'Connected', 10_000, 'Connected');
    expect(await listeners('orders-db')).toBe(1);
  });

  it('prints recent logs from the running agent, without secrets', async () => {
    const r = await hcm(env, ['logs', '-n', '50']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\[testns\/orders-db\] status Connected/);
    expect(r.stdout).not.toContain(KEYS.listen);
  });

  it('follows the log live with -f until interrupted', async () => {
    const follow = startHcm(env, ['logs', '-f', '-n', '1']);
    await waitFor(() => follow.output().split('\n').filter(Boolean).length >= 1, 10_000, 'the last line');
    expect((await hcm(env, ['restart', 'orders-db'])).code).toBe(0);
    await waitFor(() => /\[testns\/orders-db\] restart requested/.test(follow.output()), 10_000, 'a new line, live');
    const afterRestart = () => follow.output().slice(follow.output().indexOf('restart requested'));
    await waitFor(() => /\[testns\/orders-db\] status Connected/.test(afterRestart()), 10_000, 'and the next');
    expect(await follow.stop('SIGINT')).toBe(0);
    expect(follow.output()).not.toContain(KEYS.listen);
  });

  it('on SIGINT (Ctrl-C) stops like on SIGTERM, with exit code 0', async () => {
    const other = hcmEnv(emu.ca);
    expect((await hcm(other, ['add', listen('orders-db')])).code).toBe(0);
    const second = await startAgent(other, { waitConnected: 1 });
    agents.push(second);
    await waitFor(async () => (await listeners('orders-db')) === 2, 10_000, 'two listeners');
    expect(await second.stop('SIGINT')).toBe(0);
    expect(second.output()).toMatch(/agent stopped/);
    await waitFor(async () => (await listeners('orders-db')) === 1, 10_000, 'its listener gone');
  });

  it('on SIGTERM stops listening but lets an open connection finish', async () => {
    const fwd = await startForwarder(env, emu.hybridConnections['orders-db']!.send);
    const socket = net.connect(fwd.port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    let got = '';
    socket.on('data', (d) => (got += d.toString()));
    socket.write('before ');
    await waitFor(() => got === 'before ', 10_000, 'first echo');
    agent.proc.kill('SIGTERM');
    await waitFor(async () => (await listeners('orders-db')) === 0, 10_000, 'listener gone');
    socket.write('after');
    await waitFor(() => got === 'before after', 10_000, 'echo during grace');
    expect(agent.proc.exitCode).toBeNull();
    socket.end();
    expect(await agent.exited).toBe(0);
    expect(agent.output()).toMatch(/waiting up to 30 s for 1 open connection/);
    await fwd.stop();
    const offline = await hcm(env, ['logs', '-n', '5']);
    expect(offline.code).toBe(0);
    expect(offline.stdout).toMatch(/agent stopped/);
  });
});
