import type { Command } from 'commander';
import { errorMessage } from '../../shared/errors.js';
import { type EmulatorConfig, demoEmulatorConfig, loadEmulatorConfig } from '../../emulator/config.js';
import { hcmPaths } from '../../core/paths.js';
import { CliError } from '../exit.js';
import { parseIntOption } from '../options.js';

export function registerEmulator(program: Command): void {
  program
    .command('emulator')
    .description('run a local Azure Relay (Hybrid Connections) for trying and testing without Azure')
    .option('--port <n>', 'port to listen on (0 picks a free one)', '0')
    .option('--host <address>', 'address to bind', '127.0.0.1')
    .option('--plain', 'plain ws:// instead of wss:// (connection strings get UseDevelopmentEmulator=true)')
    .option('--config <file>', 'JSON file of namespaces, Hybrid Connections and rules (default: one demo namespace)')
    .option('--state-dir <dir>', 'where the emulator CA is kept between runs')
    .option('--token-grace <seconds>', 'how long a listener token may be past expiry before close 1008', '0')
    .option('--rendezvous-timeout <seconds>', 'how long a sender waits for the listener to accept', '30')
    .option('--idle-timeout <seconds>', 'drop control channels idle this long, like the Azure load balancer (0 = never)', '240')
    .option('--max-listeners <n>', 'listeners allowed per Hybrid Connection', '25')
    .option('--azure-port <n>', 'port of its Entra ID and Azure Resource Manager (0 picks a free one)', '0')
    .option('--no-azure', 'do not serve Entra ID and Azure Resource Manager')
    .option('--arm-page-size <n>', 'items per Azure Resource Manager list page before a nextLink', '100')
    .option('--device-code-interval <seconds>', 'polling interval the device code sign-in asks for', '5')
    .option('--access-token-lifetime <seconds>', 'lifetime of the access tokens Entra ID issues', '3600')
    .option(
      '--clock-offset <seconds>',
      "the relay's clock ahead of this machine's by this much (negative: behind): its Date headers and token expiry",
      '0',
    )
    .option('--gateways <n>', 'hand out rendezvous addresses on n gateway hosts in turn (g1-<namespace>.localhost, …)', '0')
    .addHelpText(
      'after',
      '\nOn start it prints one JSON line on stdout:\n' +
        '  {"port":N,"ca":"<CA file or null>","hybridConnections":{"<name>":{"listen":"<conn string>","send":"<conn string>"}},\n' +
        '   "azure":{"authority":"https://127.0.0.1:M/<tenant id>","arm":"https://127.0.0.1:M/","tenantId":"…","users":[{"username":"…","password":"…"}],…}}\n' +
        'Logs go to stderr. SIGHUP reloads --config; SIGINT/SIGTERM stop.',
    )
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const configFile = opts.config as string | undefined;
      let config: EmulatorConfig;
      try {
        config = configFile ? loadEmulatorConfig(configFile) : demoEmulatorConfig();
      } catch (err) {
        throw new CliError(errorMessage(err), 'E_USAGE');
      }
      const log = (level: string, message: string) => process.stderr.write(`${new Date().toISOString()} ${level} ${message}\n`);
      // Loaded here, not at the top: certificate generation pulls in a large X.509 stack that
      // no other command needs, and every `hcm` invocation would pay for loading it.
      const { RelayEmulator } = await import('../../emulator/server.js');
      const emulator = new RelayEmulator({
        port: parseIntOption(opts.port, '--port', 0, 65535),
        host: opts.host as string,
        plain: Boolean(opts.plain),
        config,
        stateDir: (opts.stateDir as string | undefined) ?? hcmPaths().emulatorStateDir,
        tokenGraceSeconds: parseIntOption(opts.tokenGrace, '--token-grace', 0, 86400),
        rendezvousTimeoutMs: parseIntOption(opts.rendezvousTimeout, '--rendezvous-timeout', 1, 3600) * 1000,
        idleTimeoutMs: parseIntOption(opts.idleTimeout, '--idle-timeout', 0, 86400) * 1000,
        maxListeners: parseIntOption(opts.maxListeners, '--max-listeners', 1, 10000),
        azure: opts.azure !== false,
        azurePort: parseIntOption(opts.azurePort, '--azure-port', 0, 65535),
        armPageSize: parseIntOption(opts.armPageSize, '--arm-page-size', 1, 1000),
        deviceCodeIntervalSeconds: parseIntOption(opts.deviceCodeInterval, '--device-code-interval', 1, 60),
        accessTokenLifetimeSeconds: parseIntOption(opts.accessTokenLifetime, '--access-token-lifetime', 60, 86400),
        clockOffsetSeconds: parseSignedSeconds(opts.clockOffset, '--clock-offset'),
        gateways: parseIntOption(opts.gateways, '--gateways', 0, 64),
        log,
      });
      // Signal handlers go in before the ready line: a caller may signal the moment it sees it.
      let stopping: Promise<void> | undefined;
      const stopped = new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          log('info', `${signal}: stopping`);
          stopping ??= emulator.stop().then(resolve, resolve);
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
      process.on('SIGHUP', () => {
        if (!configFile) {
          log('warn', 'SIGHUP: nothing to reload (started without --config)');
          return;
        }
        try {
          emulator.reload(loadEmulatorConfig(configFile));
        } catch (err) {
          log('error', `reload failed, keeping the previous configuration: ${(err as Error).message}`);
        }
      });
      let ready;
      try {
        ready = await emulator.start();
      } catch (err) {
        throw new CliError(`emulator could not start: ${errorMessage(err)}`, 'E_LISTEN');
      }
      if (stopping) await emulator.stop(); // a signal arrived while it was starting
      process.stdout.write(`${JSON.stringify(ready)}\n`);
      log('info', `relay emulator listening on ${opts.plain ? 'ws' : 'wss'}://${opts.host}:${ready.port}`);
      if (ready.azure) log('info', `Entra ID and Azure Resource Manager on ${ready.azure.arm}`);
      await stopped;
    });
}

/** A whole number of seconds, negative allowed, within a year either way. */
function parseSignedSeconds(value: unknown, name: string): number {
  const text = String(value ?? '');
  if (!/^[+-]?\d+$/.test(text)) throw new CliError(`${name} must be a whole number of seconds, not "${text}"`, 'E_USAGE');
  const n = Number(text);
  if (Math.abs(n) > 366 * 86400) throw new CliError(`${name} must be within a year (${366 * 86400} s) either way`, 'E_USAGE');
  return n;
}
