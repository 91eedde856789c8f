import type { Command } from 'commander';
import { errorMessage } from '../../shared/errors.js';
import { formatConnectionString, parseConnectionString } from '../../relay/connection-string.js';
import { LocalForwarder } from '../../relay/forwarder.js';
import { safeTransport } from '../context.js';
import { CliError } from '../exit.js';
import { catchStopSignals } from '../stop-signals.js';
import { parseIntOption } from '../options.js';
import { SECRET_SOURCE_HELP, type SecretSourceOptions, readConnectionString } from '../secret-input.js';

export function registerConnect(program: Command): void {
  program
    .command('connect')
    .description('forward a local TCP port through the relay (the sender side, what App Service does)')
    .argument('[send-connection-string]', 'connection string with a Send rule and EntityPath, or "-" to read it from stdin')
    .option('--from-file <file>', 'read the connection string from a file')
    .option('--from-env <variable>', 'read the connection string from an environment variable')
    .requiredOption('--port <n>', 'local port to listen on (0 picks a free one)')
    .option('--host <address>', 'local address to bind', '127.0.0.1')
    .option('--verbose', 'log every connection')
    .addHelpText(
      'after',
      `\nPrints one line on stdout when ready: "forwarding <host>:<port> -> <relay>"; errors go to stderr.\n\n${SECRET_SOURCE_HELP}`,
    )
    .action(async (arg: string | undefined, opts: { port: string; host: string; verbose?: boolean } & SecretSourceOptions) => {
      const signals = catchStopSignals(); // before the ready line is printed (stop-signals.ts)
      const text = await readConnectionString(arg, opts);
      let cs;
      try {
        cs = parseConnectionString(text, { requireEntityPath: true });
      } catch (err) {
        throw new CliError(errorMessage(err), 'E_USAGE');
      }
      const forwarder = new LocalForwarder(cs, {
        host: opts.host,
        port: parseIntOption(opts.port, '--port', 0, 65535),
        transport: safeTransport(),
      });
      forwarder.on('log', (level, message) => {
        if (level !== 'debug' || opts.verbose) process.stderr.write(`${new Date().toISOString()} ${level.toUpperCase()} ${message}\n`);
      });
      let address;
      try {
        address = await forwarder.listen();
      } catch (err) {
        throw new CliError(`cannot listen on ${opts.host}:${opts.port}: ${errorMessage(err)}`, 'E_LISTEN');
      }
      process.stdout.write(
        `forwarding ${address.address}:${address.port} -> ${formatConnectionString(cs).replace(/;SharedAccessKey=<redacted>/, '')}\n`,
      );
      await signals.first;
      await forwarder.close().catch(() => undefined);
    });
}
