import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HcmEnv, hcm, listLive, startHcm } from '../helpers/agent.js';
import { type EmulatorProcess, startEmulator, waitFor } from '../helpers/emulator.js';
import { startUiHost } from '../ui/helpers/ui-host.js';

/**
 * A new user's machine: HOME is an empty folder and none of HCM_HOME, XDG_CONFIG_HOME,
 * XDG_STATE_HOME, XDG_DATA_HOME, XDG_RUNTIME_DIR is set, so every folder HCM uses must be made
 * by the command that needs it. Other tests set HCM_HOME to a folder they made and never see this.
 */

const START = fileURLToPath(new URL('../../dist/cli/start.js', import.meta.url));

function newUser(extra: NodeJS.ProcessEnv = {}): HcmEnv {
  const home = mkdtempSync(join(tmpdir(), 'hcm-new-user-'));
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
  for (const name of ['HCM_HOME', 'XDG_CONFIG_HOME', 'XDG_STATE_HOME', 'XDG_DATA_HOME', 'XDG_RUNTIME_DIR', 'NODE_OPTIONS', 'HCM_CA_FILE']) {
    delete env[name];
  }
  return { home, env: { ...env, ...extra } };
}

const mode = (path: string) => statSync(path).mode & 0o777;

describe('a new user with an empty home', () => {
  let emulator: EmulatorProcess;
  beforeAll(async () => {
    emulator = await startEmulator({
      config: { namespaces: [{ name: 'contoso', hybridConnections: [{ name: 'orders-db', endpoint: '127.0.0.1:5432' }] }] },
    });
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it('version and list work before any folder exists, and create none', async () => {
    const user = newUser();
    const version = await hcm(user, ['version']);
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout).toContain(`config: ${join(user.home, '.config', 'open-hcm', 'config.json')}`);
    const list = await hcm(user, ['list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain('no Hybrid Connections yet');
  });

  it('add, run, list, logs: the folders are made private on first use and the agent connects', async () => {
    const user = newUser({ HCM_CA_FILE: emulator.ca! });
    const added = await hcm(user, ['add', emulator.hybridConnections['orders-db']!.listen]);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toContain('added contoso/orders-db -> 127.0.0.1:5432');
    const config = join(user.home, '.config', 'open-hcm');
    expect(mode(config)).toBe(0o700);
    expect(mode(join(config, 'secrets.json'))).toBe(0o600);

    const agent = startHcm(user, ['run']);
    try {
      await waitFor(async () => (await listLive(user)).some((c) => c.status === 'Connected'), 20_000, 'Connected');
      expect(agent.output()).not.toContain('EACCES');
      expect(existsSync(join(config, 'hcm.sock'))).toBe(true);
      const logs = await hcm(user, ['logs']);
      expect(logs.code, logs.stderr).toBe(0);
      expect(logs.stdout).toContain('agent started');
    } finally {
      expect(await agent.stop()).toBe(0);
    }
    expect(mode(join(user.home, '.local', 'state', 'open-hcm'))).toBe(0o700);
    // After the agent: logs come from the file the agent wrote.
    const logs = await hcm(user, ['logs']);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toContain('agent stopped');
  });

  it('ui prints its address and the page answers', async () => {
    const user = newUser();
    const ui = await startUiHost(user);
    try {
      const res = await fetch(`http://127.0.0.1:${ui.port}/`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('<div id="root">');
    } finally {
      expect(await ui.stop()).toBe(0);
    }
  });

  it('npm start (dist/cli/start.js) reaches the browser UI when Electron cannot run', async () => {
    const user = newUser({ ELECTRON_OVERRIDE_DIST_PATH: mkdtempSync(join(tmpdir(), 'no-electron-')) });
    const child = spawn(process.execPath, [START, '--port', '0'], { env: user.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitFor(() => out.includes('HCM UI: http://127.0.0.1:') || child.exitCode !== null, 30_000, 'the UI address');
      expect(err).not.toContain('EACCES');
      const url = /HCM UI: (\S+)/.exec(out)?.[1];
      expect(url, err).toBeDefined();
      const res = await fetch(url!.replace(/#.*/, ''));
      expect(res.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });

  it('demo: Connected, test traffic through the relay, labelled, removed; nothing saved', async () => {
    const user = newUser();
    const demo = startHcm(user, ['demo', '--grace', '1']);
    try {
      await waitFor(() => demo.output().includes('demo local-demo/echo: ') || demo.proc.exitCode !== null, 20_000, 'the demo');
      expect(demo.output()).toContain('demo local-demo/echo: Connected');
      const list = await hcm(user, ['list']);
      expect(list.stdout).toMatch(/echo \(demo\)\s+local-demo\s+127\.0\.0\.1:\d+\s+Connected/);
      const sent = await hcm(user, ['demo', '--send']);
      expect(sent.code, sent.stderr).toBe(0);
      expect(sent.stdout).toMatch(/test traffic: 5 connections through the relay, 327680 bytes echoed back intact/);
      const logs = await hcm(user, ['logs', '-n', '50']);
      // One line per finished tunnel: who, how long, how much.
      expect(logs.stdout.match(/connection( from \S+)? ended after \d+\.\d s: 65536 B to 127\.0\.0\.1:\d+, 65536 B back/g)).toHaveLength(5);
      const [row] = await listLive(user);
      expect(row).toMatchObject({ demo: true, counters: { totalConnections: 5, bytesToEndpoint: 327680, bytesFromEndpoint: 327680 } });
      // The demo is never written into the user's configuration.
      expect(existsSync(join(user.home, '.config', 'open-hcm', 'config.json'))).toBe(false);
      const stopped = await hcm(user, ['demo', '--stop']);
      expect(stopped.stdout).toContain('demo removed');
      expect(await listLive(user)).toEqual([]);
    } finally {
      expect(await demo.stop()).toBe(0);
    }
  });

  it('a folder that cannot be made gives one line naming it and why', async () => {
    const user = newUser();
    writeFileSync(join(user.home, '.config'), 'a file where a folder should be');
    const r = await hcm(user, ['run']);
    expect(r.code).toBe(1);
    // Paths under the home folder are shown as ~/…, as a user would type them.
    expect(r.stderr.trim()).toBe(
      'hcm: cannot create the configuration folder ~/.config/open-hcm: a file is in the way at ~/.config (ENOTDIR)',
    );
  });

  it('honours XDG variables when they are set', async () => {
    const user = newUser();
    const xdg = join(user.home, 'xdg');
    mkdirSync(xdg);
    const env = { ...user.env, XDG_CONFIG_HOME: join(xdg, 'config'), XDG_STATE_HOME: join(xdg, 'state') };
    const ui = await startUiHost({ home: user.home, env });
    try {
      expect(existsSync(join(xdg, 'config', 'open-hcm', 'hcm.sock'))).toBe(true);
      expect(existsSync(join(xdg, 'state', 'open-hcm', 'hcm.log'))).toBe(true);
    } finally {
      await ui.stop();
    }
  });
});
