import type { Command } from 'commander';
import { AgentAlreadyRunningError } from '../../core/control-socket.js';
import { ConfigError } from '../../core/config-store.js';
import { Logger } from '../../core/logger.js';
import { hcmPaths } from '../../core/paths.js';
import { createHcmService } from '../../core/service.js';
import type { LogLevel } from '../../shared/api.js';
import { safeTransport, safeTuning } from '../context.js';
import { CliError, EXIT_USAGE } from '../exit.js';
import { parseIntOption } from '../options.js';

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run the agent in the foreground for every configured Hybrid Connection')
    .option('--grace <seconds>', 'on SIGINT/SIGTERM, how long open connections may finish', '30')
    .option('--log-level <level>', 'debug, info, warn or error', 'info')
    .addHelpText(
      'after',
      '\nLogs go to stderr and to rotating files in the log directory (see "hcm version"). Config edits apply without a restart.',
    )
    .action(async (opts: { grace: string; logLevel: string }) => {
      const graceMs = parseIntOption(opts.grace, '--grace', 0, 3600) * 1000;
      if (!['debug', 'info', 'warn', 'error'].includes(opts.logLevel))
        throw new CliError(`--log-level must be debug, info, warn or error`, EXIT_USAGE);
      const paths = hcmPaths();
      const logger = new Logger({ level: opts.logLevel as LogLevel, stderr: true, dir: paths.logDir });
      const service = createHcmService({ host: 'agent', paths, logger, transport: safeTransport(), tuning: safeTuning() });
      try {
        await service.start();
      } catch (err) {
        await logger.close();
        if (err instanceof ConfigError || err instanceof AgentAlreadyRunningError) throw new CliError(err.message);
        throw err;
      }
      const list = await service.listConnections();
      if (list.length === 0)
        logger.warn('no Hybrid Connections are configured yet; add one with "hcm add" (this agent picks it up at once)');
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (signal: string) => {
          if (stopping) {
            logger.warn(`${signal} again: exiting now`);
            process.exit(1);
          }
          stopping = true;
          logger.info(`${signal}: letting open connections finish (up to ${graceMs / 1000} s)`);
          service.stop({ graceMs }).then(resolve, resolve);
        };
        process.on('SIGINT', () => stop('SIGINT'));
        process.on('SIGTERM', () => stop('SIGTERM'));
      });
      await logger.close();
    });
}
