#!/usr/bin/env node
import { enableCompileCache } from 'node:module';
import { Command, CommanderError } from 'commander';
import { modulesFor } from './command-table.js';
import { EXIT_OK, exitCodeFor, successStatus } from './exit.js';
import { hideArgumentsInUsageError } from './secret-input.js';
import { errorCode, errorMessage } from '../shared/errors.js';
import { VERSION } from '../core/version.js';

// V8's compiled code for our modules and dependencies, kept on disk between runs (Node's own cache,
// keyed by file contents): a command's modules then load without being parsed and compiled again.
enableCompileCache();

function buildProgram(registers: Array<(program: Command) => void>): Command {
  const program = new Command('hcm')
    .description('Open Hybrid Connection Manager: bridge Azure Relay Hybrid Connections to TCP endpoints')
    .version(VERSION, '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeErr: (text) => process.stderr.write(hideArgumentsInUsageError(text)) })
    .option('--ca <file>', "extra CA certificate (PEM) to trust, e.g. the emulator's ca.pem (or set HCM_CA_FILE)")
    .exitOverride()
    .hook('preAction', (cmd) => {
      const ca = cmd.opts().ca as string | undefined;
      if (ca) process.env.HCM_CA_FILE = ca;
    });
  for (const register of registers) register(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    const program = buildProgram(await Promise.all(modulesFor(argv.slice(2)).map((m) => m.load())));
    await program.parseAsync(argv);
    return successStatus();
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander printed its own message; --help and --version end here too, with code 0.
      return err.exitCode === 0 ? EXIT_OK : exitCodeFor('E_USAGE');
    }
    const code = errorCode(err);
    process.stderr.write(`hcm: ${errorMessage(err)}\n`);
    if (code === 'E_INTERNAL') {
      if (process.env.HCM_DEBUG) process.stderr.write(`${(err as Error).stack ?? ''}\n`);
      else process.stderr.write('hcm: this is unexpected; run again with HCM_DEBUG=1 for details and report it\n');
    }
    return exitCodeFor(code);
  }
}

// `hcm list --json | head` closes our stdout early: that ends the command quietly, not with a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

void main(process.argv).then((code) => {
  process.exitCode = code;
});
