import { isIP } from 'node:net';
import { RelayError } from './errors.js';

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
  let host: string;
  let portText: string;
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    if (close < 0) throw new RelayError('E_ENDPOINT', `endpoint "${value}" has "[" without "]"`);
    host = value.slice(1, close);
    if (isIP(host) !== 6) throw new RelayError('E_ENDPOINT', `endpoint "${value}": "${host}" is not an IPv6 address`);
    if (value[close + 1] !== ':') throw new RelayError('E_ENDPOINT', `endpoint "${value}" has no port; expected [address]:port`);
    portText = value.slice(close + 2);
  } else {
    const colon = value.lastIndexOf(':');
    if (colon < 0) throw new RelayError('E_ENDPOINT', `endpoint "${value}" has no port; expected host:port`);
    host = value.slice(0, colon);
    portText = value.slice(colon + 1);
    if (host.includes(':')) {
      throw new RelayError('E_ENDPOINT', `endpoint "${value}": write IPv6 addresses in brackets, e.g. [::1]:5432`);
    }
    if (!host) throw new RelayError('E_ENDPOINT', `endpoint "${value}" has no host`);
    if (!/^[A-Za-z0-9._-]+$/.test(host)) throw new RelayError('E_ENDPOINT', `endpoint "${value}": "${host}" is not a valid host name`);
  }
  if (!/^\d{1,5}$/.test(portText)) throw new RelayError('E_ENDPOINT', `endpoint "${value}": port "${portText}" is not a number`);
  const port = Number(portText);
  if (port < 1 || port > 65535) throw new RelayError('E_ENDPOINT', `endpoint "${value}": port ${port} is outside 1-65535`);
  return { host, port };
}

export function formatEndpoint(endpoint: Endpoint): string {
  return isIP(endpoint.host) === 6 ? `[${endpoint.host}]:${endpoint.port}` : `${endpoint.host}:${endpoint.port}`;
}
