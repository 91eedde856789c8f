#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerConnect } from './commands/connect.js';
import { registerAzure } from './commands/azure.js';
import { registerConnectionCommands } from './commands/connections.js';
import { registerDemo } from './commands/demo.js';
import { registerProxy } from './commands/proxy.js';
import { registerEmulator } from './commands/emulator.js';
import { registerFleet } from './commands/fleet.js';
import { registerLogs } from './commands/logs.js';
import { registerRun } from './commands/run.js';
import { registerService } from './commands/service.js';
import { registerTest } from './commands/test.js';
import { registerUi } from './commands/ui.js';
import { registerUpdate } from './commands/update.js';
import { registerVersion } from './commands/version.js';
import { EXIT_OK, exitCodeFor, successStatus } from './exit.js';
import { hideArgumentsInUsageError } from './secret-input.js';
import { errorCode, errorMessage } from '../shared/errors.js';
import { VERSION } from '../core/version.js';

function buildProgram(): Command {
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
  registerConnectionCommands(program);
  registerAzure(program);
  registerRun(program);
  registerService(program);
  registerDemo(program);
  registerProxy(program);
  registerConnect(program);
  registerTest(program);
  registerLogs(program);
  registerFleet(program);
  registerVersion(program);
  registerUpdate(program);
  registerUi(program);
  registerEmulator(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
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
