import type { Authorizer } from './auth.js';
import type { EmulatorConfig } from './config.js';

/**
 * What the parts of the emulator share (listeners.ts, rendezvous.ts, management.ts, admin.ts).
 * `RelayEmulator` (server.ts) owns it.
 */

export type EmulatorLog = (level: 'info' | 'warn' | 'error', message: string) => void;

export interface EmulatorSettings {
  /** ws:// accept addresses instead of wss://. */
  plain: boolean;
  tokenGraceSeconds: number;
  rendezvousTimeoutMs: number;
  /** 0 = control channels are never dropped for being idle. */
  idleTimeoutMs: number;
  maxListeners: number;
}

export interface EmulatorContext {
  /** The current configuration; `reload` replaces it. */
  config: EmulatorConfig;
  readonly settings: EmulatorSettings;
  /** SAS checks, with the tokens already accepted. */
  readonly auth: Authorizer;
  readonly log: EmulatorLog;
  /** The port the emulator listens on (0 before it started). */
  port(): number;
}
