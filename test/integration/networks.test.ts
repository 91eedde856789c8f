import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionDetails, TestStep } from '../../src/shared/api.js';
import { type HcmEnv, hcm, hcmEnv, listLive, startAgent, startForwarder } from '../helpers/agent.js';
import { type EmulatorProcess, startEmulator, testConfig, waitFor } from '../helpers/emulator.js';
import { type TcpServer, startEchoServer } from '../helpers/tcp-servers.js';
import { echoText } from '../helpers/tunnel.js';

/**
 * Networks (issue 15, items 3 and 4), with real processes: a relay whose clock is off (the
 * emulator's --clock-offset shifts its Date headers and the time it judges tokens by) refuses the
 * agent's tokens, and the status, the 401 of hcm add and hcm test say the clock is why; a relay a
 * little off still works, with a warning. A relay that hands out rendezvous addresses on several
 * gateway hosts (--gateways) shows them in hcm show, and hcm test checks TCP and TLS to each.
 */

let echo: TcpServer;
const config = () => testConfig([{ name: 'orders', endpoint: `127.0.0.1:${echo.port}` }]);
beforeAll(async () => {
  echo = await startEchoServer();
});
afterAll(async () => {
  await echo?.close();
});

const add = (env: HcmEnv, cs: string) => hcm({ ...env, env: { ...env.env, CS: cs } }, ['add', '--from-env', 'CS']);
const CLOCK_SENTENCE =
  /this machine's clock is (\d+(?:\.\d)?) minutes? off \(relay time (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ), this machine is (behind|ahead)\)/;

async function testJson(env: HcmEnv, name: string): Promise<{ code: number | null; ok: boolean; steps: TestStep[] }> {
  const r = await hcm(env, ['test', name, '--json']);
  const parsed = JSON.parse(r.stdout) as { ok: boolean; steps: TestStep[] };
  return { code: r.code, ...parsed };
}

async function details(env: HcmEnv, name: string): Promise<ConnectionDetails & { agentRunning: boolean }> {
  const r = await hcm(env, ['show', name, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as ConnectionDetails & { agentRunning: boolean };
}

describe('a relay whose clock is far ahead of this machine', () => {
  it('hcm add: the 401 of the runtime-information GET says the clock is why', async () => {
    // Two hours: even the agent's one-hour tokens are expired in the relay's eyes.
    const emulator = await startEmulator({ config: config(), args: ['--clock-offset', '7200'] });
    try {
      const env = hcmEnv(emulator.ca);
      const r = await add(env, emulator.hybridConnections.orders!.listen);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('the relay refused the key (401)');
      const [, minutes, , direction] = CLOCK_SENTENCE.exec(r.stderr) ?? [];
      expect(minutes).toBe('120');
      expect(direction).toBe('behind');
      expect(r.stderr).toContain('so its tokens expire 120 minutes early in the relay');
    } finally {
      await emulator.stop();
    }
  });

  it('the agent: Unauthorized with the clock in its text, and hcm test fails its Clock step with the same sentence', async () => {
    // Seven minutes: the 10-minute token of hcm add's GET still passes, the agent's 2-minute tokens do not.
    const emulator = await startEmulator({ config: config(), args: ['--clock-offset', '420'] });
    try {
      const env = hcmEnv(emulator.ca, { HCM_TOKEN_TTL_SECONDS: '120' });
      const added = await add(env, emulator.hybridConnections.orders!.listen);
      expect(added.code, added.stderr).toBe(0);
      const agent = await startAgent(env);
      try {
        await waitFor(async () => (await listLive(env))[0]?.status === 'Unauthorized', 20_000, 'Unauthorized');
        const [row] = await listLive(env);
        expect(row!.lastError!.message).toMatch(/^the relay refused the key \(401: InvalidSignature: token expired at /);
        const status = CLOCK_SENTENCE.exec(row!.lastError!.message);
        expect(status?.[1]).toBe('7');
        expect(status?.[3]).toBe('behind');
        // The relay time it names is the relay's, seven minutes from this machine's.
        expect(Math.abs(Date.parse(status![2]!) - Date.now() - 420_000)).toBeLessThan(30_000);

        const shown = await details(env, 'orders');
        expect(shown.status).toBe('Unauthorized');
        expect(shown.clockSkewSeconds).toBeGreaterThanOrEqual(-422);
        expect(shown.clockSkewSeconds).toBeLessThanOrEqual(-418);
        expect(shown.clockProblem).toMatch(CLOCK_SENTENCE);
        const text = await hcm(env, ['show', 'orders']);
        expect(text.stdout).toMatch(/Clock\s+this machine's clock is 7 minutes off \(relay time .*\): set the clock right \(NTP\)/);

        const test = await testJson(env, 'orders');
        expect(test.code).toBe(1);
        const clock = test.steps.find((s) => s.name.startsWith('Clock relay'))!;
        expect(clock).toMatchObject({ name: 'Clock relay testns.localhost', ok: false });
        expect(CLOCK_SENTENCE.exec(clock.detail)?.slice(1, 4)).toEqual(['7', expect.any(String), 'behind']);
        expect(clock.detail).toContain('SAS tokens look expired to the relay: set the clock right (NTP)');
        // Everything else about the network is fine: only the clock fails.
        expect(test.steps.filter((s) => !s.ok).map((s) => s.name)).toEqual(['Clock relay testns.localhost']);
        const table = await hcm(env, ['test', 'orders']);
        expect(table.stdout).toMatch(/Clock relay testns\.localhost\s+FAILED\s+\d+ ms\s+this machine's clock is 7 minutes off/);
      } finally {
        await agent.stop();
      }
    } finally {
      await emulator.stop();
    }
  });
});

describe('a relay whose clock is a little behind this machine', () => {
  it('still works: Connected, a warning in the log, the details and hcm test, which passes', async () => {
    const emulator = await startEmulator({ config: config(), args: ['--clock-offset=-90'] });
    try {
      const env = hcmEnv(emulator.ca);
      expect((await add(env, emulator.hybridConnections.orders!.listen)).code).toBe(0);
      const agent = await startAgent(env, { waitConnected: 1 });
      try {
        const [row] = await listLive(env);
        expect(row!.status).toBe('Connected');
        expect(row!.lastError).toBeNull();
        await waitFor(() => agent.output().includes("this machine's clock is 1.5 minutes off"), 10_000, 'the clock warning');
        expect(agent.output()).toMatch(
          /WARN.*this machine's clock is 1\.5 minutes off \(relay time .*, this machine is ahead\); SAS tokens are refused once it is off by more than their lifetime/i,
        );
        const shown = await details(env, 'orders');
        expect(shown.clockSkewSeconds).toBeGreaterThanOrEqual(88);
        expect(shown.clockSkewSeconds).toBeLessThanOrEqual(92);
        expect(shown.clockProblem).toMatch(/^this machine's clock is 1\.5 minutes off \(relay time .*, this machine is ahead\)$/);

        const test = await testJson(env, 'orders');
        expect(test.code).toBe(0);
        expect(test.ok).toBe(true);
        expect(test.steps.find((s) => s.name.startsWith('Clock relay'))).toMatchObject({ ok: true, warning: true });
        const table = await hcm(env, ['test', 'orders']);
        expect(table.stdout).toMatch(
          /Clock relay testns\.localhost\s+warning\s+\d+ ms\s+this machine's clock is 1\.5 minutes off .*; tokens still work, but set the clock right \(NTP\)/,
        );
      } finally {
        await agent.stop();
      }
    } finally {
      await emulator.stop();
    }
  });
});

describe('a relay with several gateways', () => {
  let emulator: EmulatorProcess;
  beforeAll(async () => {
    emulator = await startEmulator({ config: config(), args: ['--gateways', '3'] });
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it('hcm show lists the relay hosts the agent connected to, and hcm test checks TCP and TLS to each', async () => {
    const env = hcmEnv(emulator.ca);
    expect((await add(env, emulator.hybridConnections.orders!.listen)).code).toBe(0);
    const agent = await startAgent(env, { waitConnected: 1 });
    try {
      const before = await details(env, 'orders');
      expect(before.gatewayHosts).toEqual(['testns.localhost']);
      const fwd = await startForwarder(env, emulator.hybridConnections.orders!.send);
      try {
        for (let i = 0; i < 6; i++) expect(await echoText(fwd.port, `hello ${i}`)).toBe(`hello ${i}`);
      } finally {
        await fwd.stop();
      }
      const port = emulator.port;
      const shown = await details(env, 'orders');
      expect(shown.gatewayHosts).toEqual(['testns.localhost', 'g1-testns.localhost', 'g2-testns.localhost', 'g3-testns.localhost']);
      expect(shown.gateways!.map((g) => [g.host, g.port, g.role])).toEqual([
        ['testns.localhost', port, 'control'],
        ['g1-testns.localhost', port, 'rendezvous'],
        ['g2-testns.localhost', port, 'rendezvous'],
        ['g3-testns.localhost', port, 'rendezvous'],
      ]);
      for (const g of shown.gateways!) expect(Date.now() - Date.parse(g.lastSeen)).toBeLessThan(60_000);

      const text = (await hcm(env, ['show', 'orders'])).stdout;
      expect(text).toMatch(new RegExp(`Relay hosts\\s+testns\\.localhost:${port}\\s+control channel, last \\d{4}-`));
      for (const n of [1, 2, 3]) expect(text).toMatch(new RegExp(`^\\s+g${n}-testns\\.localhost:${port}\\s+rendezvous, last \\d{4}-`, 'm'));
      expect(text).toContain(`(allow outbound TCP ${port} to each; hcm test orders checks them)`);

      const test = await testJson(env, 'orders');
      expect(test.code).toBe(0);
      const names = test.steps.map((s) => s.name);
      for (const n of [1, 2, 3]) {
        expect(names).toContain(`TCP gateway g${n}-testns.localhost:${port}`);
        expect(names).toContain(`TLS gateway g${n}-testns.localhost`);
      }
      expect(test.steps.filter((s) => s.name.startsWith('TLS gateway')).every((s) => s.ok && /certificate for/.test(s.detail))).toBe(true);
      expect(test.steps.find((s) => s.name.startsWith('Clock relay'))).toMatchObject({ ok: true });
    } finally {
      await agent.stop();
    }
  });

  // Last: it stops the relay.
  it('hcm test fails a gateway the firewall would block (here: one that no longer answers)', async () => {
    const env = hcmEnv(emulator.ca);
    expect((await add(env, emulator.hybridConnections.orders!.listen)).code).toBe(0);
    const agent = await startAgent(env, { waitConnected: 1 });
    try {
      const fwd = await startForwarder(env, emulator.hybridConnections.orders!.send);
      try {
        expect(await echoText(fwd.port, 'once')).toBe('once');
      } finally {
        await fwd.stop();
      }
      await waitFor(async () => ((await details(env, 'orders')).gateways ?? []).some((g) => g.role === 'rendezvous'), 10_000, 'a gateway');
      const port = emulator.port;
      await emulator.stop();
      const test = await testJson(env, 'orders');
      expect(test.code).toBe(1);
      const tcp = test.steps.find((s) => s.name.startsWith('TCP gateway'))!;
      expect(tcp.name).toMatch(new RegExp(`^TCP gateway g\\d-testns\\.localhost:${port}$`));
      expect(tcp).toMatchObject({ ok: false, detail: expect.stringMatching(/refused/) });
    } finally {
      await agent.stop();
    }
  });
});
