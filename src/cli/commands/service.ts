import { spawnSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import type { Command } from 'commander';
import { installService, uninstallService, type Step } from '../../core/service-units/installer.js';
import { DEFAULT_ADMIN_GROUP, DEFAULT_USER, type ServiceOptions } from '../../core/service-units/options.js';
import { type ServicePlan, type ServicePlatform, servicePlan } from '../../core/service-units/plan.js';
import { AGENT_NODE_FLAGS } from '../../core/agent-node-flags.js';
import { hcmPaths } from '../../core/paths.js';
import { errorMessage } from '../../shared/errors.js';
import { connectionsTable } from '../format.js';
import { CliError } from '../exit.js';
import { parseIntOption } from '../options.js';
import { connectRunningAgent } from '../../core/running-agent.js';

/**
 * `hcm service install|uninstall|status|logs`: the agent as a service of the OS (systemd on Linux,
 * launchd on macOS, a WinSW service on Windows), for the whole machine or, with --user, for you.
 */

interface Common {
  user?: boolean;
  platform?: string;
}

interface InstallFlags extends Common {
  dryRun?: boolean;
  root?: string;
  start: boolean;
  grace: string;
  metrics?: string;
  admin: string[];
  serviceUser: string;
  adminGroup: string;
}

const NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

function platformOf(text: string | undefined): ServicePlatform {
  const p = text ?? process.platform;
  if (p === 'linux' || p === 'darwin' || p === 'win32') return p;
  throw new CliError(`services are made for linux, darwin (macOS) and win32 (Windows), not ${p}`, 'E_UNSUPPORTED');
}

/** The command that starts this very hcm as an agent: node, its options for agents, and the CLI script, with links resolved. */
function hcmCommand(): string[] {
  let script = process.argv[1] ?? '';
  try {
    script = realpathSync(script);
  } catch {
    /* keep it as given */
  }
  return [process.execPath, ...AGENT_NODE_FLAGS, script];
}

function planFor(flags: Common & Partial<InstallFlags>, startNow = true): ServicePlan {
  const platform = platformOf(flags.platform);
  if (platform === 'win32' && flags.user)
    throw new CliError('a Windows service is for the whole machine; --user has no meaning there', 'E_USAGE');
  const serviceUser = flags.serviceUser ?? DEFAULT_USER;
  const adminGroup = flags.adminGroup ?? DEFAULT_ADMIN_GROUP;
  for (const n of [serviceUser, adminGroup, ...(flags.admin ?? [])]) {
    if (!NAME.test(n)) throw new CliError(`"${n}" is not a user or group name (lower-case letters, digits, _ and -)`, 'E_USAGE');
  }
  const options: ServiceOptions = {
    scope: flags.user ? 'user' : 'system',
    command: hcmCommand(),
    graceSeconds: flags.grace === undefined ? 30 : parseIntOption(flags.grace, '--grace', 0, 3600),
    ...(flags.metrics ? { metrics: flags.metrics } : {}),
    user: serviceUser,
    adminGroup,
    admins: flags.admin ?? [],
  };
  return servicePlan(platform, options, {
    home: homedir(),
    uid: process.getuid?.() ?? 0,
    xdgConfigHome: process.env.XDG_CONFIG_HOME || undefined,
    programData: process.env.ProgramData,
    startNow,
  });
}

function say(text: string): void {
  process.stdout.write(`${text}\n`);
}

function reportStep(s: Step): void {
  const label = { write: 'write', keep: 'keep', remove: 'remove', run: 'run', skip: 'skip' }[s.kind];
  say(`${label.padEnd(6)} ${s.what}${s.detail ? `  (${s.detail})` : ''}`);
}

function needsAdmin(plan: ServicePlan, flags: { dryRun?: boolean; root?: string }): void {
  if (flags.dryRun || flags.root || plan.scope === 'user' || plan.platform === 'win32') return;
  if (process.getuid?.() !== 0)
    throw new CliError('installing a system service needs root: run it with sudo (or add --user for yours)', 'E_REFUSED');
}

export function registerService(program: Command): void {
  const service = program.command('service').description('run the agent as a service of the OS (systemd, launchd, Windows)');
  const common = (c: Command) =>
    c
      .option('--user', 'your own service (systemd user unit, LaunchAgent) instead of the machine-wide one')
      .option('--platform <os>', 'linux, darwin or win32 (default: this one), e.g. to see what --dry-run would write there');

  common(service.command('install'))
    .description('install and start the service (root for the machine-wide one)')
    .option('--dry-run', 'print the files it would write (in full) and the commands it would run; change nothing')
    .option(
      '--root <dir>',
      'write under this folder instead of / and run only what works offline (systemctl --root, systemd-sysusers --root)',
    )
    .option('--no-start', 'enable it for the next boot, but do not start it now')
    .option('--grace <seconds>', 'how long open connections may finish on stop, restart and hand-over', '30')
    .option('--metrics <host:port>', 'serve /metrics, /ready and /healthz there (hcm run --metrics)')
    .option('--admin <user>', 'put this user in the admin group (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--service-user <name>', 'the account the agent runs as', DEFAULT_USER)
    .option('--admin-group <name>', 'the group whose members manage it (its control socket)', DEFAULT_ADMIN_GROUP)
    .action((flags: InstallFlags) => {
      const plan = planFor(flags, flags.start);
      needsAdmin(plan, flags);
      if (flags.dryRun) {
        say(`# hcm service install --dry-run: ${plan.platform}, ${plan.scope} (${plan.name}); nothing is written or run\n`);
        for (const f of plan.files) {
          say(
            `# ${flags.root ? `${flags.root}` : ''}${f.path} (mode ${f.mode.toString(8).padStart(4, '0')}${f.keep ? ', kept when it exists' : ''})`,
          );
          say(f.content);
        }
        say('# then:');
      }
      installService(plan, { root: flags.root, dryRun: flags.dryRun }, reportStep);
      if (!flags.dryRun) say(`\ninstalled ${plan.name}.`);
      for (const n of plan.notes) say(`- ${n}`);
    });

  common(service.command('uninstall'))
    .description('stop and remove the service (its connections and keys are kept)')
    .option('--dry-run', 'print what it would do; change nothing')
    .option('--root <dir>', 'remove from under this folder (offline)')
    .action((flags: Common & { dryRun?: boolean; root?: string }) => {
      const plan = planFor(flags);
      needsAdmin(plan, flags);
      uninstallService(plan, { root: flags.root, dryRun: flags.dryRun }, reportStep);
      if (!flags.dryRun) say(`\nremoved ${plan.name}. Kept:`);
      else say('\nkept:');
      for (const k of plan.keeps) say(`- ${k}`);
    });

  common(service.command('status'))
    .description("the service manager's view of it, then the agent's connections (through its control socket)")
    .action(async (flags: Common) => {
      const plan = planFor(flags);
      const r = spawnSync(plan.status[0]!, plan.status.slice(1), { stdio: 'inherit' });
      if (r.error) say(`(${plan.status[0]} is not available here: ${(r.error as NodeJS.ErrnoException).code})`);
      const socketPath = plan.controlSocket ?? hcmPaths().controlSocket;
      let agent;
      try {
        agent = await connectRunningAgent({ socketPath });
      } catch (err) {
        throw new CliError(`cannot reach the agent at ${socketPath}: ${errorMessage(err)}`, 'E_SOCKET_UNTRUSTED');
      }
      if (!agent) throw new CliError(`the agent is not running (no control socket at ${socketPath})`, 'E_NO_AGENT');
      try {
        const list = await agent.host.listConnections();
        say('');
        say(list.length ? connectionsTable(list, true) : 'the agent runs, with no Hybrid Connections yet (hcm add)');
      } finally {
        agent.close();
      }
    });

  common(service.command('logs'))
    .description("the service's log (journald on Linux)")
    .option('-n, --lines <n>', 'how many recent lines', '100')
    .option('-f, --follow', 'keep printing new lines')
    .action((flags: Common & { lines: string; follow?: boolean }) => {
      const plan = planFor(flags);
      const argv = plan.logs(flags.follow === true, parseIntOption(flags.lines, '--lines', 1, 100_000));
      const r = spawnSync(argv[0]!, argv.slice(1), { stdio: 'inherit' });
      if (r.error)
        throw new CliError(`cannot run ${argv[0]}: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}`, 'E_UNSUPPORTED');
      if (r.status !== 0) throw new CliError(`${argv.join(' ')} exited with ${r.status}`, 'E_UNAVAILABLE');
    });
}
