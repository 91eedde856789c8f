import { rmSync } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { type Forwarder, type HcmEnv, hcm, hcmEnv, startForwarder } from '../helpers/agent.js';
import { type EmulatorProcess, startEmulator, testConfig, waitFor } from '../helpers/emulator.js';
import { type TcpServer, startEchoServer } from '../helpers/tcp-servers.js';
import { Figures } from './figures.js';
import { type ProbedAgent, SilenceableProxy, type StatusWatch, roundTrip, startProbedAgent, watchStatus } from './support.js';

/**
 * Issue 15, item 5, third fault: a control channel that dies silently — a proxy in the path
 * (SilenceableProxy) stops forwarding: no reset, no close, both sockets stay open, bytes vanish.
 * Only the agent's keep-alive can notice; with its real defaults (a ping every 25 s, 20 s for the
 * answer) it must notice and be listening again on a new channel within 60 s.
 *
 * The agent reaches the relay through the proxy (its connection string names the proxy's port;
 * the host stays testns.localhost, so TLS and the SAS audience are the relay's own). The relay runs
 * with a 30 s idle timeout, as a relay drops a listener that has gone quiet: the dead channel
 * leaves its routing before the agent's new one arrives (a healthy channel pings every 25 s).
 */

const LIMIT_MS = 60_000;

const figures = new Figures(3, 'Silently dead control channel (a proxy in the path stops forwarding)');
let emu: EmulatorProcess | undefined;
let env: HcmEnv | undefined;
let agent: ProbedAgent | undefined;
let watch: StatusWatch | undefined;
let fwd: Forwarder | undefined;
let proxy: SilenceableProxy | undefined;
let echo: TcpServer | undefined;

afterAll(async () => {
  watch?.close();
  await fwd?.stop();
  await agent?.stop('SIGKILL');
  await proxy?.close();
  await emu?.kill();
  await echo?.close();
  if (env) rmSync(env.home, { recursive: true, force: true });
  if (emu) rmSync(emu.stateDir, { recursive: true, force: true });
});

it('notices a control channel that went silent and listens again on a new one within 60 s (default keep-alive)', async () => {
  echo = await startEchoServer();
  emu = await startEmulator({
    config: testConfig([{ name: 'echo', endpoint: `127.0.0.1:${echo.port}` }]),
    args: ['--no-azure', '--idle-timeout', '30'],
  });
  proxy = await SilenceableProxy.start(emu.port);
  const listen = emu.hybridConnections.echo!.listen.replace(`:${emu.port}/`, `:${proxy.port}/`);
  expect(listen).toContain(`testns.localhost:${proxy.port}/`);
  env = hcmEnv(emu.ca, { HCM_UPDATE_CHECK: 'off' }); // keep-alive: the real defaults
  expect((await hcm(env, ['add', listen])).code).toBe(0);
  agent = await startProbedAgent(env);
  watch = await watchStatus(env, 'echo');
  await waitFor(() => watch!.status === 'Connected', 30_000, 'Connected');
  fwd = await startForwarder(env, emu.hybridConnections.echo!.send);
  expect((await roundTrip(fwd.port, 'before')).kind).toBe('ok');
  const proxiedBefore = proxy.connections;

  const silencedAt = Date.now();
  const silenced = proxy.silenceOpenConnections();
  expect(silenced).toBeGreaterThanOrEqual(1);
  const noticed = await watch.reached('NotConnected', silencedAt, LIMIT_MS + 30_000);
  const replaced = await watch.reached('Connected', noticed.at, LIMIT_MS + 30_000);
  const noticedMs = noticed.at - silencedAt;
  const replacedMs = replaced.at - silencedAt;
  figures.set('connections silenced', `${silenced} (the control channel and any idle relay connection)`);
  figures.set('silent → noticed (Not connected)', `${(noticedMs / 1000).toFixed(1)} s: "${noticed.lastError}"`);
  figures.set(
    'silent → listening again (Connected)',
    `${(replacedMs / 1000).toFixed(1)} s, ${replacedMs - noticedMs} ms after noticing (limit 60 s; keep-alive 25 s + 20 s)`,
  );
  figures.set('bytes the silent path swallowed', String(proxy.droppedBytes));

  expect(noticed.lastError).toMatch(/did not answer a keep-alive ping/);
  expect(replacedMs).toBeLessThan(LIMIT_MS);
  // The new channel is a new flow through the proxy, and it carries connections.
  expect(proxy.connections).toBeGreaterThan(proxiedBefore);
  const after = await Promise.all([1, 2, 3].map((i) => roundTrip(fwd!.port, `after ${i}`)));
  figures.set('connections after the replacement', `${after.filter((r) => r.kind === 'ok').length} of ${after.length} worked`);
  expect(after.map((r) => r.kind)).toEqual(['ok', 'ok', 'ok']);
  expect(watch.status).toBe('Connected');
  figures.passed();
});
