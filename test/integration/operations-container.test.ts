import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_NODE_FLAGS } from '../../src/core/agent-node-flags.js';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Forwarder, type HcmEnv, hcmEnv, startForwarder } from '../helpers/agent.js';
import { type EmulatorProcess, KEYS, startEmulator, testConfig, waitFor } from '../helpers/emulator.js';
import { ROOT } from '../helpers/paths.js';
import { freePort } from '../helpers/ports.js';
import { type TcpServer, startEchoServer } from '../helpers/tcp-servers.js';
import { connectTcp, echoRoundTrip, firstDifference, removeDir, removeHome } from '../helpers/tunnel.js';

/**
 * The container (issue 16, item 6). Docker has no daemon here, so the image is not built; instead
 * its entrypoint runs as a process with the Dockerfile's own environment (ENV, USER, ENTRYPOINT,
 * CMD, read from the file) and, where this machine allows it (root, mount namespaces), on a
 * read-only root file system with only the state folder writable, as `--read-only` / Kubernetes'
 * readOnlyRootFilesystem give it. Its Hybrid Connections come from HCM_CONNECTION_STRINGS and from a
 * mounted secret file. The Kubernetes manifests are validated against the Kubernetes schemas that
 * the kubernetes-models package carries (offline), and checked for what the issue asks of them.
 */

const DOCKERFILE = join(ROOT, 'docs/deploy/container/Dockerfile');
const MANIFESTS = ['deployment.yaml', 'secret.yaml'].map((f) => join(ROOT, 'docs/deploy/kubernetes', f));

interface Image {
  env: Record<string, string>;
  user: string;
  entrypoint: string[];
  cmd: string[];
}

/** The last stage of the Dockerfile: what `docker run` would start, with which environment and user. */
function readImage(text: string): Image {
  const stage = text.slice(text.lastIndexOf('\nFROM '));
  const lines = stage.replace(/\\\n\s*/g, ' ').split('\n');
  const image: Image = { env: {}, user: 'root', entrypoint: [], cmd: [] };
  for (const line of lines) {
    const [word, ...rest] = line.trim().split(/\s+/);
    const arg = rest.join(' ');
    if (word === 'ENV') for (const m of arg.matchAll(/([A-Z_]+)=(\S+)/g)) image.env[m[1]!] = m[2]!;
    if (word === 'USER') image.user = arg;
    if (word === 'ENTRYPOINT') image.entrypoint = JSON.parse(arg) as string[];
    if (word === 'CMD') image.cmd = JSON.parse(arg) as string[];
  }
  return image;
}

const image = readImage(readFileSync(DOCKERFILE, 'utf8'));
const canIsolate =
  process.getuid?.() === 0 &&
  spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', 'mount -o remount,bind,ro / && true']).status === 0;

let echo: TcpServer | undefined;
let emu: EmulatorProcess | undefined;
let client: HcmEnv | undefined;
let shared = '';
const forwarders: Forwarder[] = [];

beforeAll(async () => {
  echo = await startEchoServer();
  emu = await startEmulator({ config: testConfig([{ name: 'hc-meta', endpoint: `127.0.0.1:${echo.port}` }, { name: 'hc-bare' }]) });
  client = hcmEnv(emu.ca);
  for (const hc of ['hc-meta', 'hc-bare']) forwarders.push(await startForwarder(client, emu.hybridConnections[hc]!.send));
  // What the container can read: the emulator's CA (its trust) and the mounted secret.
  shared = mkdtempSync(join(tmpdir(), 'hcm-image-'));
  chmodSync(shared, 0o755);
  copyFileSync(emu.ca!, join(shared, 'ca.pem'));
  chmodSync(join(shared, 'ca.pem'), 0o644);
}, 60_000);

afterAll(async () => {
  for (const f of forwarders) await f.stop();
  await emu?.stop();
  await echo?.close();
  removeHome(client);
  removeDir(emu?.stateDir);
  rmSync(shared, { recursive: true, force: true });
});

interface Container {
  proc: ChildProcess;
  output: () => string;
  metrics: string;
}

/** `docker run` of the image, as a process: its ENV plus `extra`, its USER, ENTRYPOINT and CMD. */
async function runImage(extra: Record<string, string>): Promise<Container> {
  const port = await freePort();
  // The image's metrics address, on a free port: tests run side by side on one machine.
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    ...image.env,
    HCM_METRICS: image.env.HCM_METRICS!.replace(/:\d+$/, `:${port}`),
    ...extra,
  };
  const [program, ...words] = [...image.entrypoint, ...image.cmd];
  expect(program).toBe('node');
  const scriptAt = words.findIndex((w) => !w.startsWith('-'));
  const [nodeOptions, script, args] = [words.slice(0, scriptAt), words[scriptAt]!, words.slice(scriptAt + 1)];
  // The image holds the build at /opt/open-hcm; here it is the repository's.
  const command = [process.execPath, ...nodeOptions, script.replace('/opt/open-hcm', ROOT), ...args];
  let proc: ChildProcess;
  if (canIsolate) {
    const [uid, gid] = image.user.split(':');
    const state = image.env.HCM_HOME!;
    // A private mount namespace: the state folder is a fresh tmpfs (an emptyDir), the rest read-only.
    const setup = [
      `mount -t tmpfs -o mode=0755 tmpfs ${join(state, '..')}`,
      `mkdir -m 0700 ${state}`,
      `chown ${uid}:${gid} ${state}`,
      'mount -o remount,bind,ro /',
      `exec setpriv --reuid=${uid} --regid=${gid} --clear-groups --no-new-privs -- "$@"`,
    ].join(' && ');
    proc = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', setup, 'sh', ...command], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } else {
    const state = mkdtempSync(join(tmpdir(), 'hcm-state-'));
    proc = spawn(command[0]!, command.slice(1), { env: { ...env, HOME: state, HCM_HOME: state }, stdio: ['ignore', 'pipe', 'pipe'] });
  }
  let output = '';
  proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  return { proc, output: () => output, metrics: `http://127.0.0.1:${port}` };
}

async function ready(c: Container): Promise<{ status: number; body: { ready: boolean; reasons: string[] } } | null> {
  try {
    const r = await fetch(`${c.metrics}/ready`);
    return { status: r.status, body: (await r.json()) as { ready: boolean; reasons: string[] } };
  } catch {
    return null;
  }
}

async function stop(c: Container): Promise<number | null> {
  if (c.proc.exitCode !== null) return c.proc.exitCode;
  const exited = new Promise<number | null>((resolve) => c.proc.once('exit', (code) => resolve(code)));
  c.proc.kill('SIGTERM');
  return exited;
}

async function echoThrough(port: number): Promise<void> {
  const s = await connectTcp(port);
  try {
    const payload = randomBytes(32 * 1024);
    const back = await echoRoundTrip(s, payload);
    expect(firstDifference(back, payload)).toBe(-1);
  } finally {
    s.destroy();
  }
}

describe('the container image (its entrypoint, run as a process)', () => {
  it('is non-root, and its default command is the agent with JSON logs', () => {
    expect(image.user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    expect(image.entrypoint.slice(1)).toEqual([...AGENT_NODE_FLAGS, '/opt/open-hcm/dist/cli/main.js']);
    expect(image.cmd).toEqual(['run', '--grace', '25', '--log-format', 'json']);
    expect(image.env.HCM_HOME).toBe('/var/lib/open-hcm');
  });

  it('runs from HCM_CONNECTION_STRINGS on a read-only root, ready once both listen, keys never in its output', async () => {
    const strings = [
      '# the orders database',
      emu!.hybridConnections['hc-meta']!.listen,
      '',
      `${emu!.hybridConnections['hc-bare']!.listen}   127.0.0.1:${echo!.port}`,
    ].join('\n');
    const c = await runImage({ HCM_CONNECTION_STRINGS: strings, HCM_CA_FILE: join(shared, 'ca.pem') });
    try {
      await waitFor(async () => (await ready(c))?.status === 200 || c.proc.exitCode !== null, 60_000, 'the container to be ready').catch(
        () => {
          throw new Error(c.output());
        },
      );
      expect(c.proc.exitCode, c.output()).toBeNull();
      for (const f of forwarders) await echoThrough(f.port);
      expect((await fetch(`${c.metrics}/healthz`)).status).toBe(200);

      const records = c
        .output()
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as { event: string; message: string; level: string });
      const applied = records.find((r) => r.event === 'env.applied')!;
      expect(applied.message).toBe('HCM_CONNECTION_STRINGS: added testns/hc-meta, testns/hc-bare');
      expect(records.filter((r) => r.level === 'error')).toEqual([]);
      expect(c.output()).not.toMatch(/EROFS|read-only file system/i);
      for (const key of Object.values(KEYS)) expect(c.output()).not.toContain(key);
    } finally {
      expect(await stop(c)).toBe(0);
    }
  }, 120_000);

  it('reads a mounted secret (HCM_CONNECTION_STRINGS_FILE), and says 503 with the reason while a Hybrid Connection cannot listen', async () => {
    const secret = join(shared, 'connection-strings');
    writeFileSync(secret, `${emu!.hybridConnections['hc-meta']!.listen}\n`);
    chmodSync(secret, 0o644);
    const c = await runImage({ HCM_CONNECTION_STRINGS_FILE: secret, HCM_CA_FILE: join(shared, 'ca.pem') });
    try {
      await waitFor(async () => (await ready(c))?.status === 200 || c.proc.exitCode !== null, 60_000, 'ready from the secret').catch(() => {
        throw new Error(c.output());
      });
      await echoThrough(forwarders[0]!.port);
      expect(await emu!.reload(testConfig([{ name: 'hc-bare' }]))).toBe('reloaded');
      await waitFor(async () => (await ready(c))?.status === 503, 20_000, 'not ready');
      expect((await ready(c))!.body.reasons[0]).toMatch(/^testns\/hc-meta: /);
    } finally {
      await emu!.reload(testConfig([{ name: 'hc-meta', endpoint: `127.0.0.1:${echo!.port}` }, { name: 'hc-bare' }]));
      expect(await stop(c)).toBe(0);
    }
    if (!canIsolate) console.log('not root or no mount namespaces here: the read-only root file system was not simulated');
  }, 120_000);
});

describe('the Kubernetes manifests', () => {
  const docs = MANIFESTS.flatMap((f) =>
    parseAllDocuments(readFileSync(f, 'utf8')).map((d) => d.toJS() as { apiVersion: string; kind: string }),
  );

  it('validate against the Kubernetes schemas (kubernetes-models, offline)', async () => {
    // Each model's constructor takes that kind's own shape; here the parsed YAML is handed over as it is.
    type AnyModel = new (data: never) => { validate(): void };
    const models: Record<string, () => Promise<AnyModel>> = {
      'v1/Namespace': async () => (await import('kubernetes-models/v1/Namespace')).Namespace,
      'v1/Secret': async () => (await import('kubernetes-models/v1/Secret')).Secret,
      'v1/Service': async () => (await import('kubernetes-models/v1/Service')).Service,
      'apps/v1/Deployment': async () => (await import('kubernetes-models/apps/v1/Deployment')).Deployment,
      'policy/v1/PodDisruptionBudget': async () => (await import('kubernetes-models/policy/v1/PodDisruptionBudget')).PodDisruptionBudget,
    };
    expect(docs.map((d) => `${d.apiVersion}/${d.kind}`).sort()).toEqual(Object.keys(models).sort());
    for (const d of docs) {
      const Model = await models[`${d.apiVersion}/${d.kind}`]!();
      expect(() => new Model(d as never).validate(), `${d.apiVersion}/${d.kind}`).not.toThrow();
    }
    // The validator does catch mistakes (so a pass means something).
    const Deployment = await models['apps/v1/Deployment']!();
    const broken = structuredClone(docs.find((d) => d.kind === 'Deployment')) as unknown as { spec: { replicas: unknown } };
    broken.spec.replicas = 'two';
    expect(() => new Deployment(broken as never).validate()).toThrow(/replicas must be integer/);
  });

  it('run redundant listeners, probe /ready, expose metrics, and keep the pod locked down', () => {
    type Container = {
      args: string[];
      env: Array<{ name: string; value: string }>;
      ports: Array<{ name: string; containerPort: number }>;
      readinessProbe: { httpGet: { path: string; port: string } };
      livenessProbe: { httpGet: { path: string } };
      securityContext: { readOnlyRootFilesystem: boolean; allowPrivilegeEscalation: boolean; capabilities: { drop: string[] } };
      volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
    };
    const deployment = docs.find((d) => d.kind === 'Deployment') as unknown as {
      spec: {
        replicas: number;
        strategy: { rollingUpdate: { maxUnavailable: number } };
        template: {
          spec: {
            securityContext: { runAsNonRoot: boolean; runAsUser: number };
            containers: Container[];
            volumes: Array<{ name: string; emptyDir?: object; secret?: { secretName: string } }>;
          };
        };
      };
    };
    const pod = deployment.spec.template.spec;
    const agent = pod.containers[0]!;
    expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    expect(agent.args).toEqual(image.cmd);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(`${pod.securityContext.runAsUser}:${pod.securityContext.runAsUser}`).toBe(image.user);
    expect(agent.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(agent.readinessProbe.httpGet).toEqual({ path: '/ready', port: 'metrics' });
    expect(agent.livenessProbe.httpGet.path).toBe('/healthz');
    expect(agent.ports).toEqual([{ name: 'metrics', containerPort: 9464, protocol: 'TCP' }]);
    const env = Object.fromEntries(agent.env.map((e) => [e.name, e.value]));
    expect(env.HCM_METRICS).toBe('0.0.0.0:9464');
    // The state folder is an emptyDir at HCM_HOME; the secret holds the connection strings file.
    const mounts = Object.fromEntries(agent.volumeMounts.map((m) => [m.name, m]));
    expect(mounts.state!.mountPath).toBe(image.env.HCM_HOME);
    expect(pod.volumes.find((v) => v.name === 'state')!.emptyDir).toBeDefined();
    expect(mounts.connections).toMatchObject({ readOnly: true });
    expect(env.HCM_CONNECTION_STRINGS_FILE!.startsWith(`${mounts.connections!.mountPath}/`)).toBe(true);
    const secretName = pod.volumes.find((v) => v.name === 'connections')!.secret!.secretName;
    const secret = docs.find((d) => d.kind === 'Secret') as unknown as { metadata: { name: string }; stringData: Record<string, string> };
    expect(secret.metadata.name).toBe(secretName);
    expect(Object.keys(secret.stringData)).toEqual([env.HCM_CONNECTION_STRINGS_FILE!.split('/').pop()]);
  });
});
