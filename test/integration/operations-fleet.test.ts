import { randomBytes } from 'node:crypto';
import { lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Forwarder, type HcmEnv, type RunningProcess, hcm, hcmEnv, listLive, startAgent, startForwarder } from '../helpers/agent.js';
import { type EmulatorProcess, KEYS, startEmulator, testConfig, waitFor } from '../helpers/emulator.js';
import { type TcpServer, startEchoServer } from '../helpers/tcp-servers.js';
import { addConnection, connectTcp, echoRoundTrip, firstDifference, removeDir, removeHome } from '../helpers/tunnel.js';

/**
 * A fleet (issue 16, item 6): the same Hybrid Connections carried to another machine with hcm
 * export / hcm import (keys only when asked, the file 0600), and the README's "Run two or more for
 * redundancy" measured: two agents on one Hybrid Connection under continuous load, one stopped
 * (SIGTERM, as systemctl stop does) and, on another run, killed: no connection opened after the
 * relay dropped the stopped one fails (a kill loses the few the relay had just handed to the dead
 * agent; a clean stop loses none). The figures are printed for the README.
 */

let echo: TcpServer | undefined;
let emu: EmulatorProcess | undefined;
let a: HcmEnv | undefined;
let b: HcmEnv | undefined;
let client: HcmEnv | undefined;
let agentB: RunningProcess | undefined;
let forwarder: Forwarder | undefined;

beforeAll(async () => {
  echo = await startEchoServer();
  emu = await startEmulator({
    config: testConfig([{ name: 'hc-one', endpoint: `127.0.0.1:${echo.port}` }, { name: 'hc-two' }]),
  });
  a = hcmEnv(emu.ca);
  b = hcmEnv(emu.ca);
  client = hcmEnv(emu.ca);
  await addConnection(a, emu.hybridConnections['hc-one']!.listen);
  const withCs = { ...a, env: { ...a.env, CS: emu.hybridConnections['hc-two']!.listen } };
  const manual = await hcm(withCs, ['add', '--from-env', 'CS', '--endpoint', `127.0.0.1:${echo.port}`], 60_000);
  expect(manual.code, manual.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await forwarder?.stop();
  await agentB?.stop('SIGKILL');
  await emu?.stop();
  await echo?.close();
  for (const e of [a, b, client]) removeHome(e);
  removeDir(emu?.stateDir);
});

describe('hcm export / hcm import', () => {
  it('carries the connections to another machine, keys only with --with-keys, in 0600 files', async () => {
    const bare = join(a!.home, 'fleet.json');
    const keyed = join(a!.home, 'fleet-keys.json');
    expect((await hcm(a!, ['export', '-o', bare])).code).toBe(0);
    const withKeys = await hcm(a!, ['export', '--with-keys', '-o', keyed]);
    expect(withKeys.code, withKeys.stderr).toBe(0);
    expect(withKeys.stderr).toContain('keys included');
    for (const f of [bare, keyed]) expect(lstatSync(f).mode & 0o777).toBe(0o600);
    expect(readFileSync(bare, 'utf8')).not.toContain(KEYS.listen);
    expect(readFileSync(keyed, 'utf8')).toContain(KEYS.listen);
    const piped = await hcm(a!, ['export']);
    expect(JSON.parse(piped.stdout).connections.map((c: { id: string; endpointSource: string }) => [c.id, c.endpointSource])).toEqual([
      ['testns/hc-one', 'metadata'],
      ['testns/hc-two', 'manual'],
    ]);

    agentB = await startAgent(b!);
    // Without keys: nothing can be added (these were not added through Azure), and it says why.
    const skipped = await hcm(b!, ['import', bare]);
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.stdout).toMatch(/skipped\s+testns\/hc-one: the file has no key for it/);
    // With keys: both, into the running agent, which listens at once; the hand-set endpoint kept.
    const imported = await hcm(b!, ['import', keyed, '--json']);
    expect(imported.code, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({
      agentRunning: true,
      outcomes: [
        { id: 'testns/hc-one', result: 'added' },
        { id: 'testns/hc-two', result: 'added' },
      ],
    });
    await waitFor(async () => (await listLive(b!)).filter((c) => c.status === 'Connected').length === 2, 30_000, 'both Connected on B');
    const two = (await listLive(b!)).find((c) => c.name === 'hc-two')!;
    expect(two.endpoint).toBe(`127.0.0.1:${echo!.port}`);
    const again = await hcm(b!, ['import', keyed]);
    expect(again.stdout).toMatch(/already-here\s+testns\/hc-one/);
    expect(again.stdout + again.stderr).not.toContain(KEYS.listen);
    const junk = await hcm(b!, ['import', join(a!.home, 'config.json')]);
    expect(junk.code).toBe(1);
    expect(junk.stderr).toContain('is not an HCM export');
  });
});

async function listenerCount(hc: string): Promise<number> {
  const r = await emu!.admin(hc);
  return (JSON.parse(r.text) as { listeners: number }).listeners;
}

/** New connections back to back from `workers` clients until `until` resolves; each failure with the time it was opened. */
async function continuousLoad(
  port: number,
  workers: number,
  until: Promise<void>,
): Promise<{ ok: number; failures: Array<{ at: number; why: string }> }> {
  let running = true;
  void until.then(() => (running = false));
  let ok = 0;
  const failures: Array<{ at: number; why: string }> = [];
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (running) {
        const at = Date.now();
        try {
          const s = await connectTcp(port);
          try {
            const payload = randomBytes(2048);
            const back = await echoRoundTrip(s, payload);
            if (firstDifference(back, payload) !== -1) throw new Error('echo differs');
            ok++;
          } finally {
            s.destroy();
          }
        } catch (err) {
          failures.push({ at, why: (err as Error).message });
        }
      }
    }),
  );
  return { ok, failures };
}

describe('Run two or more for redundancy (measured)', () => {
  for (const how of ['SIGTERM', 'SIGKILL'] as const) {
    it(`two agents on one Hybrid Connection, one stopped with ${how}: no new connection fails after the relay drops it`, async () => {
      forwarder ??= await startForwarder(client!, emu!.hybridConnections['hc-one']!.send);
      const agentA = await startAgent(a!, { args: ['--grace', '5'] });
      await waitFor(async () => (await listenerCount('hc-one')) === 2, 30_000, 'two listeners');
      let stopLoad!: () => void;
      const load = continuousLoad(forwarder.port, 4, new Promise<void>((r) => (stopLoad = r)));
      await new Promise((r) => setTimeout(r, 1_500));
      const stoppedAt = Date.now();
      const exited = agentA.stop(how);
      await waitFor(async () => (await listenerCount('hc-one')) === 1, 60_000, 'the relay to drop the stopped agent');
      const droppedAt = Date.now();
      await exited;
      await new Promise((r) => setTimeout(r, 2_000));
      stopLoad();
      const { ok, failures } = await load;
      const after = failures.filter((f) => f.at > droppedAt);
      const before = failures.filter((f) => f.at <= droppedAt);
      console.log(
        `redundancy, ${how}: relay dropped the stopped agent after ${droppedAt - stoppedAt} ms; ${ok} connections ok, ` +
          `${before.length} opened before the drop failed, ${after.length} opened after it`,
      );
      expect(after, after.map((f) => f.why).join('\n')).toEqual([]);
      if (how === 'SIGTERM') expect(before, before.map((f) => f.why).join('\n')).toEqual([]); // a clean stop loses nothing
      expect(ok).toBeGreaterThan(50);
    }, 120_000);
  }
});
