import type { Command } from 'commander';
import { errorMessage } from '../../shared/errors.js';
import { testEndpoint } from '../../core/diagnostics.js';
import { parseEndpoint } from '../../relay/endpoint.js';
import type { TestStep } from '../../shared/api.js';
import { connectTarget } from '../context.js';
import { CliError } from '../exit.js';
import { table } from '../format.js';

export function registerTest(program: Command): void {
  program
    .command('test')
    .description(
      'check an endpoint (DNS, TCP), or a configured connection: its endpoint, its relay (DNS, TCP, TLS, clock) and the gateways the agent used',
    )
    .argument('<target>', 'host:port, or the name of a configured Hybrid Connection')
    .option('--json', 'machine-readable output')
    .action(async (target: string, opts: { json?: boolean }) => {
      let steps: TestStep[];
      // A running agent tests a connection itself: it knows the gateways it connected to, and
      // reaches the relay exactly as its listeners do (its proxy, its trust settings).
      const t = await connectTarget();
      try {
        let id: string | undefined;
        try {
          id = await t.resolveId(target);
        } catch {
          id = undefined;
        }
        if (id) {
          steps = (await t.api.testConnection(id)).steps;
          if (!t.live && !opts.json) {
            process.stderr.write(
              'no agent is running: the gateways it connects to are known, and checked, only while one runs ("hcm run")\n',
            );
          }
        } else {
          let endpoint;
          try {
            endpoint = parseEndpoint(target);
          } catch (err) {
            throw new CliError(`"${target}" is neither a configured connection nor host:port (${errorMessage(err)})`, 'E_USAGE');
          }
          steps = await testEndpoint(endpoint);
        }
      } finally {
        await t.close();
      }
      const ok = steps.every((s) => s.ok);
      if (opts.json) process.stdout.write(`${JSON.stringify({ target, ok, steps }, null, 2)}\n`);
      else
        process.stdout.write(
          `${table(
            ['CHECK', 'RESULT', 'TIME', 'DETAIL'],
            steps.map((s) => [s.name, s.ok ? (s.warning ? 'warning' : 'ok') : 'FAILED', `${s.ms} ms`, s.detail]),
          )}\n`,
        );
      if (!ok) throw new CliError(`${target}: ${steps.find((s) => !s.ok)!.detail}`, 'E_TEST_FAILED');
    });
}
