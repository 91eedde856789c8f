import { rmSync } from 'node:fs';
import net from 'node:net';
import { afterAll, expect, it } from 'vitest';
import { type Forwarder, type HcmEnv, hcm, hcmEnv, startForwarder } from '../helpers/agent.js';
import { type EmulatorProcess, startEmulator, testConfig, waitFor } from '../helpers/emulator.js';
import { freePort } from '../helpers/ports.js';
import { Figures } from './figures.js';
import {
  type ProbedAgent,
  type RoundTripOutcome,
  type StatusWatch,
  countMatches,
  openFds,
  roundTrip,
  settlesAtMost,
  sleep,
  startProbedAgent,
  watchStatus,
} from './support.js';

/**
 * Issue 15, item 5, second fault: an endpoint that flaps — listening for a second, gone for a
 * second — for a minute, while apps keep connecting through `hcm connect`. Connections that meet
 * it down must fail cleanly (502 with the reason, at the app within seconds), the others must
 * work, and the agent's counters must add up with what the apps saw.
 */

const FLAP_FOR_MS = 60_000;
const HALF_PERIOD_MS = 1000;
/** Apps connecting at the same time, each one connection after another. */
const CLIENTS = 2;

const figures = new Figures(2, `Flapping endpoint, up/down every ${HALF_PERIOD_MS / 1000} s for ${FLAP_FOR_MS / 1000} s`);
let emu: EmulatorProcess | undefined;
let env: HcmEnv | undefined;
let agent: ProbedAgent | undefined;
let watch: StatusWatch | undefined;
let fwd: Forwarder | undefined;
let endpoint: FlappingEndpoint | undefined;

afterAll(async () => {
  watch?.close();
  await fwd?.stop();
  await agent?.stop('SIGKILL');
  await emu?.kill();
  await endpoint?.stop();
  if (env) rmSync(env.home, { recursive: true, force: true });
  if (emu) rmSync(emu.stateDir, { recursive: true, force: true });
});

/** An echo server that listens and stops listening in turn; connections it accepted run to their end. */
class FlappingEndpoint {
  private server: net.Server | undefined;
  private timer: NodeJS.Timeout | undefined;
  accepted = 0;
  transitions = 0;

  constructor(readonly port: number) {}

  async up(): Promise<void> {
    const server = net.createServer((s) => {
      this.accepted++;
      s.on('error', () => undefined);
      s.pipe(s);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  down(): void {
    this.server?.close();
    this.server = undefined;
  }

  flap(halfPeriodMs: number): void {
    const tick = async () => {
      this.transitions++;
      if (this.server) this.down();
      else await this.up();
      this.timer = setTimeout(() => void tick(), halfPeriodMs);
    };
    this.timer = setTimeout(() => void tick(), halfPeriodMs);
  }

  /** Stops flapping and leaves it listening. */
  async steady(): Promise<void> {
    clearTimeout(this.timer);
    if (!this.server) await this.up();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.down();
  }
}

it('a flapping endpoint: failures are clean 502s with the reason, the rest work, the counters add up', async () => {
  const port = await freePort();
  endpoint = new FlappingEndpoint(port);
  await endpoint.up();
  emu = await startEmulator({ config: testConfig([{ name: 'flappy', endpoint: `127.0.0.1:${port}` }]), args: ['--no-azure'] });
  env = hcmEnv(emu.ca, { HCM_UPDATE_CHECK: 'off' });
  expect((await hcm(env, ['add', emu.hybridConnections.flappy!.listen])).code).toBe(0);
  agent = await startProbedAgent(env);
  watch = await watchStatus(env, 'flappy');
  await waitFor(() => watch!.status === 'Connected', 30_000, 'Connected');
  fwd = await startForwarder(env, emu.hybridConnections.flappy!.send);
  expect((await roundTrip(fwd.port, 'warm-up')).kind).toBe('ok');
  await waitFor(() => watch!.latest?.counters.activeConnections === 0, 20_000, 'no open tunnel');
  await sleep(1000);
  const fdsBefore = openFds(agent.pid).total;
  const countersBefore = { ...watch.latest!.counters };
  const logBefore = agent.output().length;
  const fwdLogBefore = fwd.output().length;
  const statusChangesBefore = watch.changes.length;

  endpoint.flap(HALF_PERIOD_MS);
  const outcomes: RoundTripOutcome[] = [];
  const until = Date.now() + FLAP_FOR_MS;
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      for (let n = 0; Date.now() < until; n++) outcomes.push(await roundTrip(fwd!.port, `client ${client} connection ${n}`));
    }),
  );
  await endpoint.steady();

  await waitFor(() => watch!.latest?.counters.activeConnections === 0, 20_000, 'no open tunnel');
  await sleep(1500); // the last counters event (throttled) and log lines
  const c = watch.latest!.counters;
  const total = c.totalConnections - countersBefore.totalConnections;
  const failed = c.failedConnections - countersBefore.failedConnections;
  const ok = outcomes.filter((o) => o.kind === 'ok').length;
  const closed = outcomes.filter((o) => o.kind === 'closed');
  const wrong = outcomes.filter((o) => o.kind === 'wrong');
  const agentLog = agent.output().slice(logBefore);
  const fwdLog = fwd.output().slice(fwdLogBefore);
  const bridgedAndEnded = countMatches(agentLog, /connection(?: from \S+)? ended after/);
  // Each failure, with its reason, as the agent logged it and as the app's side (hcm connect) was told.
  const where = `endpoint 127\\.0\\.0\\.1:${port} `;
  const notBridged = countMatches(agentLog, /not bridged: /);
  const notBridgedRefused = countMatches(agentLog, new RegExp(`not bridged: ${where}refused the connection`));
  const toApps502 = countMatches(fwdLog, new RegExp(`the relay refused the connection: 502 ${where}`));
  const toApps502Refused = countMatches(fwdLog, new RegExp(`the relay refused the connection: 502 ${where}refused the connection`));
  // Rarely another reason: a connect that the endpoint's kernel completed from its accept queue and
  // then reset as the listener closed fails with "could not be reached: connect ECONNRESET".
  const otherReasons = tally(agentLog, /not bridged: (.*)$/gm, (r) => !/refused the connection/.test(r));
  const otherAtApps = tally(fwdLog, /^\S+ (?:WARN|ERROR) (.*)$/gm, (r) => !/: 502 endpoint \S+ refused the connection/.test(r));
  // Bridged, then cut by the endpoint before a byte came back: a connection still in the
  // endpoint's accept queue when it stopped listening is reset by the kernel. Not the tunnel's doing.
  const cutByEndpoint = bridgedAndEnded - ok;
  const slowestFailureMs = Math.max(0, ...closed.map((o) => o.ms));
  const fdsAfter = await settlesAtMost(() => openFds(agent!.pid).total, fdsBefore, 20_000);

  figures.set('connections made', `${outcomes.length} by ${CLIENTS} apps (${endpoint.transitions} up/down changes)`);
  figures.set('worked / failed / wrong', `${ok} / ${closed.length} / ${wrong.length}`);
  figures.set(
    'failures that were a 502 with the reason',
    `${toApps502} of ${closed.length - cutByEndpoint}, ${toApps502Refused} of them "502 endpoint 127.0.0.1:${port} refused the connection"`,
  );
  figures.set('slowest failure at the app', `${slowestFailureMs} ms`);
  figures.set(
    'agent: total = bridged + failed',
    `${total} = ${total - failed} + ${failed} (apps: ${outcomes.length} = ${ok + cutByEndpoint} + ${closed.length - cutByEndpoint})`,
  );
  figures.set('bridged, then reset by the endpoint', `${cutByEndpoint} (in its accept queue when it stopped listening)`);
  figures.set('other failure reasons (agent)', show(otherReasons));
  figures.set('other messages at the apps (hcm connect)', show(otherAtApps));
  figures.set('status changes while flapping', String(watch.changes.length - statusChangesBefore));
  figures.set('agent descriptors before → after', `${fdsBefore} → ${fdsAfter}`);

  expect(wrong.map((w) => (w.kind === 'wrong' ? w.detail : ''))).toEqual([]);
  expect(ok).toBeGreaterThan(0);
  expect(closed.length).toBeGreaterThan(0);
  // Every connection the apps made reached the agent, and each was either bridged or failed.
  expect(total).toBe(outcomes.length);
  expect(total).toBe(bridgedAndEnded + notBridged);
  expect(failed).toBe(notBridged);
  // Every failure reached the app as a 502 with the endpoint's reason; nearly all of them "refused".
  expect(toApps502).toBe(failed);
  expect(toApps502Refused).toBe(notBridgedRefused);
  expect(notBridgedRefused).toBeGreaterThanOrEqual(failed - endpoint.transitions);
  for (const message of otherAtApps.keys()) expect(message).toMatch(new RegExp(`^the relay refused the connection: 502 ${where}`));
  expect(closed.length).toBe(failed + cutByEndpoint);
  expect(cutByEndpoint).toBeGreaterThanOrEqual(0);
  expect(cutByEndpoint).toBeLessThanOrEqual(endpoint.transitions);
  expect(slowestFailureMs).toBeLessThan(10_000);
  // The endpoint's trouble is not the control channel's: Connected throughout.
  expect(watch.changes.length - statusChangesBefore).toBe(0);
  expect(watch.status).toBe('Connected');
  expect(fdsAfter).toBeLessThanOrEqual(fdsBefore);
  figures.passed();
});

/** Distinct captured texts, of the matches `keep` accepts, with their counts. */
function tally(text: string, re: RegExp, keep: (captured: string) => boolean): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of text.matchAll(re)) if (keep(m[1]!)) counts.set(m[1]!, (counts.get(m[1]!) ?? 0) + 1);
  return counts;
}

function show(counts: Map<string, number>): string {
  return counts.size ? [...counts].map(([t, n]) => `"${t}" ×${n}`).join('; ') : 'none';
}
