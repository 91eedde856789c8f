import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { ConfigStore } from '../../src/core/config-store.js';
import { hcmPaths } from '../../src/core/paths.js';
import type { ConnectionSummary } from '../../src/shared/api.js';
import { type HcmEnv, hcm, hcmEnv } from '../helpers/agent.js';
import { type EmulatorProcess, KEYS, startEmulator, testConfig } from '../helpers/emulator.js';
import { CLI } from '../helpers/paths.js';
import { Figures } from './figures.js';
import { mean, percentile } from './support.js';

/**
 * Issue 15, item 5, fourth fault: SIGKILL at random moments during CHANGES changes of the saved
 * configuration. The next command must always work (no wedged lock, no unreadable file) and no
 * acknowledged change may be lost: an addition acknowledged is there, a removal acknowledged is
 * gone, an endpoint acknowledged is the endpoint.
 *
 * Three writers at once, as a CLI and an agent and a UI may be: two config-writer.mjs processes
 * (the ConfigStore of every `hcm` command, writing as fast as they can, each killed after a few
 * changes at a random moment inside a change: its lock, reads, writes, fsyncs and renames) and the
 * real `hcm add --endpoint` / `hcm set-endpoint` / `hcm remove` on a Hybrid Connection of its own,
 * killed at a random moment of its run 40 % of the time. A real `hcm` command is ~2 s of start-up
 * on this machine, most of it before the configuration is touched, so a kill of the CLI alone
 * would rarely land in a write; the writers put the kills where the data is.
 * Acknowledged = a writer printed "ack" after the write returned / the CLI exited 0 and said so.
 */

const CHANGES = 1000;
const WRITERS = 2;
const NAMES_PER_WRITER = 6;
/** A writer is killed after 1…MAX_CHANGES_PER_LIFE acknowledged changes, at a random moment of the next one. */
const MAX_CHANGES_PER_LIFE = 12;
const CLI_KILL_CHANCE = 0.4;
/** A change that has not finished after this long means something is wedged (the lock waits 30 s). */
const WEDGED_MS = 40_000;

const WRITER = fileURLToPath(new URL('./config-writer.mjs', import.meta.url));
const figures = new Figures(4, `SIGKILL at random moments during ${CHANGES} configuration changes`);
let emu: EmulatorProcess | undefined;
let env: HcmEnv | undefined;

afterAll(async () => {
  await emu?.kill();
  if (env) rmSync(env.home, { recursive: true, force: true });
  if (emu) rmSync(emu.stateDir, { recursive: true, force: true });
});

type State = { present: false } | { present: true; endpoint: string };

/** Per Hybrid Connection: the state its last acknowledged change left, and what changes since then (not acknowledged) may have left. */
class Ledger {
  private readonly entries = new Map<string, { acked: State; pending: State[] }>();
  acknowledged = 0;

  track(name: string): void {
    this.entries.set(name, { acked: { present: false }, pending: [] });
  }

  intent(name: string, state: State): void {
    this.entries.get(name)!.pending.push(state);
  }

  ack(name: string): void {
    const e = this.entries.get(name)!;
    e.acked = e.pending.at(-1)!;
    e.pending = [];
    this.acknowledged++;
  }

  acked(name: string): State {
    return this.entries.get(name)!.acked;
  }

  /** What is wrong about these names in `actual` (name → endpoint of the saved connections). */
  check(actual: Map<string, string>, names: Iterable<string> = this.entries.keys()): string[] {
    const problems: string[] = [];
    for (const name of names) {
      const e = this.entries.get(name)!;
      const endpoint = actual.get(name);
      const now: State = endpoint === undefined ? { present: false } : { present: true, endpoint };
      const same = (s: State) => s.present === now.present && (!s.present || !now.present || s.endpoint === now.endpoint);
      if (!same(e.acked) && !e.pending.some(same)) {
        problems.push(
          `${name}: acknowledged ${show(e.acked)}, found ${show(now)}${e.pending.length ? ` (or else ${e.pending.map(show).join(' / ')})` : ''}`,
        );
      }
    }
    for (const name of actual.keys()) if (!this.entries.has(name)) problems.push(`${name}: found but never added`);
    return problems;
  }
}

function show(s: State): string {
  return s.present ? `present (${s.endpoint})` : 'absent';
}

let started = 0;
const problems: string[] = [];

function savedNow(home: string): Map<string, string> {
  const store = new ConfigStore(hcmPaths({ HCM_HOME: home }));
  return new Map(store.load().connections.map((c) => [c.name, c.endpoint]));
}

interface WriterStats {
  lives: number;
  kills: number;
  /** Lives that followed a kill and whose first change was acknowledged: "the next command worked". */
  nextWorked: number;
  changeMs: number[];
}

/** One writer lane: a config-writer.mjs process after another, each killed at a random moment. */
async function writerLane(home: string, relay: string, names: string[], ledger: Ledger, stats: WriterStats): Promise<void> {
  while (started < CHANGES && problems.length === 0) {
    stats.lives++;
    const afterKill = stats.lives > 1;
    const child = spawn(process.execPath, [WRITER, relay, KEYS.listen, ...names], {
      env: { ...process.env, HCM_HOME: home, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const target = 1 + Math.floor(Math.random() * MAX_CHANGES_PER_LIFE);
    let acks = 0;
    let killTimer: NodeJS.Timeout | undefined;
    let killedByUs = false;
    let lastAckAt = 0;
    let typicalMs = 20;
    let lastProgress = Date.now();
    const inFlight = new Map<number, string>();
    const kill = () => {
      killedByUs = true;
      child.kill('SIGKILL');
    };
    const scheduleKill = () => {
      if (killTimer) return;
      // Anywhere inside the next change: lock, reads, the two atomic writes with their fsyncs.
      killTimer = setTimeout(kill, Math.random() * 1.5 * typicalMs);
    };
    let buffer = '';
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl).split(' ');
        buffer = buffer.slice(nl + 1);
        lastProgress = Date.now();
        if (line[0] === 'intent') {
          started++;
          const [, seq, op, name, endpoint] = line as [string, string, string, string, string | undefined];
          inFlight.set(Number(seq), name);
          ledger.intent(name, op === 'remove' ? { present: false } : { present: true, endpoint: endpoint! });
          if (started >= CHANGES && acks > 0) scheduleKill();
        } else if (line[0] === 'ack') {
          const name = inFlight.get(Number(line[1]))!;
          inFlight.delete(Number(line[1]));
          ledger.ack(name);
          const now = Date.now();
          if (acks > 0) {
            stats.changeMs.push(now - lastAckAt);
            typicalMs = 0.8 * typicalMs + 0.2 * (now - lastAckAt);
          }
          lastAckAt = now;
          acks++;
          if (acks === 1 && afterKill) stats.nextWorked++;
          if (acks >= target || started >= CHANGES) scheduleKill();
        }
      }
    });
    const watchdog = setInterval(() => {
      if (Date.now() - lastProgress > WEDGED_MS) {
        problems.push(`a writer made no progress for ${WEDGED_MS / 1000} s (wedged?)`);
        kill();
      }
    }, 1000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.once('close', (c: number | null, s: NodeJS.Signals | null) => resolve([c, s])),
    );
    clearTimeout(killTimer);
    clearInterval(watchdog);
    if (!(killedByUs && signal === 'SIGKILL')) {
      problems.push(`a writer ended by itself (code ${code}, signal ${signal}):\n${stderr}`);
      return;
    }
    stats.kills++;
    // Nobody else writes these names: the files must already say what was acknowledged.
    try {
      problems.push(...ledger.check(savedNow(home), names));
    } catch (err) {
      problems.push(`after a kill the configuration cannot be read: ${(err as Error).message}`);
    }
  }
}

interface CliStats {
  commands: number;
  kills: number;
  acknowledged: number;
  /** Commands that followed a killed one, and those of them that worked. */
  afterKill: number;
  nextWorked: number;
}

/** The real `hcm` on a Hybrid Connection of its own: add / set-endpoint / remove, killed at random moments. */
async function cliLane(e: HcmEnv, listen: string, ledger: Ledger, stats: CliStats): Promise<void> {
  let previousKilled = false;
  while (started < CHANGES && problems.length === 0) {
    const present = savedNow(e.home).get('cli-hc');
    const to = `127.0.0.1:${10_000 + Math.floor(Math.random() * 50_000)}`;
    let args: string[];
    let next: State;
    let confirmation: RegExp;
    if (present === undefined) {
      [args, next, confirmation] = [['add', listen, '--endpoint', to], { present: true, endpoint: to }, /^added testns\/cli-hc -> /m];
    } else if (Math.random() < 0.5) {
      [args, next, confirmation] = [['set-endpoint', 'cli-hc', to], { present: true, endpoint: to }, /^testns\/cli-hc -> /m];
    } else {
      [args, next, confirmation] = [['remove', 'cli-hc'], { present: false }, /^removed testns\/cli-hc$/m];
    }
    started++;
    stats.commands++;
    ledger.intent('cli-hc', next);
    const killAfter = Math.random() < CLI_KILL_CHANCE ? Math.random() * 3000 : undefined;
    const r = await runKillable(e, args, killAfter);
    if (r.signal === 'SIGKILL') {
      stats.kills++;
      previousKilled = true;
      continue;
    }
    if (previousKilled) stats.afterKill++; // a command after a killed one that was not killed itself
    if (r.code !== 0 || !confirmation.test(r.stdout)) {
      problems.push(`hcm ${args[0]} ${previousKilled ? 'after a killed one ' : ''}did not work (${r.code}): ${r.stdout}${r.stderr}`);
      return;
    }
    ledger.ack('cli-hc');
    stats.acknowledged++;
    if (previousKilled) stats.nextWorked++;
    previousKilled = false;
  }
}

function runKillable(
  e: HcmEnv,
  args: string[],
  killAfterMs: number | undefined,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const child: ChildProcess = spawn(process.execPath, [CLI, ...args], { env: e.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const killer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  const wedged = setTimeout(() => {
    problems.push(`hcm ${args.join(' ')} did not finish within ${WEDGED_MS / 1000} s (wedged?)`);
    child.kill('SIGKILL');
  }, WEDGED_MS + 20_000);
  return new Promise((resolve) =>
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(killer);
      clearTimeout(wedged);
      resolve({ code, signal, stdout, stderr });
    }),
  );
}

it(`SIGKILL at random moments during ${CHANGES} changes: the next command always works, nothing acknowledged is lost`, async () => {
  emu = await startEmulator({ config: testConfig([{ name: 'cli-hc' }]), args: ['--no-azure'] });
  env = hcmEnv(emu.ca, { HCM_UPDATE_CHECK: 'off' });
  const home = env.home;
  const relay = `sb://testns.localhost:${emu.port}/`;
  const ledger = new Ledger();
  ledger.track('cli-hc');
  const lanes: Array<{ names: string[]; stats: WriterStats }> = [];
  for (let w = 0; w < WRITERS; w++) {
    const names = Array.from({ length: NAMES_PER_WRITER }, (_, i) => `w${w}-hc${i}`);
    names.forEach((n) => ledger.track(n));
    lanes.push({ names, stats: { lives: 0, kills: 0, nextWorked: 0, changeMs: [] } });
  }
  const cli: CliStats = { commands: 0, kills: 0, acknowledged: 0, afterKill: 0, nextWorked: 0 };
  const t0 = Date.now();
  await Promise.all([
    ...lanes.map((l) => writerLane(home, relay, l.names, ledger, l.stats)),
    cliLane(env, emu.hybridConnections['cli-hc']!.listen, ledger, cli),
  ]);
  const seconds = Math.round((Date.now() - t0) / 1000);

  // Everything stopped: the whole configuration against the ledger, read by the real CLI.
  const listed = await hcm(env, ['list', '--json']);
  expect(listed.code, listed.stderr).toBe(0);
  const viaCli = new Map(
    (JSON.parse(listed.stdout) as { connections: ConnectionSummary[] }).connections.map((c) => [c.name, c.endpoint] as [string, string]),
  );
  problems.push(...ledger.check(viaCli).map((p) => `hcm list: ${p}`));
  problems.push(...ledger.check(savedNow(home)).map((p) => `files: ${p}`));

  // A lock left empty: a process killed between creating the lock file and writing its name in it.
  writeFileSync(join(home, 'config.lock'), '');
  const longAgo = new Date(Date.now() - 60_000);
  utimesSync(join(home, 'config.lock'), longAgo, longAgo);
  const emptyLockStarted = Date.now();
  const afterEmptyLock =
    viaCli.get('cli-hc') === undefined
      ? await hcm(env, ['add', emu.hybridConnections['cli-hc']!.listen, '--endpoint', '127.0.0.1:4000'])
      : await hcm(env, ['set-endpoint', 'cli-hc', '127.0.0.1:4000']);
  const emptyLockMs = Date.now() - emptyLockStarted;
  const leftovers = readdirSync(home).filter((n) => n.endsWith('.tmp') || n.startsWith('config.lock'));

  const writerKills = lanes.reduce((n, l) => n + l.stats.kills, 0);
  const lives = lanes.reduce((n, l) => n + l.stats.lives, 0);
  const nextWorked = lanes.reduce((n, l) => n + l.stats.nextWorked, 0) + cli.nextWorked;
  const nextCommands = lives - WRITERS + cli.afterKill;
  const changeMs = lanes.flatMap((l) => l.stats.changeMs);
  figures.set(
    'changes',
    `${started} in ${seconds} s (${started - cli.commands} by ${WRITERS} writers on ${WRITERS * NAMES_PER_WRITER} names, ${cli.commands} by the hcm CLI)`,
  );
  figures.set(
    'SIGKILLs',
    `${writerKills + cli.kills} (${writerKills} writers at a random moment inside a change, ${cli.kills} hcm commands)`,
  );
  figures.set(
    'a change, p50 / p95',
    `${percentile(changeMs, 50)} ms / ${percentile(changeMs, 95)} ms (mean ${mean(changeMs).toFixed(1)} ms; lock, 2 files, fsyncs)`,
  );
  figures.set('next command after a kill worked', `${nextWorked} of ${nextCommands}`);
  figures.set('acknowledged', `${ledger.acknowledged} (${cli.acknowledged} by the CLI)`);
  figures.set(
    'acknowledged but lost / wrong',
    String(problems.filter((p) => !/did not|wedged|ended by itself|cannot be read/.test(p)).length),
  );
  figures.set(
    'empty lock file left by a kill',
    `next command ${afterEmptyLock.code === 0 ? 'worked' : `FAILED (${afterEmptyLock.code})`} after ${emptyLockMs} ms`,
  );
  figures.set('leftover temporary or lock files', leftovers.length ? leftovers.join(', ') : 'none');

  expect(problems).toEqual([]);
  expect(started).toBeGreaterThanOrEqual(CHANGES);
  expect(nextWorked).toBe(nextCommands);
  expect(afterEmptyLock.code, afterEmptyLock.stderr).toBe(0);
  expect(emptyLockMs).toBeLessThan(15_000);
  expect(leftovers).toEqual([]);
  figures.passed();
});
