import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { ConfigError } from '../../core/config-store.js';
import { AgentAlreadyRunningError } from '../../core/control-socket.js';
import { Logger } from '../../core/logger.js';
import { hcmPaths } from '../../core/paths.js';
import { createHcmService } from '../../core/service.js';
import { safeTransport, safeTuning } from '../context.js';
import { CliError } from '../exit.js';
import { parseIntOption } from '../options.js';
import { startUiServer } from '../ui-server.js';

/** dist/renderer, next to dist/cli where this file runs from. */
export const RENDERER_DIR = fileURLToPath(new URL('../../renderer/', import.meta.url));

export function registerUi(program: Command): void {
  program
    .command('ui')
    .description('run the agent and serve the HCM UI to a browser on this machine (for servers without a desktop)')
    .option('--port <n>', 'port on 127.0.0.1 (0 picks a free one)', '0')
    .option('--grace <seconds>', 'on SIGINT/SIGTERM, how long open connections may finish', '30')
    .addHelpText(
      'after',
      '\nPrints one line on stdout: "HCM UI: http://127.0.0.1:<port>/#token=<token>". Open that address in a browser\n' +
        'on this machine (or through an SSH tunnel: ssh -L <port>:127.0.0.1:<port> host). The token keeps other\n' +
        'local programs and websites out; it changes every time "hcm ui" starts. Like "hcm run", this is the agent:\n' +
        'connections are relayed while it runs.',
    )
    .action(async (opts: { port: string; grace: string }) => {
      const port = parseIntOption(opts.port, '--port', 0, 65535);
      const graceMs = parseIntOption(opts.grace, '--grace', 0, 3600) * 1000;
      if (!existsSync(RENDERER_DIR)) throw new CliError(`the UI is not built (${RENDERER_DIR} is missing); run "npm run build"`);
      const paths = hcmPaths();
      const logger = new Logger({ level: 'info', stderr: true, dir: paths.logDir });
      const service = createHcmService({ host: 'browser', paths, logger, transport: safeTransport(), tuning: safeTuning() });
      try {
        await service.start();
      } catch (err) {
        await logger.close();
        if (err instanceof ConfigError || err instanceof AgentAlreadyRunningError) throw new CliError(err.message);
        throw err;
      }
      let server;
      try {
        server = await startUiServer({ bridge: service, staticDir: RENDERER_DIR, port, log: (level, message) => logger.log(level, message) });
      } catch (err) {
        await service.stop();
        await logger.close();
        throw new CliError(`cannot serve the UI on 127.0.0.1:${port}: ${(err as Error).message}`);
      }
      process.stdout.write(`HCM UI: ${server.url}\n`);
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (signal: string) => {
          if (stopping) process.exit(1);
          stopping = true;
          logger.info(`${signal}: stopping the UI and letting open connections finish (up to ${graceMs / 1000} s)`);
          server
            .close()
            .then(() => service.stop({ graceMs }))
            .then(resolve, resolve);
        };
        process.on('SIGINT', () => stop('SIGINT'));
        process.on('SIGTERM', () => stop('SIGTERM'));
      });
      await logger.close();
    });
}
