import type { Command } from 'commander';

/**
 * Which module defines each top-level command, loaded only when that command runs: importing
 * every command (Azure SDKs, the relay engine, the updater) made `hcm version` cost ~10x
 * `node -e 0`. The order is the order of `hcm --help`.
 */
type Register = (program: Command) => void;

interface CommandModule {
  names: string[];
  load: () => Promise<Register>;
}

export const COMMAND_MODULES: CommandModule[] = [
  {
    names: ['add', 'list', 'show', 'disconnect', 'remove', 'set-key', 'set-endpoint', 'endpoint', 'log-level', 'restart'],
    load: async () => (await import('./commands/connections.js')).registerConnectionCommands,
  },
  { names: ['login', 'logout', 'account', 'azure'], load: async () => (await import('./commands/azure.js')).registerAzure },
  { names: ['run'], load: async () => (await import('./commands/run.js')).registerRun },
  { names: ['service'], load: async () => (await import('./commands/service.js')).registerService },
  { names: ['demo'], load: async () => (await import('./commands/demo.js')).registerDemo },
  { names: ['proxy'], load: async () => (await import('./commands/proxy.js')).registerProxy },
  { names: ['connect'], load: async () => (await import('./commands/connect.js')).registerConnect },
  { names: ['test'], load: async () => (await import('./commands/test.js')).registerTest },
  { names: ['logs'], load: async () => (await import('./commands/logs.js')).registerLogs },
  { names: ['export', 'import'], load: async () => (await import('./commands/fleet.js')).registerFleet },
  { names: ['version'], load: async () => (await import('./commands/version.js')).registerVersion },
  { names: ['update'], load: async () => (await import('./commands/update.js')).registerUpdate },
  { names: ['ui'], load: async () => (await import('./commands/ui.js')).registerUi },
  { names: ['emulator'], load: async () => (await import('./commands/emulator.js')).registerEmulator },
];

/** Options of the program itself that take a value (so the command name is not mistaken for it). */
const GLOBAL_OPTIONS_WITH_VALUE = new Set(['--ca']);

/**
 * The modules `args` (the arguments after the script) needs: the one defining its command, or
 * all of them when there is none, it is unknown (Commander then suggests a near name) or help.
 */
export function modulesFor(args: string[]): CommandModule[] {
  let i = 0;
  while (i < args.length && args[i]!.startsWith('-')) i += GLOBAL_OPTIONS_WITH_VALUE.has(args[i]!) ? 2 : 1;
  const name = args[i];
  // `hcm --version` needs no command (help does: it lists them all).
  if (name === undefined && args.some((a) => a === '-V' || a === '--version') && !args.some((a) => a === '-h' || a === '--help')) return [];
  const one = name === undefined ? undefined : COMMAND_MODULES.find((m) => m.names.includes(name));
  return one ? [one] : COMMAND_MODULES;
}
