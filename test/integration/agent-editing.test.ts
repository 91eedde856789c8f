import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HcmEnv, hcm, hcmEnv, listLive, startAgent, startForwarder } from '../helpers/agent.js';
import { type EmulatorProcess, KEYS, startEmulator, testConfig, waitFor } from '../helpers/emulator.js';
import { startEchoServer } from '../helpers/tcp-servers.js';
import { echoText } from '../helpers/tunnel.js';

/**
 * Changing a connection in place instead of re-adding it (issue 12, items 3 and 8): a rule
 * without Listen is refused before anything is saved, keys are rotated with `hcm set-key`, a
 * hand-set endpoint is changed with `hcm set-endpoint`, and the log level changes at run time.
 */

let emulator: EmulatorProcess;
const config = testConfig([{ name: 'orders', endpoint: '127.0.0.1:9' }, { name: 'legacy' }]);
beforeAll(async () => {
  emulator = await startEmulator({ config });
});
afterAll(async () => {
  await emulator?.stop();
});

const add = (env: HcmEnv, cs: string, ...args: string[]) =>
  hcm({ ...env, env: { ...env.env, CS: cs } }, ['add', '--from-env', 'CS', ...args]);

describe('a rule that can only send', () => {
  it('is refused before saving, with what to copy instead, when no listener is online (the relay is asked)', async () => {
    const env = hcmEnv(emulator.ca);
    const r = await add(env, emulator.hybridConnections.orders!.send);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('This policy can only send: copy the defaultListener connection string instead');
    expect(r.stderr).toContain('The relay refused to let "defaultSender" listen');
    expect((await hcm(env, ['list', '--json'])).stdout).toContain('"connections": []');
  });

  it('is refused by its name when other agents listen, and "already added" does not hide it', async () => {
    const env = hcmEnv(emulator.ca);
    expect((await add(env, emulator.hybridConnections.orders!.listen)).code).toBe(0);
    const agent = await startAgent(env, { waitConnected: 1 });
    try {
      const r = await add(env, emulator.hybridConnections.orders!.send);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('This policy can only send');
      expect(r.stderr).toContain('Judged from the rule\'s name "defaultSender"');
    } finally {
      await agent.stop();
    }
  });
});

describe('editing in place', () => {
  it('rotates a key with set-key: Unauthorized after the rotation, Connected again with the new string', async () => {
    const env = hcmEnv(emulator.ca);
    expect((await add(env, emulator.hybridConnections.orders!.listen)).code).toBe(0);
    const agent = await startAgent(env, { waitConnected: 1, args: [] });
    try {
      const rotated = structuredClone(config);
      const newKey = 'Um90YXRlZExpc3RlbktleUZvclRlc3RzT25seTAxMjM=';
      rotated.namespaces[0]!.hybridConnections[0]!.rules[0]!.primaryKey = newKey;
      expect(await emulator.reload(rotated)).toBe('reloaded');
      await hcm(env, ['restart', 'orders']);
      await waitFor(async () => (await listLive(env))[0]!.status === 'Unauthorized', 20_000, 'Unauthorized');
      const wrong = await hcm({ ...env, env: { ...env.env, CS: emulator.hybridConnections.legacy!.listen } }, [
        'set-key',
        'orders',
        '--from-env',
        'CS',
      ]);
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toMatch(/this connection string is for \S+\/legacy, not \S+\/orders/);
      const fresh = emulator.hybridConnections.orders!.listen.replace(KEYS.listen, newKey);
      const r = await hcm({ ...env, env: { ...env.env, CS: fresh } }, ['set-key', 'orders', '--from-env', 'CS']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/replaced the connection string of \S+\/orders \(rule defaultListener\); reconnecting with it/);
      await waitFor(async () => (await listLive(env))[0]!.status === 'Connected', 20_000, 'Connected with the new key');
    } finally {
      await emulator.reload(config);
      await agent.stop();
    }
  });

  it('changes a hand-set endpoint with set-endpoint, and refuses for a metadata endpoint', async () => {
    const env = hcmEnv(emulator.ca);
    expect((await add(env, emulator.hybridConnections.legacy!.listen, '--endpoint', '127.0.0.1:7000')).code).toBe(0);
    expect((await add(env, emulator.hybridConnections.orders!.listen)).code).toBe(0);
    const r = await hcm(env, ['set-endpoint', 'legacy', 'db.internal:5433']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\/legacy -> db\.internal:5433/);
    expect((await hcm(env, ['show', 'legacy'])).stdout).toMatch(/Endpoint\s+db\.internal:5433 \(set by hand\)/);
    const refused = await hcm(env, ['set-endpoint', 'orders', 'elsewhere:1']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("comes from the Hybrid Connection's metadata in Azure");
    const bad = await hcm(env, ['set-endpoint', 'legacy', 'no-port']);
    expect(bad.code).toBe(1);
  });

  it('shows and changes the log level of the running agent', async () => {
    const env = hcmEnv(emulator.ca);
    const agent = await startAgent(env);
    try {
      expect((await hcm(env, ['log-level'])).stdout.trim()).toBe('info');
      expect((await hcm(env, ['log-level', 'debug'])).code).toBe(0);
      expect((await hcm(env, ['log-level'])).stdout.trim()).toBe('debug');
      expect((await hcm(env, ['log-level', 'loud'])).code).toBe(2);
    } finally {
      await agent.stop();
    }
    expect((await hcm(env, ['log-level'])).code).toBe(3);
  });

  it('pins the endpoint: a change in Azure is shown and logged, not followed, until it is accepted', async () => {
    const first = await startEchoServer();
    const second = await startEchoServer();
    const pinned = testConfig([{ name: 'pinned', endpoint: `127.0.0.1:${first.port}` }]);
    const emu = await startEmulator({ config: pinned });
    const env = hcmEnv(emu.ca);
    try {
      expect((await add(env, emu.hybridConnections.pinned!.listen)).code).toBe(0);
      const agent = await startAgent(env, { waitConnected: 1 });
      const fwd = await startForwarder(env, emu.hybridConnections.pinned!.send);
      try {
        const moved = testConfig([{ name: 'pinned', endpoint: `127.0.0.1:${second.port}` }]);
        expect(await emu.reload(moved)).toBe('reloaded');
        await hcm(env, ['restart', 'pinned']); // the metadata is read again at every connect
        await waitFor(async () => (await listLive(env))[0]!.endpointChange !== null, 20_000, 'the change seen');
        const [row] = await listLive(env);
        expect(row!.endpointChange).toMatchObject({ from: `127.0.0.1:${first.port}`, to: `127.0.0.1:${second.port}` });
        expect(row!.endpoint).toBe(`127.0.0.1:${first.port}`);
        const show = await hcm(env, ['show', 'pinned']);
        expect(show.stdout).toContain(`endpoint changed in Azure: 127.0.0.1:${first.port} → 127.0.0.1:${second.port}`);
        expect((await hcm(env, ['list'])).stdout).toContain('Connected (endpoint changed in Azure)');
        expect(agent.output()).toContain(`endpoint changed in Azure: 127.0.0.1:${first.port} → 127.0.0.1:${second.port}; still using`);
        // New connections still reach the pinned endpoint.
        const before = second.connections;
        await echoText(fwd.port, 'still the first');
        expect(second.connections).toBe(before);

        const accepted = await hcm(env, ['endpoint', 'accept', 'pinned']);
        expect(accepted.code, accepted.stderr).toBe(0);
        expect(accepted.stdout).toContain(`-> 127.0.0.1:${second.port}`);
        expect((await listLive(env))[0]!.endpointChange).toBeNull();
        await echoText(fwd.port, 'now the second');
        expect(second.connections).toBe(before + 1);
        expect((await hcm(env, ['endpoint', 'accept', 'pinned'])).stderr).toContain('no endpoint change is pending');
      } finally {
        await fwd.stop();
        await agent.stop();
      }
    } finally {
      await emu.stop();
      await first.close();
      await second.close();
    }
  });
});
