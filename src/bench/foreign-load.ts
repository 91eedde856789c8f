import { readFileSync } from 'node:fs';
import { childrenByParent, cpuSeconds, ticksPerSecond } from './proc-stats.js';

/**
 * How much CPU other work on the machine took while a figure was measured: all busy CPU time
 * (/proc/stat) minus the time of this bench's own process tree (its children, their reaped
 * children, and so on). Other engineers' tests share these machines; this says how disturbed
 * each figure was, in cores (2 = both cores of a 2-core machine were busy with other work).
 */

function busySeconds(): number {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: busy = all but idle and iowait.
  const [user, nice, system, , , irq, softirq, steal] = cpu;
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / ticksPerSecond();
}

/** CPU seconds of this process and every descendant, reaped ones included (one /proc scan). */
function ownTreeSeconds(): number {
  const children = childrenByParent();
  let total = 0;
  const visit = (pid: number) => {
    try {
      total += cpuSeconds(pid, false, true);
    } catch {
      return; // exited meanwhile: its time is in its parent's cutime once reaped
    }
    for (const c of children.get(pid) ?? []) visit(c);
  };
  visit(process.pid);
  return total;
}

export interface ForeignLoad {
  seconds: number;
  /** Average cores used by other work on the machine during the interval. */
  foreignCores: number;
}

export class ForeignLoadMeter {
  private readonly t0 = performance.now();
  private readonly busy0 = busySeconds();
  private readonly own0 = ownTreeSeconds();

  stop(): ForeignLoad {
    const seconds = (performance.now() - this.t0) / 1000;
    const foreign = busySeconds() - this.busy0 - (ownTreeSeconds() - this.own0);
    return { seconds, foreignCores: Math.max(0, foreign / seconds) };
  }
}
