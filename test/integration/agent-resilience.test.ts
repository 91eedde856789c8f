import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionSummary } from '../../src/shared/api.js';
import { type Forwarder, type HcmEnv, type RunningProcess, hcm, hcmEnv, listLive, startAgent, startForwarder } from '../helpers/agent.js';
import { type EmulatorProcess, startEmulator, testConfig, waitFor } from '../helpers/emulator.js';
import { freePort } from '../helpers/ports.js';
import { type TcpServer, startEchoServer, startTcpServer, startUnansweringPort } from '../helpers/tcp-servers.js';

/**
 * What goes wrong in the field (docs/protocol.md §8), provoked for real: endpoints down,
 * the relay restarting, half-open control channels, token expiry, deleted entities, bad keys.
 */

let echo: TcpServer;
let deadPort: number;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  echo = await startEchoServer();
  deadPort = await freePort(); // nothing listens here
});

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  await echo?.close();
});

function config() {
  return testConfig([
    { name: 'echo', endpoint: `127.0.0.1:${echo.port}` },
    { name: 'refused', endpoint: `127.0.0.1:${deadPort}` },
    { name: 'unresolvable', endpoint: 'no-such-host.invalid:5432' },
  ]);
}

async function emulator(options: Parameters<typeof startEmulator>[0] = {}): Promise<EmulatorProcess> {
  const emu = await startEmulator({ config: config(), ...options });
  cleanups.push(() => emu.kill());
  return emu;
}

async function agentFor(
  emu: EmulatorProcess,
  hcs: string[],
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<{ env: HcmEnv; agent: RunningProcess }> {
  const env = hcmEnv(emu.ca, extraEnv);
  for (const hc of hcs) expect((await hcm(env, ['add', emu.hybridConnections[hc]!.listen])).code).toBe(0);
  const agent = await startAgent(env, { waitConnected: hcs.length });
  cleanups.push(() => agent.stop('SIGKILL'));
  return { env, agent };
}

/** A relay with one Hybrid Connection to `port`, an agent for it, and a forwarder: a whole tunnel. */
async function tunnelTo(name: string, port: number, extraEnv: NodeJS.ProcessEnv = {}): Promise<{ env: HcmEnv; fwd: Forwarder }> {
  const emu = await startEmulator({ config: testConfig([{ name, endpoint: `127.0.0.1:${port}` }]) });
  cleanups.push(() => emu.kill());
  const { env } = await agentFor(emu, [name], extraEnv);
  const fwd = await startForwarder(env, emu.hybridConnections[name]!.send);
  cleanups.push(() => fwd.stop());
  return { env, fwd };
}

const STALL_LIMIT = 512 * 1024 * 1024;

/** Writes 64 KiB chunks until backpressure does not clear for a second; resolves with the bytes accepted. */
async function writeUntilStalled(s: net.Socket, onWritten: (total: number) => void = () => undefined): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024, 1);
  let written = 0;
  while (!s.destroyed && written <= STALL_LIMIT) {
    if (!s.write(chunk)) {
      const drained = await Promise.race([
        new Promise((r) => s.once('drain', () => r(true))),
        new Promise((r) => setTimeout(() => r(false), 1000)),
      ]);
      if (!drained) break;
    }
    written += chunk.length;
    onWritten(written);
  }
  return written;
}

async function statusOf(env: HcmEnv, name: string): Promise<ConnectionSummary> {
  return (await listLive(env)).find((c) => c.name === name)!;
}

/** Connects through the forwarder; resolves with what came back before the socket closed. */
function roundTrip(port: number, payload: string): Promise<{ data: string; closedAfterMs: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (d) => {
      data += d.toString();
      if (data.length >= payload.length) socket.end();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ data, closedAfterMs: Date.now() - started }));
    socket.write(payload);
  });
}

describe('unreachable endpoints', () => {
  it('fails the app connection promptly and the status says why', async () => {
    const emu = await emulator();
    const { env } = await agentFor(emu, ['refused', 'unresolvable']);
    const fwd = await startForwarder(env, emu.hybridConnections.refused!.send);
    cleanups.push(() => fwd.stop());
    const r = await roundTrip(fwd.port, 'hello');
    expect(r.data).toBe('');
    // Far below the 30 s the relay would wait for an unanswered rendezvous.
    expect(r.closedAfterMs).toBeLessThan(10_000);
    await waitFor(async () => (await statusOf(env, 'refused')).counters.failedConnections === 1, 10_000, 'failed counter');
    const refused = await statusOf(env, 'refused');
    expect(refused.status).toBe('Connected');
    // The attempt counts in the total: "Total 0, Failed 1" would contradict itself.
    expect(refused.counters).toMatchObject({ totalConnections: 1, failedConnections: 1, activeConnections: 0 });
    expect(refused.counters.lastConnectionAt).not.toBeNull();
    expect(refused.lastError?.message).toMatch(new RegExp(`127\\.0\\.0\\.1:${deadPort} refused the connection`));
    await waitFor(() => fwd.output().includes('502'), 5000, 'forwarder log');
    expect(fwd.output()).toMatch(/relay refused the connection: 502 endpoint 127\.0\.0\.1:\d+ refused the connection/);

    const fwd2 = await startForwarder(env, emu.hybridConnections.unresolvable!.send);
    cleanups.push(() => fwd2.stop());
    await roundTrip(fwd2.port, 'hello');
    await waitFor(async () => (await statusOf(env, 'unresolvable')).counters.failedConnections === 1, 20_000, 'dns failure');
    expect((await statusOf(env, 'unresolvable')).lastError?.message).toMatch(/no-such-host\.invalid could not be resolved/);
  });

  it('gives up on an endpoint that never answers after the connect timeout, with a 502 that says so', async () => {
    const silent = await startUnansweringPort();
    cleanups.push(() => silent.close());
    const { env, fwd } = await tunnelTo('silent', silent.port, { HCM_CONNECT_TIMEOUT_MS: '1500' });
    const r = await roundTrip(fwd.port, 'hello');
    expect(r.data).toBe('');
    // The agent waited for its timeout, not for the relay's 30 s rendezvous expiry.
    expect(r.closedAfterMs).toBeGreaterThanOrEqual(1400);
    expect(r.closedAfterMs).toBeLessThan(15_000);
    await waitFor(async () => (await statusOf(env, 'silent')).counters.failedConnections === 1, 10_000, 'failed counter');
    const status = await statusOf(env, 'silent');
    expect(status.status).toBe('Connected');
    expect(status.lastError?.message).toMatch(
      new RegExp(`endpoint 127\\.0\\.0\\.1:${silent.port} did not answer within 1500 ms \\(connect timeout\\)`),
    );
    await waitFor(() => fwd.output().includes('502'), 5000, 'forwarder log');
    expect(fwd.output()).toMatch(/502 endpoint 127\.0\.0\.1:\d+ did not answer within 1500 ms/);
  });
});

describe('relay outages', () => {
  it('shows Not connected while the relay is down, then reconnects and carries traffic again', async () => {
    const emu = await emulator();
    const { env, agent } = await agentFor(emu, ['echo']);
    await emu.kill();
    await waitFor(async () => (await statusOf(env, 'echo')).status === 'NotConnected', 20_000, 'Not connected');
    const down = await statusOf(env, 'echo');
    // Depending on the moment the relay died: a dropped channel, a refused or a reset reconnect.
    expect(down.lastError?.message).toMatch(/1006|refused|dropped|was reset/);
    // Same port, same CA and keys: what a relay restart looks like to the agent.
    const again = await emulator({ port: emu.port, stateDir: emu.stateDir });
    await waitFor(async () => (await statusOf(env, 'echo')).status === 'Connected', 60_000, 'Connected again');
    const fwd = await startForwarder(env, again.hybridConnections.echo!.send);
    cleanups.push(() => fwd.stop());
    expect((await roundTrip(fwd.port, 'after the outage')).data).toBe('after the outage');
    expect(agent.output()).toMatch(/reconnecting in/);
  });

  it('replaces a half-open control channel (no answers, no errors) within 60 s', async () => {
    const emu = await emulator();
    const { env, agent } = await agentFor(emu, ['echo']);
    const started = Date.now();
    expect((await emu.admin('echo', 'freeze')).status).toBe(200);
    await waitFor(() => /did not answer a keep-alive ping/.test(agent.output()), 70_000, 'dead channel noticed');
    expect(Date.now() - started).toBeLessThan(60_000);
    await waitFor(async () => (await statusOf(env, 'echo')).status === 'Connected', 20_000, 'reconnected');
    // Noticed and replaced: Connected again on a new channel, all within the 60 s.
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(agent.output().match(/listening \(listener id/g)).toHaveLength(2);
    const fwd = await startForwarder(env, emu.hybridConnections.echo!.send);
    cleanups.push(() => fwd.stop());
    expect((await roundTrip(fwd.port, 'fresh channel')).data).toBe('fresh channel');
  }, 120_000);

  it('reconnects after a silent drop and after a service error (1011)', async () => {
    const emu = await emulator();
    const { env, agent } = await agentFor(emu, ['echo']);
    const channels = () => agent.output().match(/listening \(listener id/g)?.length ?? 0;
    await emu.admin('echo', 'drop');
    await waitFor(() => channels() === 2, 30_000, 'reconnect after drop');
    await emu.admin('echo', 'close', 'code=1011&reason=boom');
    await waitFor(() => channels() === 3, 30_000, 'reconnect after 1011');
    expect(agent.output()).toMatch(/1011, service error/);
    await waitFor(async () => (await statusOf(env, 'echo')).status === 'Connected', 10_000, 'Connected');
  });

  it('ignores hostile control messages and keeps working', async () => {
    const emu = await emulator();
    const { env, agent } = await agentFor(emu, ['echo']);
    for (const body of [
      'not json',
      '[]',
      '{"accept":{"address":"wss://evil.example.com/$hc/echo?sb-hc-action=accept","id":"x"}}',
      '{"accept":{"address":42}}',
      '{"request":{"id":"r1","method":"GET"}}',
      '{"future":{}}',
    ]) {
      expect((await emu.admin('echo', 'send', '', body)).status).toBe(200);
    }
    await waitFor(() => (agent.output().match(/ignored a control message/g)?.length ?? 0) >= 5, 10_000, 'ignored messages');
    expect(agent.output()).toMatch(/address host evil\.example\.com is not part of the relay/);
    expect(agent.output()).toMatch(/HTTP-mode request; answered 501/);
    expect((await statusOf(env, 'echo')).status).toBe('Connected');
    const fwd = await startForwarder(env, emu.hybridConnections.echo!.send);
    cleanups.push(() => fwd.stop());
    expect((await roundTrip(fwd.port, 'still fine')).data).toBe('still fine');
  });
});

describe('tokens, keys and entities', () => {
  it('renews short-lived tokens on the open channel instead of being cut off', async () => {
    const emu = await emulator();
    const { env, agent } = await agentFor(emu, ['echo'], { HCM_TOKEN_TTL_SECONDS: '6' });
    await new Promise((r) => setTimeout(r, 15_000));
    expect(emu.stderr()).not.toMatch(/token expired/);
    expect(emu.stderr()).toMatch(/token renewed/);
    expect(agent.output().match(/listening \(listener id/g)).toHaveLength(1);
    expect((await statusOf(env, 'echo')).status).toBe('Connected');
  }, 60_000);

  it('reports a deleted Hybrid Connection as Not found and a refused key as Unauthorized, and keeps retrying slowly until they are fixed', async () => {
    const emu = await emulator();
    // The slow retry (120 s by default) shortened so the test can watch it recover on its own;
    // 3 s ± 20 % (2.4–3.6 s) is apart from every fast step (1, 2, 5, 10 s ± 20 %).
    const { env, agent } = await agentFor(emu, ['echo'], { HCM_SLOW_RETRY_MS: '3000' });
    const without = config();
    without.namespaces[0]!.hybridConnections = without.namespaces[0]!.hybridConnections.filter((h) => h.name !== 'echo');
    await emu.reload(without);
    await waitFor(async () => (await statusOf(env, 'echo')).status === 'NotFound', 30_000, 'Not found');
    expect((await statusOf(env, 'echo')).lastError?.message).toMatch(/does not exist \(404: Endpoint does not exist/);
    // Retried at the slow pace, not the fast steps, and still Not found.
    const notFoundAttempts = () => agent.output().match(/cannot listen: the Hybrid Connection does not exist/g)?.length ?? 0;
    await waitFor(() => notFoundAttempts() >= 3, 30_000, 'slow retries');
    const sinceNotFound = agent.output().slice(agent.output().indexOf('cannot listen: the Hybrid Connection does not exist'));
    const delays = [...sinceNotFound.matchAll(/reconnecting in (\d+\.\d) s/g)].map((m) => Number(m[1]));
    expect(delays.length).toBeGreaterThanOrEqual(2);
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(2.4);
      expect(d).toBeLessThanOrEqual(3.6);
    }
    expect((await statusOf(env, 'echo')).status).toBe('NotFound');
    // Recreated with a rotated listen key: the old key is refused, and found without a restart.
    const rotated = config();
    rotated.namespaces[0]!.hybridConnections[0]!.rules[0]!.primaryKey = 'cm90YXRlZC1rZXk=';
    await emu.reload(rotated);
    await waitFor(async () => (await statusOf(env, 'echo')).status === 'Unauthorized', 30_000, 'Unauthorized');
    expect((await statusOf(env, 'echo')).lastError?.message).toMatch(/refused the key \(401/);
    // Back to the original key: the next slow retry connects, nobody restarts anything.
    await emu.reload(config());
    await waitFor(async () => (await statusOf(env, 'echo')).status === 'Connected', 30_000, 'Connected');
    const fwd = await startForwarder(env, emu.hybridConnections.echo!.send);
    cleanups.push(() => fwd.stop());
    expect((await roundTrip(fwd.port, 'fixed')).data).toBe('fixed');
  });
});

describe('ending and backpressure', () => {
  it('delivers everything the endpoint sent before its FIN, then ends the tunnel', async () => {
    const payload = 'x'.repeat(300_000);
    const server = await startTcpServer((s) => s.end(payload));
    cleanups.push(() => server.close());
    const { fwd } = await tunnelTo('fin', server.port);
    const got = await new Promise<string>((resolve) => {
      const s = net.connect(fwd.port, '127.0.0.1');
      let data = '';
      s.on('data', (d) => (data += d.toString()));
      s.on('end', () => resolve(data));
    });
    expect(got.length).toBe(payload.length);
  });

  it("delivers the client's bytes before its FIN, and the endpoint sees EOF", async () => {
    let received = '';
    let sawEnd = false;
    const server = await startTcpServer((s) => {
      s.on('data', (d) => (received += d.toString()));
      s.on('end', () => (sawEnd = true));
    });
    cleanups.push(() => server.close());
    const { fwd } = await tunnelTo('sink', server.port);
    const s = net.connect(fwd.port, '127.0.0.1');
    s.end('y'.repeat(200_000));
    await waitFor(() => sawEnd, 20_000, 'EOF at the endpoint');
    expect(received.length).toBe(200_000);
  });

  it('stops the sender when the endpoint does not read, instead of buffering without bound', async () => {
    const server = await startTcpServer((s) => s.pause()); // never reads
    cleanups.push(() => server.close());
    const { env, fwd } = await tunnelTo('stalled', server.port);
    const s = net.connect(fwd.port, '127.0.0.1');
    await new Promise((r) => s.once('connect', r));
    const written = await writeUntilStalled(s);
    s.destroy();
    // Kernel buffers on four sockets plus bounded user-space queues: tens of MiB at most.
    expect(written).toBeLessThan(64 * 1024 * 1024);
    expect((await statusOf(env, 'stalled')).counters.bytesToEndpoint).toBeLessThan(64 * 1024 * 1024);
  });

  it('stops the endpoint when the app does not read, instead of buffering without bound', async () => {
    let written = 0;
    let stalled: () => void = () => undefined;
    const stalledOnce = new Promise<void>((resolve) => (stalled = resolve));
    // The endpoint floods: it writes until backpressure does not clear for a second.
    const server = await startTcpServer((s) => {
      void writeUntilStalled(s, (total) => (written = total)).then(() => stalled());
    });
    cleanups.push(() => server.close());
    const { env, fwd } = await tunnelTo('flood', server.port);
    const app = net.connect(fwd.port, '127.0.0.1');
    app.pause(); // the app never reads
    await stalledOnce;
    expect(written).toBeLessThan(64 * 1024 * 1024);
    expect((await statusOf(env, 'flood')).counters.bytesFromEndpoint).toBeLessThan(64 * 1024 * 1024);
    // Nothing was lost on the way: once the app reads, every byte the endpoint wrote arrives.
    let received = 0;
    app.on('data', (d: Buffer) => (received += d.length));
    app.resume();
    await waitFor(() => received >= written, 30_000, 'all bytes delivered after resuming');
    app.destroy();
  });
});
