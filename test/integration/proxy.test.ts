import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HcmEnv, hcm, hcmEnv, listLive, startAgent, startForwarder } from '../helpers/agent.js';
import { type EmulatorProcess, startEmulator, testConfig, waitFor } from '../helpers/emulator.js';
import { startEchoServer, type TcpServer } from '../helpers/tcp-servers.js';
import { echoText } from '../helpers/tunnel.js';
import { type Tinyproxy, startTinyproxy } from '../helpers/tinyproxy.js';
import { freePort } from '../helpers/ports.js';

/**
 * Behind a corporate proxy (issue 15, item 1), with a real tinyproxy: every connection the agent
 * makes to the relay — the runtime-information GET, the control channel, each rendezvous, and the
 * checks of hcm test — goes through it (its log shows the CONNECTs); a wrong, refusing or
 * authentication-demanding proxy is reported by name; credentials are kept with the keys.
 */

let emulator: EmulatorProcess;
let echo: TcpServer;
beforeAll(async () => {
  echo = await startEchoServer();
  emulator = await startEmulator({ config: testConfig([{ name: 'orders', endpoint: `127.0.0.1:${echo.port}` }]) });
});
afterAll(async () => {
  await emulator?.stop();
  await echo?.close();
});

/** The emulator's string with its address as the host: tinyproxy resolves names itself, and <ns>.localhost only we do. */
const viaAddress = (cs: string) => cs.replace(/Endpoint=sb:\/\/[^:/]+:/, 'Endpoint=sb://127.0.0.1:');
const add = (env: HcmEnv, cs: string) => hcm({ ...env, env: { ...env.env, CS: viaAddress(cs) } }, ['add', '--from-env', 'CS']);
const relayPort = () => emulator.port;

describe('through an outbound proxy', () => {
  let proxy: Tinyproxy;
  beforeAll(async () => {
    proxy = await startTinyproxy();
  });
  afterAll(async () => {
    await proxy?.stop();
  });

  it('HTTPS_PROXY: the GET, the control channel, every rendezvous and hcm test go through it', async () => {
    const env = hcmEnv(emulator.ca, { HTTPS_PROXY: proxy.url, NO_PROXY: '' });
    const before = proxy.connects().length;
    expect((await add(env, emulator.hybridConnections.orders!.listen)).code).toBe(0);
    const agent = await startAgent(env, { waitConnected: 1 });
    try {
      expect(agent.output()).toContain(`outbound proxy: ${proxy.url} (from the environment)`);
      // The sender (what App Service does) is not behind this proxy: only the agent is.
      const fwd = await startForwarder(
        { ...env, env: { ...env.env, HTTPS_PROXY: '' } },
        viaAddress(emulator.hybridConnections.orders!.send),
      );
      try {
        expect(await echoText(fwd.port, 'through the proxy')).toBe('through the proxy');
        expect(await echoText(fwd.port, 'and again')).toBe('and again');
      } finally {
        await fwd.stop();
      }
      const test = await hcm(env, ['test', 'orders']);
      expect(test.stdout).toMatch(new RegExp(`Proxy ${proxy.url.replace(/[/.]/g, '\\$&')}: CONNECT 127\\.0\\.0\\.1:${relayPort()}\\s+ok`));
      expect(test.stdout).toMatch(/TLS relay 127\.0\.0\.1 \(through the proxy\)\s+ok/);
      const connects = proxy.connects().slice(before);
      // add's GET and rights check, the control channel, two rendezvous, hcm test's CONNECT — all to the relay.
      expect(connects.filter((c) => c === `127.0.0.1:${relayPort()}`).length).toBeGreaterThanOrEqual(5);
      expect(connects.every((c) => c === `127.0.0.1:${relayPort()}`)).toBe(true);
    } finally {
      await agent.stop();
    }
  });

  it('NO_PROXY exempts a host: nothing goes through the proxy then', async () => {
    const env = hcmEnv(emulator.ca, { HTTPS_PROXY: proxy.url, NO_PROXY: '127.0.0.1' });
    const before = proxy.connects().length;
    expect((await add(env, emulator.hybridConnections.orders!.listen)).code).toBe(0);
    expect(proxy.connects().length).toBe(before);
  });

  it('a proxy that is not there is named, in add and in the status', async () => {
    const dead = await freePort();
    const env = hcmEnv(emulator.ca);
    expect((await add(env, emulator.hybridConnections.orders!.listen)).code).toBe(0);
    const badEnv = { ...env, env: { ...env.env, HTTPS_PROXY: `http://127.0.0.1:${dead}`, NO_PROXY: '' } };
    const r = await add({ ...badEnv, home: env.home }, emulator.hybridConnections.orders!.listen);
    expect(r.stderr).toContain(`cannot reach the proxy http://127.0.0.1:${dead} (connection refused)`);
    const agent = await startAgent(badEnv);
    try {
      await waitFor(async () => (await listLive(badEnv))[0]?.lastError !== null, 20_000, 'the error');
      const [row] = await listLive(badEnv);
      expect(row!.status).toBe('NotConnected');
      expect(row!.lastError!.message).toContain(`cannot reach the proxy http://127.0.0.1:${dead}`);
    } finally {
      await agent.stop();
    }
  });

  it('a proxy that refuses the destination says so', async () => {
    const strict = await startTinyproxy({ connectPorts: [443] });
    try {
      const env = hcmEnv(emulator.ca, { HTTPS_PROXY: strict.url, NO_PROXY: '' });
      const r = await add(env, emulator.hybridConnections.orders!.listen);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`the proxy ${strict.url} refused to connect to 127.0.0.1:${relayPort()} (403`);
    } finally {
      await strict.stop();
    }
  });
});

describe('a proxy that wants a user name and password', () => {
  let proxy: Tinyproxy;
  beforeAll(async () => {
    proxy = await startTinyproxy({ basicAuth: { user: 'relayuser', password: 'S3cret-proxy-pw' } });
  });
  afterAll(async () => {
    await proxy?.stop();
  });

  it('says so, takes them with hcm proxy set, keeps them in secrets.json only, and never shows the password', async () => {
    const env = hcmEnv(emulator.ca, { NO_PROXY: '' });
    const set = await hcm(env, ['proxy', 'set', proxy.url]);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain(`proxy:        ${proxy.url} (setting)`);
    const refused = await add(env, emulator.hybridConnections.orders!.listen);
    expect(refused.stderr).toContain(`the proxy ${proxy.url} wants a user name and password (407`);
    const withUser = await hcm({ ...env, env: { ...env.env, PW: 'S3cret-proxy-pw' } }, [
      'proxy',
      'set',
      proxy.url,
      '--user',
      'relayuser',
      '--password-from-env',
      'PW',
      '--no-proxy',
      'example.invalid',
    ]);
    expect(withUser.code, withUser.stderr).toBe(0);
    expect(withUser.stdout).toContain(`${proxy.url} (setting, user relayuser)`);
    expect((await add(env, emulator.hybridConnections.orders!.listen)).code).toBe(0);
    const agent = await startAgent(env, { waitConnected: 1 });
    await agent.stop();
    expect(readFileSync(join(env.home, 'config.json'), 'utf8')).not.toContain('S3cret');
    expect(readFileSync(join(env.home, 'secrets.json'), 'utf8')).toContain('S3cret-proxy-pw');
    const show = await hcm(env, ['proxy', 'show']);
    expect(show.stdout).not.toContain('S3cret');
    expect(agent.output()).not.toContain('S3cret');
    const cleared = await hcm(env, ['proxy', 'clear']);
    expect(cleared.stdout).toContain('proxy:        none');
    expect(readFileSync(join(env.home, 'secrets.json'), 'utf8')).not.toContain('S3cret');
  });
});
