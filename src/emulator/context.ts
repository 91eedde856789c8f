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
  /** Seconds the emulator's clock is ahead of the machine's (negative: behind): its Date headers and token expiry. */
  clockOffsetSeconds: number;
  /** Rendezvous addresses name this many gateway hosts in turn (g1-<namespace>.localhost …); 0 = the listener's own host. */
  gateways: number;
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
  /** Milliseconds since the epoch on the emulator's clock (the machine's, shifted by clockOffsetSeconds). */
  now(): number;
}
