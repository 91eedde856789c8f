import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { HcmError } from '../../shared/errors.js';
import type { PlannedCommand, ServicePlan } from './plan.js';

/**
 * Carries out a service plan: writes its files and runs its commands, or undoes them. With `root`
 * everything happens inside that folder (an image being built, a test): files go under it and only
 * the commands that work offline run, in their offline form (`systemctl --root`, `systemd-sysusers
 * --root`). With `dryRun` nothing is written or run; the steps are only reported.
 */

export interface InstallOptions {
  root?: string;
  dryRun?: boolean;
  /** Runs a command; the default spawns it with inherited output. Returns its exit status. */
  run?: (argv: string[]) => number;
}

export interface Step {
  kind: 'write' | 'keep' | 'remove' | 'run' | 'skip';
  what: string;
  detail: string;
}

function where(root: string | undefined, file: string): string {
  return root ? path.join(root, file) : file;
}

function runDefault(argv: string[]): number {
  const r = spawnSync(argv[0]!, argv.slice(1), { stdio: 'inherit' });
  if (r.error) throw new HcmError('E_UNSUPPORTED', `cannot run ${argv[0]}: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}`);
  return r.status ?? 1;
}

function runCommands(commands: PlannedCommand[], options: InstallOptions, steps: Step[], report: (s: Step) => void): void {
  const run = options.run ?? runDefault;
  for (const c of commands) {
    const argv = options.root ? c.offline?.(options.root) : c.argv;
    if (!argv) {
      const s: Step = { kind: 'skip', what: c.argv.join(' '), detail: `${c.why} (not with --root: run it on the target system)` };
      steps.push(s);
      report(s);
      continue;
    }
    const s: Step = { kind: 'run', what: argv.join(' '), detail: c.why };
    steps.push(s);
    report(s);
    if (options.dryRun) continue;
    const status = run(argv);
    if (status !== 0) throw new HcmError('E_UNSUPPORTED', `"${argv.join(' ')}" failed (exit status ${status}); nothing after it was done`);
  }
}

export function installService(plan: ServicePlan, options: InstallOptions = {}, report: (s: Step) => void = () => undefined): Step[] {
  const steps: Step[] = [];
  for (const f of plan.files) {
    const target = where(options.root, f.path);
    if (f.keep && existsSync(target)) {
      const s: Step = { kind: 'keep', what: target, detail: 'exists already: your settings are kept' };
      steps.push(s);
      report(s);
      continue;
    }
    const s: Step = { kind: 'write', what: target, detail: `mode ${f.mode.toString(8).padStart(4, '0')}` };
    steps.push(s);
    report(s);
    if (options.dryRun) continue;
    const isWin = plan.platform === 'win32' && !options.root;
    mkdirSync(isWin ? path.win32.dirname(target) : path.dirname(target), { recursive: true, mode: 0o755 });
    writeFileSync(target, f.content, { mode: f.mode });
    if (!isWin) chmodSync(target, f.mode);
  }
  runCommands(plan.install, options, steps, report);
  return steps;
}

export function uninstallService(plan: ServicePlan, options: InstallOptions = {}, report: (s: Step) => void = () => undefined): Step[] {
  const steps: Step[] = [];
  // Stop first (open connections get their grace period), then remove the files, then forget the unit.
  const [stop, ...after] = plan.uninstall;
  if (stop) runCommands([stop], options, steps, report);
  for (const f of plan.files) {
    if (f.keep) continue;
    const target = where(options.root, f.path);
    if (!existsSync(target)) continue;
    const s: Step = { kind: 'remove', what: target, detail: '' };
    steps.push(s);
    report(s);
    if (!options.dryRun) unlinkSync(target);
  }
  runCommands(after, options, steps, report);
  return steps;
}
