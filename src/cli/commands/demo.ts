import type { Command } from 'commander';
import { errorCode, errorMessage } from '../../shared/errors.js';
import type { ConnectionSummary, HcmApi } from '../../shared/api.js';
import { serveUntilSignal, startAgentHost } from '../agent-host.js';
import { connectRunningAgent } from '../../core/running-agent.js';
import { CliError } from '../exit.js';
import { parseIntOption } from '../options.js';

const DEMO_HELP = `
The demo shows HCM working without an Azure account: a local relay (the emulator, plain ws:// on
127.0.0.1, nothing leaves this machine) with one Hybrid Connection whose endpoint is a built-in
echo service. It is kept in memory only, labelled "demo" everywhere, and never saved with your
real connections. With an agent already running (hcm run, hcm ui or the desktop app), the demo is
added to that agent and this command returns at once.`;

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('try HCM with a local relay: the agent in the foreground with a demo connection, until Ctrl-C')
    .option('--stop', 'remove the demo from the running agent')
    .option('--send', 'send test traffic through the demo on the running agent (5 connections, every byte checked)')
    .option('--grace <seconds>', 'on SIGINT/SIGTERM, how long open connections may finish', '30')
    .addHelpText('after', DEMO_HELP)
    .action(async (opts: { stop?: boolean; send?: boolean; grace: string }) => {
      if (opts.stop && opts.send) throw new CliError('use either --stop or --send', 'E_USAGE');
      const graceMs = parseIntOption(opts.grace, '--grace', 0, 3600) * 1000;
      const running = await connectRunningAgent();
      if (opts.stop || opts.send) {
        if (!running) {
          if (opts.stop) return print('no agent is running, so no demo is running either (nothing to stop)');
          throw new CliError('no agent is running; start the demo with "hcm demo"', 'E_NO_AGENT');
        }
        try {
          if (opts.stop) {
            await running.host.stopDemo();
            return print('demo removed');
          }
          const demo = (await running.host.listConnections()).find((c) => c.demo);
          if (!demo) throw new CliError('the running agent has no demo; start it with "hcm demo"', 'E_NO_CONNECTION');
          const result = await running.host.sendTestTraffic(demo.id);
          print(`test traffic: ${result.detail}`);
          if (!result.ok) throw new CliError('test traffic failed', 'E_TEST_FAILED');
          return;
        } finally {
          running.close();
        }
      }
      if (running) {
        try {
          const demo = await startAndWait(running.host);
          print(`${describe(demo)}\nadded to the agent that is already running; remove it with "hcm demo --stop"`);
        } finally {
          running.close();
        }
        return;
      }
      const agent = await startAgentHost({ host: 'agent' });
      let demo: ConnectionSummary;
      try {
        demo = await startAndWait(agent.service);
      } catch (err) {
        await agent.service.stop();
        await agent.logger.close();
        throw new CliError(`the demo could not start: ${errorMessage(err)}`, errorCode(err));
      }
      print(`${describe(demo)}\nin another terminal: hcm demo --send (test traffic), hcm list, hcm demo --stop; Ctrl-C stops the agent`);
      await serveUntilSignal(agent, { graceMs });
    });
}

/** Starts the demo and waits (up to 15 s) for its control channel, so what is printed is true. */
async function startAndWait(api: HcmApi): Promise<ConnectionSummary> {
  const started = await api.startDemo();
  const deadline = Date.now() + 15_000;
  for (;;) {
    const now = (await api.listConnections()).find((c) => c.id === started.id);
    if (!now) throw new Error('the demo was removed while it started');
    if (now.status === 'Connected' || Date.now() > deadline) return now;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function describe(demo: ConnectionSummary): string {
  const state = demo.status === 'Connected' ? 'Connected' : `${demo.status}${demo.lastError ? ` (${demo.lastError.message})` : ''}`;
  return `demo ${demo.id}: ${state}, endpoint ${demo.endpoint} (built-in echo service), through a local relay on this machine`;
}

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}
