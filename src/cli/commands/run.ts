import type { Command } from 'commander';
import type { LogLevel } from '../../shared/api.js';
import { serveUntilSignal, startAgentHost } from '../agent-host.js';
import { CliError } from '../exit.js';
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
      const logLevel = parseLogLevel(opts.logLevel);
      const agent = await startAgentHost({ host: 'agent', logLevel });
      const list = await agent.service.listConnections();
      if (list.length === 0) {
        agent.logger.warn(
          'no Hybrid Connections are configured yet; add one with "hcm add" (this agent picks it up at once), or try "hcm demo"',
        );
      }
      await serveUntilSignal(agent, { graceMs });
    });
}

export function parseLogLevel(text: string): LogLevel {
  if (!['debug', 'info', 'warn', 'error'].includes(text)) throw new CliError(`--log-level must be debug, info, warn or error`, 'E_USAGE');
  return text as LogLevel;
}
