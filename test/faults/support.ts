import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { ControlClient } from '../../src/core/control-socket.js';
import { hcmPaths } from '../../src/core/paths.js';
import type { ConnectionSummary } from '../../src/shared/api.js';
import { type HcmEnv, type RunningProcess, watchProcess } from '../helpers/agent.js';
import { waitFor } from '../helpers/emulator.js';
import { CLI } from '../helpers/paths.js';

/**
 * What the fault suite's tests share: the agent as a real `hcm run` process that can be measured
 * from outside (descriptors and memory from /proc, handles and timers from a preloaded probe),
 * its status as pushed on the control socket, round trips through `hcm connect`, and small
 * statistics.
 */

const PROBE = fileURLToPath(new URL('./agent-probe.cjs', import.meta.url));

export interface ProbedAgent extends RunningProcess {
  pid: number;
}

/** `hcm run` with the probe preloaded; resolves once it says it started. */
export async function startProbedAgent(env: HcmEnv, args: string[] = []): Promise<ProbedAgent> {
  const probeFile = `${env.home}/probe.json`;
  const proc = spawn(process.execPath, ['--expose-gc', '--require', PROBE, CLI, 'run', ...args], {
    env: { ...env.env, HCM_FAULT_PROBE_FILE: probeFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const agent = watchProcess(proc);
  await waitFor(() => agent.output().includes('agent started') || proc.exitCode !== null, 60_000, 'agent start');
  if (proc.exitCode !== null) throw new Error(`hcm run exited early:\n${agent.output()}`);
  return { ...agent, pid: proc.pid! };
}

export interface ProbeReport {
  seq: number;
  at: number;
  rss: number;
  /** The V8 heap as reserved from the system (heapUsed is what lives in it after the GC). */
  heapTotal: number;
  heapUsed: number;
  external: number;
  /** Active handles and timers by type (process.getActiveResourcesInfo()). */
  resources: Record<string, number>;
}

/** Asks the agent's probe (SIGUSR2) for memory after a full GC and its active handles and timers. */
export async function probe(agent: ProbedAgent, home: string): Promise<ProbeReport> {
  const file = `${home}/probe.json`;
  const before = readProbe(file)?.seq ?? 0;
  agent.proc.kill('SIGUSR2');
  let report: ProbeReport | undefined;
  await waitFor(
    () => {
      report = readProbe(file);
      return (report?.seq ?? 0) > before;
    },
    20_000,
    'the agent probe to answer',
  );
  return report!;
}

function readProbe(file: string): ProbeReport | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ProbeReport;
  } catch {
    return undefined;
  }
}

/** Open file descriptors of a process, by kind (socket, pipe, anon_inode:[eventpoll], a path…) and in total. */
export function openFds(pid: number): { total: number; byKind: Record<string, number> } {
  const byKind: Record<string, number> = {};
  let total = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = readlinkKind(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed while listing
    }
    total++;
    byKind[target] = (byKind[target] ?? 0) + 1;
  }
  return { total, byKind };
}

function readlinkKind(path: string): string {
  const target = readlinkSync(path);
  const m = /^(socket|pipe|anon_inode):/.exec(target);
  if (m) return target.startsWith('anon_inode:') ? target : m[1]!;
  return 'file';
}

/** Resident set size of a process in bytes (/proc/<pid>/status VmRSS). */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Waits until `measure` stays at or below `limit`; resolves with the last value. */
export async function settlesAtMost(measure: () => number, limit: number, timeoutMs: number): Promise<number> {
  let last = measure();
  const deadline = Date.now() + timeoutMs;
  while (last > limit && Date.now() < deadline) {
    await sleep(250);
    last = measure();
  }
  return last;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ------------------------------------------------------------ status as the agent pushes it

export interface StatusChange {
  at: number;
  status: ConnectionSummary['status'];
  lastError: string | null;
}

/**
 * Subscribes to the agent's `connections` events on its control socket (what `hcm ui` and the
 * desktop app see) and records every status change of one connection with the time it arrived.
 */
export async function watchStatus(env: HcmEnv, name: string): Promise<StatusWatch> {
  const client = await ControlClient.connect(hcmPaths(env.env).controlSocket);
  if (!client) throw new Error('no agent answers on the control socket');
  const watch = new StatusWatch(client, name);
  await client.subscribe(['connections'], (_event, payload) => watch.onConnections(payload as ConnectionSummary[]));
  watch.onConnections(await client.call('listConnections'));
  return watch;
}

export class StatusWatch {
  readonly changes: StatusChange[] = [];
  latest: ConnectionSummary | undefined;

  constructor(
    private readonly client: ControlClient,
    private readonly name: string,
  ) {}

  onConnections(list: ConnectionSummary[]): void {
    const c = list.find((x) => x.name === this.name);
    if (!c) return;
    this.latest = c;
    const last = this.changes.at(-1);
    if (last?.status !== c.status) this.changes.push({ at: Date.now(), status: c.status, lastError: c.lastError?.message ?? null });
  }

  get status(): ConnectionSummary['status'] | undefined {
    return this.latest?.status;
  }

  /** The first change to `status` that arrived at or after `since`. */
  async reached(status: ConnectionSummary['status'], since: number, timeoutMs: number): Promise<StatusChange> {
    let found: StatusChange | undefined;
    await waitFor(
      () => (found = this.changes.find((c) => c.at >= since && c.status === status)) !== undefined,
      timeoutMs,
      `status ${status}`,
    );
    return found!;
  }

  close(): void {
    this.client.close();
  }
}

// ------------------------------------------------------------ traffic

export type RoundTripOutcome =
  | { kind: 'ok'; ms: number }
  /** Closed without a byte back: the relay refused the rendezvous (502) or the endpoint cut it. */
  | { kind: 'closed'; ms: number }
  | { kind: 'wrong'; ms: number; detail: string };

/** One connection through `hcm connect`: sends `payload`, expects it echoed, then closes. */
export function roundTrip(port: number, payload: string, timeoutMs = 30_000): Promise<RoundTripOutcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    let done = false;
    const finish = (outcome: RoundTripOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(
      () => finish({ kind: 'wrong', ms: Date.now() - started, detail: `no answer within ${timeoutMs} ms` }),
      timeoutMs,
    );
    socket.on('data', (d) => {
      data += d.toString();
      if (data.length >= payload.length) {
        finish(
          data === payload
            ? { kind: 'ok', ms: Date.now() - started }
            : { kind: 'wrong', ms: Date.now() - started, detail: `got ${JSON.stringify(data.slice(0, 80))}` },
        );
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () =>
      finish(
        data === ''
          ? { kind: 'closed', ms: Date.now() - started }
          : { kind: 'wrong', ms: Date.now() - started, detail: `cut after ${data.length} of ${payload.length} bytes` },
      ),
    );
    socket.write(payload);
  });
}

/** A tunnel kept open: echoes checked on demand, and whether (and when) it was closed under us. */
export interface HeldTunnel {
  socket: net.Socket;
  closedAt: number | undefined;
  echo(text: string, timeoutMs?: number): Promise<boolean>;
}

export async function holdTunnel(port: number): Promise<HeldTunnel> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  socket.on('error', () => undefined);
  let buffer = '';
  socket.on('data', (d) => (buffer += d.toString()));
  const held: HeldTunnel = {
    socket,
    closedAt: undefined,
    echo: async (text, timeoutMs = 20_000) => {
      buffer = '';
      socket.write(text);
      try {
        await waitFor(() => buffer.length >= text.length || held.closedAt !== undefined, timeoutMs, 'an echo on the held tunnel');
      } catch {
        return false;
      }
      return buffer === text;
    },
  };
  socket.on('close', () => (held.closedAt = Date.now()));
  return held;
}

// ------------------------------------------------------------ numbers

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function mean(values: number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
}

export const MiB = 1024 * 1024;

export function mib(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}

/** Lines of a log that match, counted. */
export function countMatches(text: string, re: RegExp): number {
  return text.match(new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`))?.length ?? 0;
}

// ------------------------------------------------------------ a relay to kill

const RELAY = fileURLToPath(new URL('./relay-process.mjs', import.meta.url));

export interface RelayProcess {
  proc: ChildProcess;
  port: number;
  ca: string;
  hybridConnections: Record<string, { listen: string; send: string }>;
  /** When its port was open (its own log line's timestamp). */
  listeningAt: number;
  stderr: () => string;
  /** SIGKILL; resolves once it is gone. */
  kill: () => Promise<void>;
}

const relays = new Set<ChildProcess>();
process.on('exit', () => {
  for (const r of relays) r.kill('SIGKILL');
});

/** Starts relay-process.mjs; resolves once its ready line and its listening line are in. */
export async function startRelay(configFile: string, stateDir: string, port: number): Promise<RelayProcess> {
  const proc = spawn(process.execPath, [RELAY, configFile, stateDir, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  relays.add(proc);
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) =>
    proc.once('close', () => {
      relays.delete(proc);
      resolve();
    }),
  );
  let listening: RegExpExecArray | null = null;
  await waitFor(
    () => (listening = /^(\S+) info relay emulator listening on /m.exec(stderr)) !== null || proc.exitCode !== null,
    60_000,
    'the relay to listen',
  );
  if (!listening) throw new Error(`the relay exited before listening:\n${stderr}`);
  const ready = JSON.parse(stdout.slice(0, stdout.indexOf('\n'))) as {
    port: number;
    ca: string;
    hybridConnections: RelayProcess['hybridConnections'];
  };
  return {
    proc,
    ...ready,
    listeningAt: Date.parse((listening as RegExpExecArray)[1]!),
    stderr: () => stderr,
    kill: async () => {
      proc.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * A free loopback port below the ephemeral range (32768+ on Linux), so that while the relay is
 * down no outgoing connection on this machine is given it as its local port.
 */
export async function portOutsideEphemeralRange(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port found between 20000 and 30000');
}

// ------------------------------------------------------------ a proxy that goes silent

/**
 * A TCP forwarder in the path to the relay that can go silent the way a NAT or firewall that lost
 * its state does: the connections through it stay open at both ends, but bytes in either direction
 * are dropped without an error, a reset or a close. Connections opened after that are forwarded
 * normally (a new flow gets new state).
 */
export class SilenceableProxy {
  private readonly server: net.Server;
  private readonly pairs = new Set<{ client: net.Socket; upstream: net.Socket; silent: boolean }>();
  connections = 0;
  droppedBytes = 0;

  private constructor(private readonly target: number) {
    this.server = net.createServer((client) => {
      this.connections++;
      const upstream = net.connect(this.target, '127.0.0.1');
      const pair = { client, upstream, silent: false };
      this.pairs.add(pair);
      const forward = (from: net.Socket, to: net.Socket) =>
        from.on('data', (d: Buffer) => {
          if (pair.silent) this.droppedBytes += d.length;
          else to.write(d);
        });
      forward(client, upstream);
      forward(upstream, client);
      const end = () => {
        if (pair.silent) return; // a silent path tells nobody anything
        this.pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('close', end);
      upstream.on('close', end);
      client.on('error', () => undefined);
      upstream.on('error', () => undefined);
    });
  }

  static async start(target: number): Promise<SilenceableProxy> {
    const proxy = new SilenceableProxy(target);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', () => resolve()));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Every connection open now goes silent (and stays open); returns how many. */
  silenceOpenConnections(): number {
    let n = 0;
    for (const p of this.pairs) {
      if (!p.silent) n++;
      p.silent = true;
    }
    return n;
  }

  async close(): Promise<void> {
    for (const p of this.pairs) {
      p.client.destroy();
      p.upstream.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
