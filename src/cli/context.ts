import { ControlClient } from '../core/control-socket.js';
import { transportFromEnv, tuningFromEnv } from '../core/environment.js';
import { hcmPaths } from '../core/paths.js';
import { type HcmService, createHcmService } from '../core/service.js';
import { HCM_METHODS, type HcmApi } from '../shared/api.js';
import { CliError } from './exit.js';

/**
 * Most commands work the same whether or not an agent is running: with one, they go through
 * its control socket (so its live status shows and it applies changes at once); without one,
 * they use the saved configuration directly.
 */
export interface CommandTarget {
  api: HcmApi;
  live: boolean;
  /** Resolves a name or namespace/name to an id. */
  resolveId(nameOrId: string): Promise<string>;
  close(): Promise<void>;
}

/** The running agent's contract through its control socket; null when none runs. */
export async function connectRunningAgent(): Promise<Omit<CommandTarget, 'live'> | null> {
  const client = await ControlClient.connect(hcmPaths().controlSocket);
  if (!client) return null;
  const api = Object.fromEntries(
    HCM_METHODS.map((m) => [m, (...args: unknown[]) => (client.call as (m: string, ...a: unknown[]) => Promise<unknown>)(m, ...args)]),
  ) as unknown as HcmApi;
  return {
    api,
    resolveId: async (nameOrId) => resolveAgainst(await api.listConnections(), nameOrId),
    close: async () => client.close(),
  };
}

export async function connectTarget(): Promise<CommandTarget> {
  const running = await connectRunningAgent();
  if (running) return { ...running, live: true };
  const service = offlineService();
  return { api: service, live: false, resolveId: (n) => service.resolveId(n), close: async () => undefined };
}

export function offlineService(): HcmService {
  return createHcmService({ host: 'agent', runAgent: false, transport: safeTransport() });
}

export function safeTransport() {
  try {
    return transportFromEnv();
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

export function safeTuning() {
  try {
    return tuningFromEnv();
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

function resolveAgainst(list: Array<{ id: string; name: string }>, nameOrId: string): string {
  const exact = list.find((c) => c.id === nameOrId);
  if (exact) return exact.id;
  const matches = list.filter((c) => c.name.toLowerCase() === nameOrId.toLowerCase() || c.id.toLowerCase() === nameOrId.toLowerCase());
  if (matches.length === 1) return matches[0]!.id;
  if (matches.length > 1) throw new CliError(`"${nameOrId}" matches ${matches.map((c) => c.id).join(', ')}; use namespace/name`);
  throw new CliError(
    `no connection named "${nameOrId}"${list.length ? ` (have: ${list.map((c) => c.id).join(', ')})` : ' (none added yet)'}`,
  );
}
