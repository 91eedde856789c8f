import { isIP } from 'node:net';
import { RelayError, quoteRelayText } from './errors.js';

/** RFC 1035: a host name written out has at most 253 characters. */
export const MAX_HOST_LENGTH = 253;

/** A TCP endpoint as App Service writes it in the Hybrid Connection's `endpoint` metadata. */
export interface Endpoint {
  host: string;
  port: number;
}

/**
 * Parses `host:port`, `[v6]:port`. A bare IPv6 address with a port is ambiguous, so it must be
 * bracketed; the error says so rather than guessing where the port starts.
 */
export function parseEndpoint(text: string): Endpoint {
  const value = text.trim();
  if (!value) throw new RelayError('E_ENDPOINT', 'endpoint is empty; expected host:port, e.g. db.internal:5432');
  // The text comes from Hybrid Connection metadata anyone with Manage rights can write: quoted
  // back shortened, and a host longer than DNS allows is refused before it reaches a resolver.
  if (value.length > MAX_HOST_LENGTH + ':65535'.length) {
    throw new RelayError(
      'E_ENDPOINT',
      `endpoint "${quoteRelayText(value, 60)}" is too long; a host name has at most ${MAX_HOST_LENGTH} characters`,
    );
  }
  const shown = quoteRelayText(value, 80);
  let host: string;
  let portText: string;
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    if (close < 0) throw new RelayError('E_ENDPOINT', `endpoint "${shown}" has "[" without "]"`);
    host = value.slice(1, close);
    if (isIP(host) !== 6) throw new RelayError('E_ENDPOINT', `endpoint "${shown}": "${quoteRelayText(host, 80)}" is not an IPv6 address`);
    if (value[close + 1] !== ':') throw new RelayError('E_ENDPOINT', `endpoint "${shown}" has no port; expected [address]:port`);
    portText = value.slice(close + 2);
  } else {
    const colon = value.lastIndexOf(':');
    if (colon < 0) throw new RelayError('E_ENDPOINT', `endpoint "${shown}" has no port; expected host:port`);
    host = value.slice(0, colon);
    portText = value.slice(colon + 1);
    if (host.includes(':')) {
      throw new RelayError('E_ENDPOINT', `endpoint "${shown}": write IPv6 addresses in brackets, e.g. [::1]:5432`);
    }
    if (!host) throw new RelayError('E_ENDPOINT', `endpoint "${shown}" has no host`);
    if (!/^[A-Za-z0-9._-]+$/.test(host))
      throw new RelayError('E_ENDPOINT', `endpoint "${shown}": "${quoteRelayText(host, 80)}" is not a valid host name`);
    if (host.length > MAX_HOST_LENGTH) {
      throw new RelayError('E_ENDPOINT', `endpoint "${shown}": the host is longer than ${MAX_HOST_LENGTH} characters`);
    }
  }
  if (!/^\d{1,5}$/.test(portText))
    throw new RelayError('E_ENDPOINT', `endpoint "${shown}": port "${quoteRelayText(portText, 20)}" is not a number`);
  const port = Number(portText);
  if (port < 1 || port > 65535) throw new RelayError('E_ENDPOINT', `endpoint "${shown}": port ${port} is outside 1-65535`);
  return { host, port };
}

export function formatEndpoint(endpoint: Endpoint): string {
  return isIP(endpoint.host) === 6 ? `[${endpoint.host}]:${endpoint.port}` : `${endpoint.host}:${endpoint.port}`;
}
