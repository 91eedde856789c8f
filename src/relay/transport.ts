import type { Agent } from 'node:http';
import { rootCertificates } from 'node:tls';

/**
 * How the agent reaches the relay. `ca` adds trust anchors (e.g. the emulator's CA) on top of the
 * system store; verification is never turned off. `agent` carries an outbound HTTP proxy.
 */
export interface TransportOptions {
  ca?: string | Buffer | Array<string | Buffer>;
  agent?: Agent;
  /** Handshake / request timeout in milliseconds. */
  timeoutMs?: number;
}

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 30_000;

export function tlsOptions(transport: TransportOptions | undefined): { ca?: TransportOptions['ca']; agent?: Agent } {
  const out: { ca?: TransportOptions['ca']; agent?: Agent } = {};
  // Node's `ca` replaces the system store; keep the public roots so a proxy or Azure still verifies.
  if (transport?.ca) out.ca = [...rootCertificates, ...(Array.isArray(transport.ca) ? transport.ca : [transport.ca])];
  if (transport?.agent) out.agent = transport.agent;
  return out;
}
