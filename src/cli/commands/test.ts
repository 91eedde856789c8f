import type { Command } from 'commander';
import { errorMessage } from '../../shared/errors.js';
import { testEndpoint } from '../../core/diagnostics.js';
import { parseEndpoint } from '../../relay/endpoint.js';
import type { TestStep } from '../../shared/api.js';
import { offlineService } from '../context.js';
import { CliError } from '../exit.js';
import { table } from '../format.js';

export function registerTest(program: Command): void {
  program
    .command('test')
    .description('check DNS and TCP reachability of an endpoint, or of a configured connection and its relay')
    .argument('<target>', 'host:port, or the name of a configured Hybrid Connection')
    .option('--json', 'machine-readable output')
    .action(async (target: string, opts: { json?: boolean }) => {
      const service = offlineService();
      let steps: TestStep[];
      let id: string | undefined;
      try {
        id = await service.resolveId(target);
      } catch {
        id = undefined;
      }
      if (id) {
        steps = (await service.testConnection(id)).steps;
      } else {
        let endpoint;
        try {
          endpoint = parseEndpoint(target);
        } catch (err) {
          throw new CliError(`"${target}" is neither a configured connection nor host:port (${errorMessage(err)})`, 'E_USAGE');
        }
        steps = await testEndpoint(endpoint);
      }
      const ok = steps.every((s) => s.ok);
      if (opts.json) process.stdout.write(`${JSON.stringify({ target, ok, steps }, null, 2)}\n`);
      else
        process.stdout.write(
          `${table(
            ['CHECK', 'RESULT', 'TIME', 'DETAIL'],
            steps.map((s) => [s.name, s.ok ? 'ok' : 'FAILED', `${s.ms} ms`, s.detail]),
          )}\n`,
        );
      if (!ok) throw new CliError(`${target}: ${steps.find((s) => !s.ok)!.detail}`, 'E_TEST_FAILED');
    });
}
