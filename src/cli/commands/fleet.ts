import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ConfigStore } from '../../core/config-store.js';
import { buildFleetFile, fleetFileText, importFleet, parseFleetFile, writeFleetFile } from '../../core/fleet.js';
import { hcmPaths } from '../../core/paths.js';
import { errorMessage } from '../../shared/errors.js';
import { connectTarget } from '../context.js';
import { CliError } from '../exit.js';

/**
 * `hcm export` / `hcm import`: the same Hybrid Connections on other machines (a fleet of agents
 * listening on the same connections, for redundancy). The keys travel only with --with-keys.
 */
export function registerFleet(program: Command): void {
  program
    .command('export')
    .description('write the Hybrid Connections of this machine to a file (for hcm import elsewhere)')
    .option('-o, --output <file>', 'the file to write (mode 0600); without it, standard output')
    .option('--with-keys', 'include the connection strings (the keys): the file is then a secret')
    .addHelpText(
      'after',
      '\nWithout --with-keys the file names each connection, its namespace, endpoint and rule, but no key: on the other\n' +
        'machine, connections added through Azure are fetched again from Azure (hcm login first); others need hcm add.',
    )
    .action((opts: { output?: string; withKeys?: boolean }) => {
      const store = new ConfigStore(hcmPaths());
      let connections;
      try {
        connections = store.load().connections;
      } catch (err) {
        throw new CliError(errorMessage(err), 'E_CONFIG');
      }
      const file = buildFleetFile(connections, opts.withKeys === true);
      if (opts.output === undefined || opts.output === '-') {
        if (opts.withKeys && process.stdout.isTTY) {
          throw new CliError('refusing to print keys to the terminal; write them to a file with --output FILE (mode 0600)', 'E_USAGE');
        }
        process.stdout.write(fleetFileText(file));
        return;
      }
      writeFleetFile(opts.output, file);
      process.stderr.write(
        `exported ${connections.length} connection(s) to ${opts.output} (mode 0600)${opts.withKeys ? ', keys included: keep it secret and delete it once imported' : ', without keys'}\n`,
      );
    });

  program
    .command('import')
    .description('add the Hybrid Connections of a file written by hcm export (to the running agent, or the saved configuration)')
    .argument('<file>', 'the export file, or "-" for standard input')
    .option('--json', 'one result per connection, as JSON')
    .action(async (path: string, opts: { json?: boolean }) => {
      let text: string;
      try {
        text = path === '-' ? readFileSync(0, 'utf8') : readFileSync(path, 'utf8');
      } catch (err) {
        throw new CliError(`cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)})`, 'E_INVALID');
      }
      const file = parseFleetFile(text, path === '-' ? 'standard input' : path);
      const target = await connectTarget();
      try {
        const outcomes = await importFleet(target.api, file, (o) => {
          if (!opts.json) process.stdout.write(`${o.result.padEnd(12)} ${o.id}: ${o.detail}\n`);
        });
        if (opts.json) process.stdout.write(`${JSON.stringify({ agentRunning: target.live, outcomes }, null, 2)}\n`);
        const added = outcomes.filter((o) => o.result === 'added').length;
        const failed = outcomes.filter((o) => o.result === 'failed').length;
        if (!opts.json) {
          process.stderr.write(
            `${added} added, ${outcomes.length - added - failed} left as they were or skipped, ${failed} failed${target.live ? ' (the running agent listens on the added ones now)' : ' (start the agent with "hcm run")'}\n`,
          );
        }
        if (failed > 0) throw new CliError(`${failed} connection(s) could not be imported (see above)`, 'E_INVALID');
      } finally {
        await target.close();
      }
    });
}
