import { spawn } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hcmPaths } from '../../src/core/paths.js';
import { type HcmEnv, hcm, hcmEnv, listLive, startAgent, startHcm } from '../helpers/agent.js';
import { type EmulatorProcess, startEmulator, waitFor } from '../helpers/emulator.js';
import { CLI } from '../helpers/paths.js';

/**
 * The findings of the attacker's review (issue 11), each provoked for real: another local user
 * squatting the control socket, hostile lines on it, a client that never reads, a broken secrets
 * file, keys in process arguments, lock contention and a closed stdout.
 */

const NOBODY = 65534;
const KEY_PATTERN = /SharedAccessKey=[^;<]{8,}/;

let emulator: EmulatorProcess;
const hcNames = Array.from({ length: 30 }, (_, i) => `hc${i}`);
beforeAll(async () => {
  emulator = await startEmulator({
    config: { namespaces: [{ name: 'contoso', hybridConnections: hcNames.map((name) => ({ name, endpoint: '127.0.0.1:9' })) }] },
  });
});
afterAll(async () => {
  await emulator?.stop();
});

const listen = (hc: string) => emulator.hybridConnections[hc]!.listen;
const keyOf = (cs: string) => /SharedAccessKey=([^;]+)/.exec(cs)![1]!;

/** A raw client of the agent's control socket. */
function rawClient(path: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(path, () => resolve(s));
    s.once('error', reject);
  });
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

describe('the control socket', () => {
  it('is never used when another user owns its folder: nothing is sent, and the agent refuses to start there', async () => {
    // A config folder too long for a socket address sends the socket to <tmp>/open-hcm-<uid>;
    // another user made that folder first and listens in it.
    const tmp = mkdtempSync(join(tmpdir(), 'hcm-squat-'));
    const env = hcmEnv(emulator.ca, { TMPDIR: tmp });
    const home = join(env.home, 'x'.repeat(120));
    env.env.HCM_HOME = home;
    const paths = hcmPaths(env.env, process.platform, tmp, { tmp });
    expect(paths.controlSocketDir).toBe(join(tmp, `open-hcm-${process.getuid!()}`));
    mkdirSync(paths.controlSocketDir!, { mode: 0o777 });
    const received: string[] = [];
    const squatter = net.createServer((s) => s.on('data', (d) => received.push(d.toString())));
    await new Promise<void>((resolve) => squatter.listen(paths.controlSocket, resolve));
    chownSync(paths.controlSocketDir!, NOBODY, NOBODY);
    chownSync(paths.controlSocket, NOBODY, NOBODY);
    try {
      const added = await hcm({ ...env, env: { ...env.env, CS: listen('hc0') } }, ['add', '--from-env', 'CS']);
      expect(added.code).toBe(1);
      expect(added.stderr).toContain(`refusing to use the control socket`);
      expect(added.stderr).toContain(`belongs to user ${NOBODY}`);
      const run = await hcm(env, ['run']);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(new RegExp(`refusing to use the control socket folder .*: it belongs to user ${NOBODY}`));
      expect(received).toEqual([]);
    } finally {
      squatter.close();
    }
  });

  it('refuses a socket file of another user even in a private folder', async () => {
    const env = hcmEnv(emulator.ca);
    const socket = join(env.home, 'hcm.sock');
    const received: string[] = [];
    const squatter = net.createServer((s) => s.on('data', (d) => received.push(d.toString())));
    await new Promise<void>((resolve) => squatter.listen(socket, resolve));
    chownSync(socket, NOBODY, NOBODY);
    try {
      const r = await hcm({ ...env, env: { ...env.env, CS: listen('hc1') } }, ['add', '--from-env', 'CS']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`it belongs to user ${NOBODY}`);
      expect(received).toEqual([]);
    } finally {
      squatter.close();
    }
  });

  it('answers hostile lines (null included) and keeps relaying', async () => {
    const env = hcmEnv(emulator.ca);
    await hcm({ ...env, env: { ...env.env, CS: listen('hc2') } }, ['add', '--from-env', 'CS']);
    const agent = await startAgent(env, { waitConnected: 1 });
    try {
      const client = await rawClient(join(env.home, 'hcm.sock'));
      let answers = '';
      client.on('data', (d) => (answers += d.toString()));
      const lines = [
        'null',
        '[]',
        '42',
        '"x"',
        '{}',
        '{"id":1}',
        '{"id":2,"method":"getConnection","args":[null]}',
        '{"id":3,"method":"__proto__"}',
        '{',
      ];
      client.write(`${lines.join('\n')}\n`);
      await waitFor(() => answers.split('\n').filter(Boolean).length >= lines.length, 10_000, 'an answer to every line');
      const replies = answers
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { ok: boolean; code?: string });
      expect(replies.every((r) => !r.ok && typeof r.code === 'string')).toBe(true);
      client.destroy();
      expect(agent.proc.exitCode).toBeNull();
      expect((await listLive(env))[0]!.status).toBe('Connected');
    } finally {
      expect(await agent.stop()).toBe(0);
    }
  });

  it('drops a client that floods it without reading, and its memory stays bounded', async () => {
    const env = hcmEnv(emulator.ca);
    const agent = await startAgent(env);
    try {
      // Many log lines make each getLogs answer large.
      for (let i = 0; i < 3; i++) await hcm(env, ['list']);
      const before = rssMiB(agent.proc.pid!);
      const client = await rawClient(join(env.home, 'hcm.sock'));
      client.pause(); // never reads
      let closed = false;
      client.on('close', () => (closed = true));
      client.on('error', () => undefined);
      const request = `${JSON.stringify({ id: 1, method: 'getLogs', args: [{ limit: 5000 }] })}\n`.repeat(1000);
      for (let i = 0; i < 10 && !closed; i++) client.write(request);
      await new Promise((r) => setTimeout(r, 3000));
      const after = rssMiB(agent.proc.pid!);
      expect(after - before).toBeLessThan(150);
      // The agent still serves others.
      expect((await hcm(env, ['list', '--json'])).code).toBe(0);
      client.destroy();
    } finally {
      expect(await agent.stop()).toBe(0);
    }
  });
});

describe('the configuration', () => {
  it('runs the good connections when one entry of secrets.json is broken, names it, and stops cleanly on SIGTERM', async () => {
    const env = hcmEnv(emulator.ca);
    for (const hc of ['hc3', 'hc4']) await hcm({ ...env, env: { ...env.env, CS: listen(hc) } }, ['add', '--from-env', 'CS']);
    const secretsFile = join(env.home, 'secrets.json');
    const secrets = JSON.parse(readFileSync(secretsFile, 'utf8')) as { connectionStrings: Record<string, string> };
    const broken = Object.keys(secrets.connectionStrings).find((id) => id.endsWith('/hc4'))!;
    secrets.connectionStrings[broken] = 'Endpoint=garbage';
    writeFileSync(secretsFile, JSON.stringify(secrets));
    const agent = await startAgent(env);
    try {
      await waitFor(async () => (await listLive(env)).some((c) => c.name === 'hc3' && c.status === 'Connected'), 20_000, 'hc3 Connected');
      const bad = (await listLive(env)).find((c) => c.name === 'hc4')!;
      expect(bad.status).toBe('NotConnected');
      expect(bad.lastError?.message).toMatch(
        /cannot run: the saved configuration is not valid \(.*Endpoint.*\); fix .*config\.json and secrets\.json/,
      );
      // A running agent reloading a broken entry does not crash either.
      secrets.connectionStrings[broken] = 'still not a connection string';
      writeFileSync(secretsFile, JSON.stringify(secrets));
      await new Promise((r) => setTimeout(r, 2500));
      expect(agent.proc.exitCode).toBeNull();
    } finally {
      expect(await agent.stop('SIGTERM')).toBe(0);
    }
    expect(agent.output()).toContain('SIGTERM: stopping; letting open connections finish');
  });

  it('lands 30 concurrent adds against a running agent, none lost to the lock', async () => {
    const env = hcmEnv(emulator.ca);
    const agent = await startAgent(env);
    try {
      const results = await Promise.all(
        hcNames.map((hc) => hcm({ ...env, env: { ...env.env, CS: listen(hc) } }, ['add', '--from-env', 'CS'], 120_000)),
      );
      expect(results.filter((r) => r.code !== 0).map((r) => r.stderr)).toEqual([]);
      expect((await listLive(env)).length).toBe(30);
    } finally {
      await agent.stop();
    }
  });
});

describe('keys and the command line', () => {
  it('takes the connection string from stdin, a file or the environment, and warns when it is an argument', async () => {
    const env = hcmEnv(emulator.ca);
    const viaStdin = await new Promise<{ code: number | null; err: string }>((resolve) => {
      const child = spawn(process.execPath, [CLI, 'add', '-'], { env: env.env });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('exit', (code) => resolve({ code, err }));
      child.stdin.end(`${listen('hc5')}\n`);
    });
    expect(viaStdin).toEqual({ code: 0, err: '' });
    const file = join(env.home, 'cs.txt');
    writeFileSync(file, listen('hc6'), { mode: 0o600 });
    expect((await hcm(env, ['add', '--from-file', file])).stderr).toBe('');
    const viaArg = await hcm(env, ['add', listen('hc7')]);
    expect(viaArg.code).toBe(0);
    expect(viaArg.stderr).toContain('warning: the connection string was given as an argument, where other local users can read it');
  });

  it('never echoes an argument that may hold a key in a usage error', async () => {
    const env = hcmEnv(emulator.ca);
    const cs = listen('hc8');
    const r = await hcm(env, ['add', `-${cs}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown option');
    expect(r.stderr).not.toContain(keyOf(cs));
    expect(r.stderr).not.toMatch(KEY_PATTERN);
  });

  it('keeps the key out of the process list with --from-env', async () => {
    const env: HcmEnv = hcmEnv(emulator.ca);
    const send = emulator.hybridConnections.hc9!.send;
    const fwd = startHcm({ ...env, env: { ...env.env, SEND: send } }, ['connect', '--from-env', 'SEND', '--port', '0']);
    try {
      await waitFor(() => fwd.output().includes('forwarding'), 20_000, 'the forwarder');
      const cmdline = readFileSync(`/proc/${fwd.proc.pid}/cmdline`, 'utf8');
      expect(cmdline).not.toContain(keyOf(send));
      expect(fwd.output()).not.toContain(keyOf(send));
    } finally {
      await fwd.stop();
    }
  });

  it('ends quietly when its stdout is closed early (hcm list --json | head -c 10)', async () => {
    const env = hcmEnv(emulator.ca);
    for (const hc of hcNames.slice(10, 20)) await hcm({ ...env, env: { ...env.env, CS: listen(hc) } }, ['add', '--from-env', 'CS']);
    const r = await new Promise<{ code: number | null; err: string }>((resolve) => {
      const child = spawn('sh', ['-c', `"${process.execPath}" "${CLI}" list --json | head -c 10 >/dev/null`], { env: env.env });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('exit', (code) => resolve({ code, err }));
    });
    expect(r.err).not.toContain('EPIPE');
    expect(r.err).not.toContain('at ');
  });
});
