import { hostWithPort, parseConnectionString } from '../relay/connection-string.js';
import type { StoredConnection } from './config-store.js';

/** What the service needs of the demo's local relay (src/emulator/demo.ts provides it). */
export interface DemoRelayHandle {
  listen: string;
  send: string;
  endpoint: string;
  relayAddress: string;
  stop(): Promise<void>;
}

export type DemoRelayLog = (level: 'info' | 'warn' | 'error', message: string) => void;
/** The faces pass the emulator's starter, loaded on demand (core does not import the emulator). */
export type DemoRelayStarter = (log: DemoRelayLog) => Promise<DemoRelayHandle>;

export const DEMO_ID = 'local-demo/echo';

/** The demo as a connection the engine runs like any other; it is kept in memory, never saved. */
export function demoConnection(relay: DemoRelayHandle): StoredConnection {
  const cs = parseConnectionString(relay.listen, { requireEntityPath: true });
  const [namespace, name] = DEMO_ID.split('/') as [string, string];
  return {
    id: DEMO_ID,
    name,
    namespace,
    serviceBusAddress: `sb://${hostWithPort(cs)}/`,
    keyName: cs.sharedAccessKeyName ?? null,
    endpoint: relay.endpoint,
    endpointSource: 'metadata',
    addedAt: new Date().toISOString(),
    connectionString: relay.listen,
  };
}
