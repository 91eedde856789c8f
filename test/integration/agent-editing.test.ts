import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HcmEnv, hcm, hcmEnv, listLive, startAgent } from '../helpers/agent.js';
import { type EmulatorProcess, KEYS, startEmulator, testConfig, waitFor } from '../helpers/emulator.js';

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
});
