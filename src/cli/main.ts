#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerEmulator } from './commands/emulator.js';
import { CliError, EXIT_FAILURE, EXIT_USAGE } from './exit.js';
import { VERSION } from '../core/version.js';

function buildProgram(): Command {
  const program = new Command('hcm')
    .description('Open Hybrid Connection Manager: bridge Azure Relay Hybrid Connections to TCP endpoints')
    .version(VERSION, '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerEmulator(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here too, with code 0.
      return err.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (err instanceof CliError) {
      process.stderr.write(`hcm: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`hcm: ${(err as Error).message ?? String(err)}\n`);
    if (process.env.HCM_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    return EXIT_FAILURE;
  }
}

main(process.argv).then((code) => {
  process.exitCode = code;
});
