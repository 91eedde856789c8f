import type { Command } from 'commander';
import type { ProxyState } from '../../shared/api.js';
import { CliError } from '../exit.js';
import { promptHidden } from '../secret-input.js';
import { withApi } from './azure.js';

/** hcm proxy set|show|clear: the outbound proxy for relay and Azure connections. */
export function registerProxy(program: Command): void {
  const proxy = program
    .command('proxy')
    .description('the outbound HTTP proxy for connections to Azure Relay and Azure (else HTTPS_PROXY / NO_PROXY from the environment)');

  proxy
    .command('show')
    .description('the proxy in use and where it comes from')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      await withApi(async (api) => print(opts.json ? JSON.stringify(await api.getProxy(), null, 2) : describe(await api.getProxy())));
    });

  proxy
    .command('set')
    .description('use this proxy (a running agent reconnects through it at once)')
    .argument('<url>', 'http://host:port of the proxy, or "direct" to ignore HTTPS_PROXY')
    .option('--user <name>', 'basic authentication: the user name (the password is asked for, or read with --password-from-env)')
    .option('--password-from-env <variable>', 'read the proxy password from this environment variable')
    .option('--no-proxy <list>', 'hosts that bypass the proxy, comma-separated (e.g. localhost,.internal.example)')
    .addHelpText('after', '\nThe user name and password are kept with the keys in secrets.json (mode 0600) and never shown or logged.')
    .action(async (url: string, opts: { user?: string; passwordFromEnv?: string; noProxy?: string }) => {
      let password: string | undefined;
      if (opts.passwordFromEnv !== undefined) {
        password = process.env[opts.passwordFromEnv];
        if (password === undefined) throw new CliError(`the environment variable ${opts.passwordFromEnv} is not set`, 'E_USAGE');
      } else if (opts.user !== undefined) {
        if (!process.stdin.isTTY)
          throw new CliError('give the password with --password-from-env <VARIABLE> (no terminal to ask in)', 'E_USAGE');
        password = await promptHidden(`Password of ${opts.user} at the proxy (not shown): `);
      }
      if (password !== undefined && opts.user === undefined) throw new CliError('--password-from-env needs --user', 'E_USAGE');
      await withApi(async (api) => {
        const state = await api.setProxy({
          url,
          ...(opts.noProxy !== undefined
            ? {
                noProxy: opts.noProxy
                  .split(',')
                  .map((s) => s.trim())
                  .filter(Boolean),
              }
            : {}),
          ...(opts.user !== undefined ? { username: opts.user, password: password ?? '' } : {}),
        });
        print(describe(state));
      });
    });

  proxy
    .command('clear')
    .description('remove the proxy setting (HTTPS_PROXY from the environment applies again, if set)')
    .action(async () => {
      await withApi(async (api) => print(describe(await api.clearProxy())));
    });
}

function describe(s: ProxyState): string {
  const lines = [`proxy:        ${s.description}`];
  if (s.noProxy.length) lines.push(`not for:      ${s.noProxy.join(', ')}`);
  if (s.source === 'setting') lines.push(`environment:  ${s.environment} (not used while the setting is there)`);
  return lines.join('\n');
}

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}
