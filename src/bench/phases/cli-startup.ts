import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeDir, trackDir } from '../cleanup.js';
import { cliPath } from '../paths.js';
import { log } from '../progress.js';
import { ratio } from '../stats.js';
import { startTunnel } from '../tunnel.js';

/**
 * How long `hcm` takes for a quick command, against starting Node itself (`node -e 0`): wall
 * time and CPU time (user + system) of each run, from bash's `time` (getrusage of the child,
 * millisecond resolution). `hcm version`, and `hcm list --json` with no agent (the saved
 * configuration) and with one running (its control socket). Runs are interleaved, command by
 * command, so a burst of other work hits them all; the figure is the median of `runs`.
 */

export interface CliCommandFigures {
  name: string;
  argv: string[];
  runs: number;
  wallMs: number;
  cpuMs: number;
  wallVsNode: number;
  cpuVsNode: number;
  /** Every run's [wall, cpu] in ms (to judge the spread). */
  samples: Array<[number, number]>;
}

export interface CliFigures {
  node: { runs: number; wallMs: number; cpuMs: number; samples: Array<[number, number]> };
  commands: CliCommandFigures[];
}

interface Case {
  name: string;
  argv: string[];
  env: NodeJS.ProcessEnv;
}

/** One timed run: bash's `time` reports real, user and system seconds with three decimals. */
function timed(argv: string[], env: NodeJS.ProcessEnv): [number, number] {
  const out = execFileSync('bash', ['-c', 'TIMEFORMAT="%3R %3U %3S"; { time "$@" >/dev/null 2>&1 ; } 2>&1', 'bash', ...argv], {
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  const [real, user, sys] = out.trim().split(/\s+/).slice(-3).map(Number);
  if (![real, user, sys].every((n) => Number.isFinite(n))) throw new Error(`could not time ${argv.join(' ')}: ${out}`);
  return [real! * 1000, (user! + sys!) * 1000];
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export async function runCliStartup(runs: number): Promise<CliFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'hcm-bench-cli-'));
  trackDir(dir);
  // A fresh install's view: no update settings from the environment (no feed: hcm version asks nothing).
  const clean: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(clean)) if (k.startsWith('HCM_UPDATE') || k === 'NODE_OPTIONS' || k === 'HCM_HOME') delete clean[k];
  const node = process.execPath;
  const cli = cliPath();
  // Without an agent: a saved configuration of three Hybrid Connections (copied from a tunnel's).
  const tunnel = await startTunnel({ endpoints: { a: 1, b: 2, c: 3 }, plain: true });
  try {
    const offline = { ...clean, HCM_HOME: join(dir, 'offline') };
    execFileSync('bash', ['-c', `mkdir -p "$2" && cp "$1"/config.json "$1"/secrets.json "$2"/`, 'bash', tunnel.home, offline.HCM_HOME]);
    const live = { ...clean, HCM_HOME: tunnel.home, ...(tunnel.caFile ? { HCM_CA_FILE: tunnel.caFile } : {}) };
    const cases: Case[] = [
      { name: 'hcm version', argv: [node, cli, 'version'], env: offline },
      { name: 'hcm list --json (no agent)', argv: [node, cli, 'list', '--json'], env: offline },
      { name: 'hcm list --json (agent running)', argv: [node, cli, 'list', '--json'], env: live },
    ];
    const baseline = [node, '-e', '0'];
    log(`cli start-up: ${runs} runs each of node -e 0, ${cases.map((c) => c.name).join(', ')}`);
    // One untimed run of each first: files in the page cache, as for any command run twice.
    timed(baseline, clean);
    for (const c of cases) timed(c.argv, c.env);
    const nodeSamples: Array<[number, number]> = [];
    const samples = cases.map(() => [] as Array<[number, number]>);
    for (let i = 0; i < runs; i++) {
      nodeSamples.push(timed(baseline, clean));
      cases.forEach((c, j) => samples[j]!.push(timed(c.argv, c.env)));
    }
    const nodeFig = {
      runs,
      wallMs: median(nodeSamples.map((s) => s[0])),
      cpuMs: median(nodeSamples.map((s) => s[1])),
      samples: nodeSamples,
    };
    return {
      node: nodeFig,
      commands: cases.map((c, j) => {
        const wallMs = median(samples[j]!.map((s) => s[0]));
        const cpuMs = median(samples[j]!.map((s) => s[1]));
        return {
          name: c.name,
          argv: c.argv.slice(2),
          runs,
          wallMs,
          cpuMs,
          wallVsNode: ratio(wallMs, nodeFig.wallMs),
          cpuVsNode: ratio(cpuMs, nodeFig.cpuMs),
          samples: samples[j]!,
        };
      }),
    };
  } finally {
    await tunnel.stop();
    removeDir(dir);
  }
}
