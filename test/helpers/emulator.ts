import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConnectionString } from '../../src/relay/connection-string.js';
import { createSasToken, sasAudience } from '../../src/relay/sas.js';
import { CLI } from './paths.js';

export interface EmulatorProcess {
  port: number;
  ca: string | null;
  caPem: string | undefined;
  hybridConnections: Record<string, { listen: string; send: string }>;
  /** Entra ID and ARM, from the ready line (absent with --no-azure). */
  azure?: EmulatorAzure;
  proc: ChildProcess;
  stateDir: string;
  configFile: string | undefined;
  /** Everything the process wrote to stdout so far (the ready line included). */
  stdout: () => string;
  stderr: () => string;
  /** Resolves when the process has exited. */
  exited: Promise<ExitInfo>;
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop: () => Promise<number | null>;
  /** Sends a signal and waits for the process to exit. */
  signal: (signal: NodeJS.Signals) => Promise<ExitInfo>;
  kill: () => Promise<void>;
  /** Rewrites the config file (an object as JSON, a string as is), sends SIGHUP and waits for the outcome. */
  reload: (config: unknown) => Promise<'reloaded' | 'failed'>;
  /** Calls an /$emulator/ admin hook with a Manage token. */
  admin: (
    hc: string,
    operation?: 'close' | 'drop' | 'freeze' | 'send',
    query?: string,
    body?: string,
  ) => Promise<{ status: number; text: string }>;
}

/** The ready line's `azure` part (see the README's relay emulator section). */
export interface EmulatorAzure {
  authority: string;
  arm: string;
  tenantId: string;
  users: Array<{ username: string; password: string }>;
  knownAuthority: string;
  clientId: string;
  ca: string;
  tenants: Array<{ id: string; domain: string; name: string }>;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StartEmulatorOptions {
  plain?: boolean;
  config?: unknown;
  args?: string[];
  stateDir?: string;
  port?: number;
  manageKeyName?: string;
  manageKey?: string;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

export async function startEmulator(options: StartEmulatorOptions = {}): Promise<EmulatorProcess> {
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), 'hcm-emu-'));
  let configFile: string | undefined;
  if (options.config !== undefined) {
    configFile = join(stateDir, 'emulator.json');
    writeFileSync(configFile, JSON.stringify(options.config, null, 2));
  }
  const args = [CLI, 'emulator', '--port', String(options.port ?? 0), '--state-dir', stateDir];
  if (options.plain) args.push('--plain');
  if (configFile) args.push('--config', configFile);
  args.push(...(options.args ?? []));
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(proc);
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  proc.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  // 'close' (not 'exit') so stdout and stderr are complete when it resolves.
  const exited = new Promise<ExitInfo>((resolve) =>
    proc.once('close', (code, signal) => {
      running.delete(proc);
      resolve({ code, signal });
    }),
  );
  const line = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const end = stdout.indexOf('\n');
      if (end < 0) return;
      proc.stdout.off('data', check);
      resolve(stdout.slice(0, end));
    };
    proc.stdout.on('data', check);
    void exited.then(({ code }) => reject(new Error(`emulator exited with ${code} before its ready line:\n${stderr}`)));
  });
  const ready = JSON.parse(line) as {
    port: number;
    ca: string | null;
    hybridConnections: Record<string, { listen: string; send: string }>;
    azure?: EmulatorAzure;
  };
  const caPem = ready.ca ? readFileSync(ready.ca, 'utf8') : undefined;
  const scheme = ready.ca ? 'https' : 'http';
  await servedOnce(`${scheme}://localhost:${ready.port}/`, caPem);
  const admin: EmulatorProcess['admin'] = async (hc, operation, query = '', body) => {
    const keyName = options.manageKeyName ?? 'RootManageSharedAccessKey';
    const key = options.manageKey ?? manageKeyFrom(options.config);
    if (!key) throw new Error('admin hooks need a known Manage key: pass one in the config');
    const token = createSasToken({ audience: sasAudience('localhost', hc), keyName, key });
    const { request } = await import(scheme === 'https' ? 'node:https' : 'node:http');
    return new Promise((resolve, reject) => {
      const req = request(
        `${scheme}://localhost:${ready.port}/$emulator/hybridConnections/${hc}${operation ? `/listeners/${operation}` : ''}${query ? `?${query}` : ''}`,
        { method: operation ? 'POST' : 'GET', headers: { Authorization: token }, ca: caPem },
        (res: import('node:http').IncomingMessage) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  };
  return {
    ...ready,
    caPem,
    proc,
    stateDir,
    configFile,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    stop: async () => {
      proc.kill('SIGTERM');
      return (await exited).code;
    },
    signal: async (signal) => {
      proc.kill(signal);
      return exited;
    },
    kill: async () => {
      proc.kill('SIGKILL');
      await exited;
    },
    reload: async (config) => {
      if (!configFile) throw new Error('reload needs an emulator started with a config');
      writeFileSync(configFile, typeof config === 'string' ? config : JSON.stringify(config, null, 2));
      // Only log lines written after this signal count, so a second reload waits for its own outcome.
      const from = stderr.length;
      proc.kill('SIGHUP');
      let outcome: 'reloaded' | 'failed' | undefined;
      await waitFor(
        () => {
          const fresh = stderr.slice(from);
          outcome = fresh.includes('configuration reloaded') ? 'reloaded' : fresh.includes('reload failed') ? 'failed' : undefined;
          return outcome !== undefined;
        },
        20_000,
        'the emulator to log the reload outcome',
      );
      return outcome!;
    },
    admin,
  };
}

/** Runs `hcm emulator` with these arguments when it is expected to exit by itself (e.g. a bad config). */
export async function runEmulatorToExit(args: string[], timeoutMs = 30_000): Promise<ExitInfo & { stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, [CLI, 'emulator', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(proc);
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  const [code, signal] = (await once(proc, 'close')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  running.delete(proc);
  return { code, signal, stdout, stderr };
}

/**
 * `hcm emulator` installs its SIGINT/SIGTERM handlers just after printing the ready line, so a
 * signal sent the instant the line arrives can still meet the default action. A served request
 * proves the command's synchronous start-up (handlers included) has finished.
 */
async function servedOnce(url: string, ca: string | undefined): Promise<void> {
  const { get } = await import(url.startsWith('https:') ? 'node:https' : 'node:http');
  await new Promise<void>((resolve, reject) => {
    get(url, { ca }, (res: import('node:http').IncomingMessage) => {
      res.resume();
      res.on('end', () => resolve());
    }).on('error', reject);
  });
}

function manageKeyFrom(config: unknown): string | undefined {
  const ns = (config as { namespaces?: Array<{ rules?: Array<{ name: string; rights: string[]; primaryKey?: string }> }> } | undefined)
    ?.namespaces?.[0];
  return ns?.rules?.find((r) => r.rights.includes('Manage'))?.primaryKey;
}

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const KEYS = {
  root: 'Rm9vQmFyUm9vdE1hbmFnZUtleUZvclRlc3RzT25seQ==',
  listen: 'TGlzdGVuS2V5Rm9yVGVzdHNPbmx5MDEyMzQ1Njc4OQ==',
  send: 'U2VuZEtleUZvclRlc3RzT25seTAxMjM0NTY3ODk=',
};

/** A config with fixed keys (restarts keep them) and the given Hybrid Connections. */
export function testConfig(
  hybridConnections: Array<{ name: string; endpoint?: string; userMetadata?: string; requiresClientAuthorization?: boolean }>,
) {
  return {
    namespaces: [
      {
        name: 'testns',
        rules: [{ name: 'RootManageSharedAccessKey', rights: ['Listen', 'Send', 'Manage'], primaryKey: KEYS.root }],
        hybridConnections: hybridConnections.map((hc) => ({
          ...hc,
          rules: [
            { name: 'defaultListener', rights: ['Listen'], primaryKey: KEYS.listen },
            { name: 'defaultSender', rights: ['Send'], primaryKey: KEYS.send },
          ],
        })),
      },
    ],
  };
}

/** wss/ws URL and token helpers for raw `ws` clients in protocol tests. */
export function listenUrl(emu: EmulatorProcess, hc: string, extra = ''): string {
  const cs = parseConnectionString(emu.hybridConnections[hc]!.listen);
  const scheme = cs.useDevelopmentEmulator ? 'ws' : 'wss';
  return `${scheme}://localhost:${emu.port}/$hc/${hc}?sb-hc-action=listen&sb-hc-id=test${extra}`;
}

export function tokenFor(connectionString: string, ttlSeconds = 3600, entity?: string): string {
  const cs = parseConnectionString(connectionString);
  return createSasToken({
    audience: sasAudience(cs.host, entity ?? cs.entityPath),
    keyName: cs.sharedAccessKeyName!,
    key: cs.sharedAccessKey!,
    ttlSeconds,
  });
}
