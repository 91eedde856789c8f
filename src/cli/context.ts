import { transportFromEnv, tuningFromEnv } from '../core/environment.js';
import { resolveConnectionId } from '../core/connection-id.js';
import type { HcmService } from '../core/service.js';
import { errorMessage } from '../shared/errors.js';
import type { HcmApi } from '../shared/api.js';
import { CliError } from './exit.js';
import { connectRunningAgent } from '../core/running-agent.js';

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

export async function connectTarget(): Promise<CommandTarget> {
  const running = await connectRunningAgent();
  if (running) {
    const api = running.host;
    return {
      api,
      live: true,
      resolveId: async (nameOrId) => resolveConnectionId(await api.listConnections(), nameOrId),
      close: async () => running.close(),
    };
  }
  const service = await offlineService();
  return { api: service, live: false, resolveId: (n) => service.resolveId(n), close: async () => undefined };
}

/** The service itself, loaded only without a running agent (it brings the relay engine and the Azure SDKs). */
export async function offlineService(): Promise<HcmService> {
  const { createHcmService } = await import('../core/service.js');
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
