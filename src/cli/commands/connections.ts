import type { Command } from 'commander';
import { connectionDetails, connectionsTable, tunnelsTable } from '../format.js';
import { connectTarget } from '../context.js';
import { connectRunningAgent } from '../../core/running-agent.js';
import type { ConnectionSummary } from '../../shared/api.js';
import { CliError } from '../exit.js';
import { parseLogLevel } from '../options.js';
import { SECRET_SOURCE_HELP, type SecretSourceOptions, readConnectionString } from '../secret-input.js';
import type { AzureAddOptions } from './azure-add.js';

/** add, list, show, remove, restart: the verbs admins know from Microsoft's HCM CLI. */
export function registerConnectionCommands(program: Command): void {
  program
    .command('add')
    .description('add a Hybrid Connection by its connection string (Listen rule, with EntityPath)')
    .argument(
      '[connection-string]',
      '"-" to read it from stdin, or the string itself: "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=defaultListener;SharedAccessKey=…;EntityPath=hc"',
    )
    .option('--from-file <file>', 'read the connection string from a file')
    .option('--from-env <variable>', 'read the connection string from an environment variable')
    .option('--endpoint <host:port>', 'endpoint to use when the Hybrid Connection has no endpoint metadata')
    .option('--subscription <id>', 'from Azure (signed in with hcm login): the subscription id or name')
    .option('--resource-group <name>', 'from Azure: the resource group')
    .option('--namespace <name>', 'from Azure: the Relay namespace')
    .option('--name <name>', 'from Azure: the Hybrid Connection')
    .option('--json', 'print the added connection as JSON')
    .addHelpText(
      'after',
      `\n${SECRET_SOURCE_HELP}\n\nWith no connection string, in a terminal: pick from what your Azure account can see (hcm login first).\n` +
        'Without questions: hcm add --subscription S --resource-group G --namespace N --name H',
    )
    .action(async (arg: string | undefined, opts: { endpoint?: string; json?: boolean } & SecretSourceOptions & AzureAddOptions) => {
      // The Azure SDKs load only for an add from Azure: they cost the other commands ~0.5 s.
      if (opts.subscription || opts.resourceGroup || opts.namespace || opts.name)
        return (await import('./azure-add.js')).addFromAzureByName(opts);
      if (arg === undefined && opts.fromFile === undefined && opts.fromEnv === undefined && process.stdin.isTTY) {
        return (await import('./azure-add.js')).addFromAzurePicker();
      }
      const connectionString = await readConnectionString(arg, opts);
      await withTarget(async (t) => {
        const added = await t.api.addConnection({ connectionString, endpoint: opts.endpoint });
        if (opts.json) print(JSON.stringify(added, null, 2));
        else
          print(
            `added ${added.id} -> ${added.endpoint}${t.live ? ' (the running agent is listening now)' : ' (start the agent with "hcm run")'}`,
          );
      });
    });

  program
    .command('list')
    .alias('ls')
    .description('list Hybrid Connections with their status (live when an agent is running)')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const { list, live } = await listFromAgentOrSaved();
      if (opts.json) {
        print(JSON.stringify({ agentRunning: live, connections: list }, null, 2));
        return;
      }
      if (list.length === 0) {
        print('no Hybrid Connections yet; add one with: hcm add "<connection string>"');
        return;
      }
      print(connectionsTable(list, live));
      if (!live) process.stderr.write('no agent is running: showing the saved configuration (start one with "hcm run")\n');
    });

  program
    .command('show')
    .description('details of one Hybrid Connection')
    .argument('<name>', 'name, or namespace/name when two namespaces share a name')
    .option('--json', 'machine-readable output')
    .option('--connections', "the open connections (tunnels): who, since when, bytes each way, the endpoint's address")
    .action(async (name: string, opts: { json?: boolean; connections?: boolean }) => {
      await withTarget(async (t) => {
        const id = await t.resolveId(name);
        if (opts.connections) {
          if (!t.live) throw new CliError('no agent is running, so no connection is open (start one with "hcm run")', 'E_NO_AGENT');
          const list = await t.api.listTunnels(id, { limit: 10_000 });
          if (opts.json) print(JSON.stringify(list, null, 2));
          else print(tunnelsTable(list));
          return;
        }
        const details = await t.api.getConnection(id);
        if (opts.json) print(JSON.stringify({ agentRunning: t.live, ...details }, null, 2));
        else print(connectionDetails(details, t.live));
      });
    });

  program
    .command('disconnect')
    .description('close one open connection (tunnel) at once; its id is in "hcm show <name> --connections"')
    .argument('<tunnel-id>', 'e.g. contoso/orders-db#12 (or orders-db#12)')
    .action(async (tunnelId: string) => {
      const at = tunnelId.lastIndexOf('#');
      if (at <= 0 || !/^\d+$/.test(tunnelId.slice(at + 1))) {
        throw new CliError(`"${tunnelId}" is not a connection id like contoso/orders-db#12 (see hcm show <name> --connections)`, 'E_USAGE');
      }
      await withTarget(async (t) => {
        if (!t.live) throw new CliError('no agent is running, so no connection is open', 'E_NO_AGENT');
        const id = await t.resolveId(tunnelId.slice(0, at));
        const closed = await t.api.closeTunnel(id, `${id}${tunnelId.slice(at)}`);
        print(closed ? `closed ${id}${tunnelId.slice(at)}` : `${id}${tunnelId.slice(at)} is not open (it may have ended already)`);
      });
    });

  program
    .command('remove')
    .alias('rm')
    .description('remove a Hybrid Connection (a running agent stops listening on it at once)')
    .argument('<name>', 'name, or namespace/name')
    .action(async (name: string) => {
      await withTarget(async (t) => {
        const id = await t.resolveId(name);
        await t.api.removeConnection(id);
        print(`removed ${id}`);
      });
    });

  program
    .command('set-key')
    .description('replace the connection string of a Hybrid Connection (key rotation by hand), with the checks of "add"')
    .argument('<name>', 'name, or namespace/name')
    .argument('[connection-string]', 'the new connection string, or "-" to read it from stdin')
    .option('--from-file <file>', 'read the connection string from a file')
    .option('--from-env <variable>', 'read the connection string from an environment variable')
    .addHelpText('after', `\n${SECRET_SOURCE_HELP}`)
    .action(async (name: string, arg: string | undefined, opts: SecretSourceOptions) => {
      const connectionString = await readConnectionString(arg, opts);
      await withTarget(async (t) => {
        const updated = await t.api.replaceConnectionString(await t.resolveId(name), connectionString);
        print(
          `replaced the connection string of ${updated.id} (rule ${updated.keyName ?? 'SharedAccessSignature'})${t.live ? '; reconnecting with it' : ''}`,
        );
      });
    });

  program
    .command('set-endpoint')
    .description('change the endpoint of a Hybrid Connection whose endpoint was set by hand')
    .argument('<name>', 'name, or namespace/name')
    .argument('<host:port>', 'the new endpoint')
    .action(async (name: string, endpoint: string) => {
      await withTarget(async (t) => {
        const updated = await t.api.setEndpoint(await t.resolveId(name), endpoint);
        print(`${updated.id} -> ${updated.endpoint}${t.live ? ' (new connections use it now)' : ''}`);
      });
    });

  program
    .command('endpoint')
    .description('endpoint pinning: accept the endpoint the Hybrid Connection now names in Azure')
    .command('accept')
    .description('switch to the endpoint the Hybrid Connection\'s metadata now names (shown by hcm show as "endpoint changed in Azure")')
    .argument('<name>', 'name, or namespace/name')
    .action(async (name: string) => {
      await withTarget(async (t) => {
        const updated = await t.api.acceptEndpointChange(await t.resolveId(name));
        print(`${updated.id} -> ${updated.endpoint}${t.live ? ' (new connections use it now)' : ''}`);
      });
    });

  program
    .command('log-level')
    .description("show or change the running agent's log level")
    .argument('[level]', 'debug, info, warn or error')
    .action(async (level: string | undefined) => {
      await withTarget(async (t) => {
        if (!t.live) throw new CliError('no agent is running (the level of "hcm run" is set with --log-level)', 'E_NO_AGENT');
        if (level === undefined) return print(await t.api.getLogLevel());
        await t.api.setLogLevel(parseLogLevel(level));
        print(`log level: ${level}`);
      });
    });

  program
    .command('restart')
    .description('drop and re-open the control channel of a Hybrid Connection on the running agent')
    .argument('<name>', 'name, or namespace/name')
    .action(async (name: string) => {
      await withTarget(async (t) => {
        if (!t.live) throw new CliError('no agent is running, so there is nothing to restart (start one with "hcm run")', 'E_NO_AGENT');
        const id = await t.resolveId(name);
        await t.api.restartConnection(id);
        print(`restarted ${id}`);
      });
    });
}

/** The running agent's live list, else the saved one, read without loading the service (the most used command starts fast). */
async function listFromAgentOrSaved(): Promise<{ list: ConnectionSummary[]; live: boolean }> {
  const running = await connectRunningAgent();
  if (running) {
    try {
      return { list: await running.host.listConnections(), live: true };
    } finally {
      running.close();
    }
  }
  const { savedSummaries } = await import('../../core/saved-connections.js');
  return { list: savedSummaries(), live: false };
}

async function withTarget(fn: (t: Awaited<ReturnType<typeof connectTarget>>) => Promise<void>): Promise<void> {
  const target = await connectTarget();
  try {
    await fn(target);
  } finally {
    await target.close();
  }
}

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}
