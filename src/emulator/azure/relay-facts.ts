import type { EmulatorConfig, EmulatorHybridConnection, EmulatorNamespace, EmulatorRule } from '../config.js';

/**
 * What ARM reads from, and changes in, the relay it describes: the live configuration (namespaces,
 * Hybrid Connections, rules and keys, and the directory), listeners online, and connection
 * strings formatted as the relay itself prints them, so they work against it. `RelayEmulator`
 * (server.ts) provides it.
 */
export interface RelayFacts {
  config(): EmulatorConfig;
  listenerCount(hc: EmulatorHybridConnection): number;
  /** The rule's connection string with its primary (0) or secondary (1) key; with `hc`, for that entity. */
  connectionString(ns: EmulatorNamespace, rule: EmulatorRule, key: 0 | 1, hc?: EmulatorHybridConnection): string;
  /** https://host:port/ of the namespace on this relay (ARM's serviceBusEndpoint). */
  serviceBusEndpoint(ns: EmulatorNamespace): string;
  /** A key was regenerated: tokens signed with the old one must no longer be accepted. */
  keysChanged(): void;
}
