import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** Facts about the machine and the code measured, stored with every result. */

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  kernel: string;
  node: string;
  memoryGiB: number;
  /** Open-files hard limit of this process: bounds the idle-scale test. */
  fdHardLimit: number;
}

export function machineInfo(): MachineInfo {
  return {
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    fdHardLimit: fdHardLimit(),
  };
}

export function fdHardLimit(): number {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const row = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
  return row?.[2] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(row?.[2] ?? 1024);
}

/** Whether this process may raise its hard open-files limit (root with CAP_SYS_RESOURCE). */
export function canRaiseFdLimit(to: number): boolean {
  try {
    execFileSync('bash', ['-c', `ulimit -Hn ${to}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function loadAverage(): [number, number, number] {
  const [a, b, c] = os.loadavg();
  return [round2(a!), round2(b!), round2(c!)];
}

export interface GitInfo {
  commit: string;
  branch: string;
  /** Uncommitted changes in the code the bench runs, when measured (the build includes them). */
  dirtySrc: string[];
}

export function gitInfo(cwd: string): GitInfo {
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', args, { cwd, stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trimEnd();
    } catch {
      return '';
    }
  };
  return {
    commit: git('rev-parse', 'HEAD') || 'unknown',
    branch: git('rev-parse', '--abbrev-ref', 'HEAD') || 'unknown',
    dirtySrc: git('status', '--porcelain', '--', 'src/relay', 'src/emulator', 'src/core', 'src/cli', 'src/shared')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(3)),
  };
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
