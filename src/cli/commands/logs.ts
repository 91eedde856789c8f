import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ControlClient } from '../../core/control-socket.js';
import { LOG_FILE, formatLogLine } from '../../core/logger.js';
import { hcmPaths } from '../../core/paths.js';
import type { LogEntry } from '../../shared/api.js';
import { CliError } from '../exit.js';
import { catchStopSignals } from '../stop-signals.js';
import { parseIntOption } from '../options.js';

export function registerLogs(program: Command): void {
  program
    .command('logs')
    .description("show the agent's recent log lines (from the running agent, or from its log files)")
    .option('-n, --lines <n>', 'how many lines', '100')
    .option('-f, --follow', 'keep printing new lines (needs a running agent)')
    .action(async (opts: { lines: string; follow?: boolean }) => {
      const lines = parseIntOption(opts.lines, '--lines', 1, 100_000);
      const paths = hcmPaths();
      const client = await ControlClient.connect(paths.controlSocket);
      if (!client) {
        if (opts.follow) throw new CliError('no agent is running; --follow needs one (start it with "hcm run")', 'E_NO_AGENT');
        const file = join(paths.logDir, LOG_FILE);
        if (!existsSync(file)) throw new CliError(`no agent is running and there is no log file yet (${file})`, 'E_NO_AGENT');
        const all = readFileSync(file, 'utf8').split('\n').filter(Boolean);
        process.stdout.write(`${all.slice(-lines).join('\n')}\n`);
        return;
      }
      const signals = opts.follow ? catchStopSignals() : undefined; // before any line is printed (stop-signals.ts)
      const recent: LogEntry[] = await client.call('getLogs', { limit: Math.min(lines, 5000) });
      for (const e of recent) process.stdout.write(`${formatLogLine(e)}\n`);
      if (!opts.follow) {
        client.close();
        return;
      }
      await client.subscribe(['log'], (_event, payload) => process.stdout.write(`${formatLogLine(payload as LogEntry)}\n`));
      await signals!.first;
      client.close();
    });
}
