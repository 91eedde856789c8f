import { ControlClient } from '../core/control-socket.js';
import { transportFromEnv, tuningFromEnv } from '../core/environment.js';
import { hcmPaths } from '../core/paths.js';
import { type HcmService, createHcmService, resolveConnectionId } from '../core/service.js';
import { errorMessage } from '../shared/errors.js';
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
    resolveId: async (nameOrId) => resolveConnectionId(await api.listConnections(), nameOrId),
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
    throw new CliError(errorMessage(err), 'E_CONFIG');
  }
}

export function safeTuning() {
  try {
    return tuningFromEnv();
  } catch (err) {
    throw new CliError(errorMessage(err), 'E_CONFIG');
  }
}
