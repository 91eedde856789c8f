import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/**
 * CPU and memory of a process from /proc. CPU counts the process itself, its live children and
 * the children it has already reaped (cutime/cstime): socat does its work in forked children.
 */

let clockTicks: number | undefined;
export function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

interface StatFields {
  ppid: number;
  utime: number;
  stime: number;
  cutime: number;
  cstime: number;
}

function readStat(pid: number): StatFields | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); field n is rest[n - 3].
  return { ppid: Number(rest[1]), utime: Number(rest[11]), stime: Number(rest[12]), cutime: Number(rest[13]), cstime: Number(rest[14]) };
}

/** Every live process's children, by parent pid (one scan of /proc). */
export function childrenByParent(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (!stat) continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(Number(name));
    children.set(stat.ppid, list);
  }
  return children;
}

function childrenOf(pid: number): number[] {
  return childrenByParent().get(pid) ?? [];
}

/**
 * CPU seconds (user + system) used so far by the process and, optionally, its descendants;
 * `reaped` adds only the children already reaped (cutime/cstime), for callers walking the tree.
 */
export function cpuSeconds(pid: number, withChildren = false, reaped = false): number {
  // Past 20 tries (a tree that keeps changing), a child gone meanwhile is left out.
  for (let attempt = 0; ; attempt++) {
    const ticks = treeTicks(pid, withChildren, reaped, attempt < 20);
    if (ticks !== undefined) return ticks / ticksPerSecond();
    Atomics.wait(pause, 0, 0, 5);
  }
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Ticks of a process (and its tree), or undefined when a child was reaped while the tree was read
 * (socat forks one per connection): its time then moves into the parent's cutime, so the read is
 * repeated rather than losing it or counting it twice.
 */
function treeTicks(pid: number, withChildren: boolean, reaped: boolean, strict: boolean): number | undefined {
  const stat = readStat(pid);
  if (!stat) throw new Error(`process ${pid} is gone`);
  let ticks = stat.utime + stat.stime;
  if (reaped && !withChildren) ticks += stat.cutime + stat.cstime;
  if (!withChildren) return ticks;
  ticks += stat.cutime + stat.cstime;
  for (const child of childrenOf(pid)) {
    if (!readStat(child)) {
      if (strict) return undefined;
      continue;
    }
    const sub = treeTicks(child, true, false, strict);
    if (sub === undefined) return undefined;
    ticks += sub;
  }
  const again = readStat(pid);
  if (strict && (!again || again.cutime !== stat.cutime || again.cstime !== stat.cstime)) return undefined;
  return ticks;
}

/** Resident set size in bytes (VmRSS). */
export function rssBytes(pid: number): number {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(text);
  if (!kb) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kb[1]) * 1024;
}

/** Samples a process's RSS on an interval and keeps the peak. */
export class RssSampler {
  peak = 0;
  last = 0;
  samples = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pid: number,
    private readonly intervalMs = 100,
  ) {}

  start(): this {
    const sample = () => {
      try {
        this.last = rssBytes(this.pid);
      } catch {
        return;
      }
      this.samples++;
      if (this.last > this.peak) this.peak = this.last;
    };
    sample();
    this.timer = setInterval(sample, this.intervalMs);
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
