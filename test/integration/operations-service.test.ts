import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_NODE_FLAGS } from '../../src/core/agent-node-flags.js';
import type { ConnectionSummary } from '../../src/shared/api.js';
import { type EmulatorProcess, startEmulator, testConfig, waitFor } from '../helpers/emulator.js';
import { CLI } from '../helpers/paths.js';
import { type TcpServer, startEchoServer } from '../helpers/tcp-servers.js';
import { removeDir } from '../helpers/tunnel.js';

/**
 * hcm service (issue 16, item 1), on Linux with systemd's own tools but without systemd running
 * (it is not PID 1 here): the generated units pass `systemd-analyze verify`; install and uninstall
 * round-trip in a temporary root (systemd-sysusers --root, systemctl --root); and the agent runs the
 * way the unit says — its user and group, its folders with their owners and modes, its environment,
 * umask, no new privileges and file limit — with the admin group reaching it through the control
 * socket and everyone else refused. What systemd itself would add (the sandboxing directives,
 * journald) cannot be run here and is said so in the README.
 */

const isRoot = process.getuid?.() === 0;
const hasSystemd = spawnSync('systemd-analyze', ['--version']).status === 0;
const onLinux = process.platform === 'linux';

function run(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
}

/** The key=value lines of a unit file (repeated keys kept in order). */
function parseUnit(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m) out.set(m[1]!, [...(out.get(m[1]!) ?? []), m[2]!]);
  }
  return out;
}

function one(unit: Map<string, string[]>, key: string): string {
  const v = unit.get(key);
  if (!v || v.length !== 1) throw new Error(`the unit has ${v?.length ?? 0} ${key}= lines`);
  return v[0]!;
}

/** name → id from a root's /etc/passwd or /etc/group. */
function ids(file: string): Map<string, number> {
  return new Map(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(':'))
      .map((f) => [f[0]!, Number(f[2])]),
  );
}

describe.runIf(onLinux && hasSystemd)('the systemd units', () => {
  it('pass systemd-analyze verify, system and user alike', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hcm-unit-'));
    try {
      for (const scope of [[], ['--user']]) {
        const out = run(['service', 'install', '--dry-run', ...scope]);
        expect(out.status, out.stderr).toBe(0);
        const unit = /^\[Unit\][\s\S]*?^WantedBy=.*$/m.exec(out.stdout)![0];
        const file = join(dir, 'open-hcm.service');
        writeFileSync(file, `${unit}\n`);
        // (--user needs a user manager, which this machine lacks: the unit is read by the system's rules.)
        const verify = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
        expect(verify.status, verify.stderr).toBe(0);
        expect(verify.stderr.trim()).toBe('');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('say what the issue asks: own user, systemd folders, restart on failure, hardening, a file limit for 10,000 connections', () => {
    const out = run(['service', 'install', '--dry-run', '--grace', '20', '--metrics', '127.0.0.1:9464']);
    const unit = parseUnit(/^\[Unit\][\s\S]*?^WantedBy=.*$/m.exec(out.stdout)![0]);
    expect(one(unit, 'User')).toBe('open-hcm');
    expect(one(unit, 'Group')).toBe('hcm-admins');
    expect(one(unit, 'StateDirectory')).toBe('open-hcm');
    expect(one(unit, 'LogsDirectory')).toBe('open-hcm');
    expect(one(unit, 'ConfigurationDirectory')).toBe('open-hcm');
    expect(one(unit, 'RuntimeDirectoryMode')).toBe('0750');
    expect(one(unit, 'Restart')).toBe('on-failure');
    expect(one(unit, 'NoNewPrivileges')).toBe('yes');
    expect(one(unit, 'ProtectSystem')).toBe('strict');
    expect(one(unit, 'ProtectHome')).toMatch(/^(yes|read-only)$/);
    expect(one(unit, 'PrivateTmp')).toBe('yes');
    expect(one(unit, 'RestrictAddressFamilies')).toBe('AF_INET AF_INET6 AF_UNIX');
    expect(Number(one(unit, 'LimitNOFILE'))).toBeGreaterThanOrEqual(2 * 10_000 + 1024);
    expect(one(unit, 'ExecStart')).toMatch(/ run --grace 20 --metrics 127\.0\.0\.1:9464 --hup-takeover$/);
    expect(
      one(unit, 'ExecStart')
        .split(' ')
        .slice(1, 1 + AGENT_NODE_FLAGS.length),
    ).toEqual(AGENT_NODE_FLAGS);
    expect(one(unit, 'ExecReload')).toBe('/bin/kill -HUP $MAINPID');
    expect(one(unit, 'TimeoutStopSec')).toBe('35s');
    expect(unit.get('MemoryDenyWriteExecute')).toBeUndefined(); // V8 needs W+X pages
  });
});

describe('launchd and Windows definitions (written, not run here)', () => {
  it('are well-formed XML with the agent, its restart policy and its file limit', () => {
    const plist = run(['service', 'install', '--dry-run', '--platform', 'darwin']);
    expect(plist.status, plist.stderr).toBe(0);
    const xml = /<\?xml[\s\S]*?<\/plist>/.exec(plist.stdout)![0];
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(xml).toContain('<key>KeepAlive</key>');
    expect(xml).toMatch(/<key>NumberOfFiles<\/key>\s*<integer>65536<\/integer>/);
    expect(xml).toMatch(/<key>UserName<\/key>\s*<string>open-hcm<\/string>/);
    expect(plist.stdout).toContain('/Library/LaunchDaemons/io.github.open-hcm.agent.plist');

    const win = run(['service', 'install', '--dry-run', '--platform', 'win32']);
    expect(win.status, win.stderr).toBe(0);
    const service = /<service>[\s\S]*?<\/service>/.exec(win.stdout)![0];
    expect(XMLValidator.validate(service)).toBe(true);
    expect(service).toContain('<onfailure action="restart"');
    expect(service).toContain('<stoptimeout>45 sec</stoptimeout>');
    expect(win.stdout).toContain('copy WinSW');
    expect(run(['service', 'install', '--dry-run', '--platform', 'win32', '--user']).status).toBe(2);
  });
});

describe.runIf(onLinux && hasSystemd && isRoot)('install, uninstall and the agent under the unit', () => {
  let root = '';
  let echo: TcpServer | undefined;
  let emu: EmulatorProcess | undefined;
  let agent: ChildProcess | undefined;
  let agentOutput = '';

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'hcm-root-'));
    chmodSync(root, 0o755);
    // A person of the machine who will be an admin (usermod needs them to exist), and one who will not.
    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(
      join(root, 'etc/passwd'),
      'root:x:0:0::/root:/bin/sh\nann:x:23401:23401::/home/ann:/bin/sh\nbob:x:23402:23402::/home/bob:/bin/sh\n',
    );
    writeFileSync(join(root, 'etc/group'), 'root:x:0:\nann:x:23401:\nbob:x:23402:\n');
    echo = await startEchoServer();
    emu = await startEmulator({ config: testConfig([{ name: 'hc-svc', endpoint: `127.0.0.1:${echo.port}` }]) });
  }, 60_000);

  afterAll(async () => {
    agent?.kill('SIGKILL');
    await emu?.stop();
    await echo?.close();
    rmSync(root, { recursive: true, force: true });
    removeDir(emu?.stateDir);
  });

  it('installs into a temporary root and uninstalls again, keeping the settings', () => {
    const installed = run(['service', 'install', '--root', root, '--admin', 'ann']);
    expect(installed.status, installed.stdout + installed.stderr).toBe(0);
    const unitFile = join(root, 'etc/systemd/system/open-hcm.service');
    expect(lstatSync(unitFile).mode & 0o777).toBe(0o644);
    expect(readlinkSync(join(root, 'etc/systemd/system/multi-user.target.wants/open-hcm.service'))).toBe(
      '/etc/systemd/system/open-hcm.service',
    );
    expect(lstatSync(join(root, 'etc/open-hcm/environment')).mode & 0o777).toBe(0o640);
    const users = ids(join(root, 'etc/passwd'));
    const groups = ids(join(root, 'etc/group'));
    expect(users.get('open-hcm')).toBeGreaterThan(0);
    expect(groups.get('hcm-admins')).toBeGreaterThan(0);
    expect(readFileSync(join(root, 'etc/group'), 'utf8')).toMatch(/^hcm-admins:x:\d+:.*\bann\b/m);
    expect(readFileSync(join(root, 'etc/profile.d/open-hcm.sh'), 'utf8')).toContain('HCM_CONTROL_SOCKET=/run/open-hcm/hcm.sock');
    const verify = spawnSync('systemd-analyze', ['verify', unitFile], { encoding: 'utf8' });
    expect(verify.status, verify.stderr).toBe(0);

    // An admin's settings survive an uninstall and a new install.
    writeFileSync(join(root, 'etc/open-hcm/environment'), 'HCM_METRICS=127.0.0.1:9464\n');
    const removed = run(['service', 'uninstall', '--root', root]);
    expect(removed.status, removed.stdout + removed.stderr).toBe(0);
    expect(existsSync(unitFile)).toBe(false);
    expect(existsSync(join(root, 'etc/systemd/system/multi-user.target.wants/open-hcm.service'))).toBe(false);
    expect(existsSync(join(root, 'etc/profile.d/open-hcm.sh'))).toBe(false);
    expect(readFileSync(join(root, 'etc/open-hcm/environment'), 'utf8')).toBe('HCM_METRICS=127.0.0.1:9464\n');
    expect(removed.stdout).toContain('the user open-hcm and the group hcm-admins');

    const again = run(['service', 'install', '--root', root]);
    expect(again.status, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toMatch(/keep\s+.*environment/);
    expect(readFileSync(join(root, 'etc/open-hcm/environment'), 'utf8')).toBe('HCM_METRICS=127.0.0.1:9464\n');
  });

  it('runs the agent as the unit says, and lets the admin group, and only it, use the control socket', async () => {
    const unit = parseUnit(readFileSync(join(root, 'etc/systemd/system/open-hcm.service'), 'utf8'));
    const uid = ids(join(root, 'etc/passwd')).get(one(unit, 'User'))!;
    const gid = ids(join(root, 'etc/group')).get(one(unit, 'Group'))!;
    const at = (p: string) => join(root, p);

    // What systemd does before ExecStart, under the root: the folders with their owners and modes.
    const made: Array<[string, string, number, boolean]> = [
      ['StateDirectory', '/var/lib', Number.parseInt(one(unit, 'StateDirectoryMode'), 8), true],
      ['LogsDirectory', '/var/log', Number.parseInt(one(unit, 'LogsDirectoryMode'), 8), true],
      ['RuntimeDirectory', '/run', Number.parseInt(one(unit, 'RuntimeDirectoryMode'), 8), true],
      ['ConfigurationDirectory', '/etc', 0o755, false],
    ];
    for (const [key, parent, mode, owned] of made) {
      const dir = at(`${parent}/${one(unit, key)}`);
      mkdirSync(dir, { recursive: true });
      chmodSync(dir, mode);
      if (owned) chownSync(dir, uid, gid);
    }
    // The environment: Environment= lines and the EnvironmentFile, paths under the root. The trust
    // for the emulator goes in the EnvironmentFile, as an admin would put a CA there.
    copyFileSync(emu!.ca!, at('/etc/open-hcm/ca.pem'));
    chmodSync(at('/etc/open-hcm/ca.pem'), 0o644);
    writeFileSync(at('/etc/open-hcm/environment'), 'HCM_CA_FILE=/etc/open-hcm/ca.pem\n');
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, LANG: 'C.UTF-8', HOME: '/nonexistent' };
    const envFile = one(unit, 'EnvironmentFile').replace(/^-/, '');
    for (const line of [...(unit.get('Environment') ?? []), ...readFileSync(at(envFile), 'utf8').split('\n')]) {
      const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
      if (m) env[m[1]!] = m[2]!.startsWith('/') ? at(m[2]!) : m[2]!;
    }
    // The name resolves through /etc/group; the host's has no such group, so the number it has in the root.
    expect(env.HCM_ADMIN_GROUP).toBe('hcm-admins');
    env.HCM_ADMIN_GROUP = String(gid);

    // ExecStart as systemd would run it: file limit (LimitNOFILE), user and group with no other
    // groups (User=, Group=), no new privileges (NoNewPrivileges=), the umask (UMask=).
    // LimitNOFILE, as far as this machine lets root raise it (a sandbox without CAP_SYS_RESOURCE
    // keeps its own hard limit; systemd would set the unit's value).
    const hard = Number(spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).stdout.trim());
    const limit = String(Math.min(Number(one(unit, 'LimitNOFILE')), Number.isFinite(hard) ? hard : Infinity));
    const exec = one(unit, 'ExecStart').split(' ');
    agent = spawn(
      'prlimit',
      [
        `--nofile=${limit}:${limit}`,
        '--',
        'setpriv',
        `--reuid=${uid}`,
        `--regid=${gid}`,
        '--clear-groups',
        '--no-new-privs',
        '--',
        'sh',
        '-c',
        `umask ${one(unit, 'UMask')} && exec "$@"`,
        'sh',
        ...exec,
      ],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    agent.stdout!.on('data', (d: Buffer) => (agentOutput += d.toString()));
    agent.stderr!.on('data', (d: Buffer) => (agentOutput += d.toString()));
    await waitFor(() => agentOutput.includes('agent started') || agent!.exitCode !== null, 30_000, 'the agent to start').catch(() => {
      throw new Error(agentOutput);
    });
    expect(agent.exitCode, agentOutput).toBeNull();

    // A member of the admin group (ann) manages it through the socket; bob is refused.
    const asUser = (user: number, group: number, args: string[], extra: NodeJS.ProcessEnv = {}) =>
      spawnSync('setpriv', [`--reuid=${user}`, `--regid=${group}`, '--clear-groups', '--', process.execPath, CLI, ...args], {
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH,
          HOME: tmpdir(),
          HCM_HOME: join(tmpdir(), `hcm-nohome-${user}`),
          HCM_CONTROL_SOCKET: env.HCM_CONTROL_SOCKET,
          ...extra,
        },
      });
    const ann = ids(join(root, 'etc/passwd')).get('ann')!;
    const bob = ids(join(root, 'etc/passwd')).get('bob')!;
    const added = asUser(ann, gid, ['add', '--from-env', 'CS'], { CS: emu!.hybridConnections['hc-svc']!.listen });
    expect(added.status, added.stderr).toBe(0);
    expect(added.stdout).toContain('the running agent is listening now');
    await waitFor(() => agentOutput.includes('status Connected'), 30_000, 'the agent to connect').catch(() => {
      throw new Error(agentOutput);
    });

    // It is that user, with that limit and no way to gain privileges.
    const status = readFileSync(`/proc/${agent.pid}/status`, 'utf8');
    expect(status).toMatch(new RegExp(`^Uid:\\s+${uid}\\s+${uid}`, 'm'));
    expect(status).toMatch(new RegExp(`^Gid:\\s+${gid}\\s+${gid}`, 'm'));
    expect(status).toMatch(/^NoNewPrivs:\s+1/m);
    expect(readFileSync(`/proc/${agent.pid}/limits`, 'utf8')).toMatch(new RegExp(`^Max open files\\s+${limit}\\s+${limit}`, 'm'));
    // Its files: the socket shared with the admin group, the configuration its own.
    const socket = lstatSync(env.HCM_CONTROL_SOCKET!);
    expect([socket.uid, socket.gid, socket.mode & 0o777]).toEqual([uid, gid, 0o660]);
    const socketDir = lstatSync(at('/run/open-hcm'));
    expect([socketDir.uid, socketDir.gid, socketDir.mode & 0o777]).toEqual([uid, gid, 0o750]);
    expect(lstatSync(join(env.HCM_HOME!, 'secrets.json')).mode & 0o777).toBe(0o600);
    expect(existsSync(join(env.HCM_LOG_DIR!, 'hcm.log'))).toBe(true);
    expect(lstatSync(join(env.HCM_LOG_DIR!, 'hcm.log')).uid).toBe(uid);
    expect(agentOutput).toMatch(/<6>agent started|agent started/);

    const listed = asUser(ann, gid, ['list', '--json']);
    expect(listed.status, listed.stderr).toBe(0);
    const seen = JSON.parse(listed.stdout) as { agentRunning: boolean; connections: ConnectionSummary[] };
    expect(seen.agentRunning).toBe(true);
    expect(seen.connections.map((c) => [c.id, c.status])).toEqual([['testns/hc-svc', 'Connected']]);
    const level = asUser(ann, gid, ['log-level', 'debug']);
    expect(level.status, level.stderr).toBe(0);
    const refused = asUser(bob, bob, ['list']);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('refusing to use the control socket');

    agent.kill('SIGTERM');
    await waitFor(() => agent!.exitCode !== null, 20_000, 'the agent to stop');
    expect(agent.exitCode).toBe(0);
    expect(existsSync(env.HCM_CONTROL_SOCKET!)).toBe(false);
  }, 120_000);
});
