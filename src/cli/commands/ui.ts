import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { errorMessage } from '../../shared/errors.js';
import { hcmPaths } from '../../core/paths.js';
import { serveUntilSignal, startAgentHost } from '../agent-host.js';
import { CliError } from '../exit.js';
import { catchStopSignals } from '../stop-signals.js';
import { parseIntOption } from '../options.js';
import { type UiServer, startUiServer } from '../ui-server.js';
import { type RunningAgent, connectRunningAgent } from '../../core/running-agent.js';

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
        'on this machine (or through an SSH tunnel: ssh -L <port>:127.0.0.1:<port> host, same port on both ends).\n' +
        'The token keeps other local programs and websites out; it changes every time "hcm ui" starts.\n' +
        'Like "hcm run", this is the agent: connections are relayed while it runs. When an agent is already\n' +
        'running for this configuration (the desktop app or "hcm run"), it shows that one instead.',
    )
    .action(async (opts: { port: string; grace: string }) => {
      const port = parseIntOption(opts.port, '--port', 0, 65535);
      const graceMs = parseIntOption(opts.grace, '--grace', 0, 3600) * 1000;
      if (!existsSync(RENDERER_DIR))
        throw new CliError(`the UI is not built (${RENDERER_DIR} is missing); run "npm run build"`, 'E_UNSUPPORTED');
      const paths = hcmPaths();
      const running = await connectRunningAgent({ socketPath: paths.controlSocket, events: true });
      if (running) return serveRunningAgent(running, port);
      const agent = await startAgentHost({ host: 'browser' });
      let server: UiServer;
      try {
        server = await startUiServer({
          hcm: agent.service,
          staticDir: RENDERER_DIR,
          port,
          log: (level, message) => agent.logger.log(level, message),
        });
      } catch (err) {
        await agent.service.stop();
        await agent.logger.close();
        throw new CliError(`cannot serve the UI on 127.0.0.1:${port}: ${errorMessage(err)}`, 'E_LISTEN');
      }
      process.stdout.write(`HCM UI: ${server.url}\n`);
      await serveUntilSignal(agent, { graceMs, what: 'stopping the UI', beforeStop: () => server.close() });
    });
}

/** Serves the UI for an agent that was already running; stops when it stops, or on a signal. */
async function serveRunningAgent(running: RunningAgent, port: number): Promise<void> {
  const log = (level: string, message: string) =>
    process.stderr.write(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${message}\n`);
  const signals = catchStopSignals(); // before the address is printed (stop-signals.ts)
  let server;
  try {
    server = await startUiServer({ hcm: running.host, staticDir: RENDERER_DIR, port, log });
  } catch (err) {
    running.close();
    throw new CliError(`cannot serve the UI on 127.0.0.1:${port}: ${errorMessage(err)}`, 'E_LISTEN');
  }
  process.stdout.write(`HCM UI: ${server.url}\n`);
  log('info', 'an agent is already running for this configuration; this UI shows it (stopping the UI leaves the agent running)');
  const why = await Promise.race([running.gone.then(() => 'gone' as const), signals.first.then(() => 'signal' as const)]);
  await server.close();
  running.close();
  if (why === 'gone') throw new CliError('the agent stopped; the UI stops with it', 'E_UNAVAILABLE');
}
