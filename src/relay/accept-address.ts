import { isIP } from 'node:net';
import type { ConnectionString } from './connection-string.js';

/**
 * The rule an accept (rendezvous) address from the control channel must pass before the agent
 * connects to it (docs/protocol.md §4.2). The relay is trusted to name a rendezvous, not to send the
 * agent anywhere: the whole address is checked, and then used exactly as given.
 *
 * - scheme: wss (ws only for the development emulator), as on the control channel;
 * - host: the namespace host; for a DNS namespace also any host under its parent domain with a
 *   dot boundary (Azure hands out gateways such as g12-prod-….servicebus.windows.net for
 *   contoso.servicebus.windows.net); an IP-literal namespace host only matches itself;
 * - port: the namespace's (its explicit port, else 443 for wss, 80 for ws);
 * - path: `/$hc/<entity>` for this listener's entity (case-insensitive), optionally followed by
 *   the sender's own path suffix; a query naming `sb-hc-action=accept`;
 * - characters: URI characters only; no control characters, spaces, fragments or user information.
 */

export const MAX_ACCEPT_ADDRESS_LENGTH = 4096;
/** RFC 1035: a DNS name is at most 253 characters written out, a label at most 63. */
export const MAX_HOST_LENGTH = 253;

export type AcceptAddressNamespace = Pick<ConnectionString, 'host' | 'port' | 'useDevelopmentEmulator' | 'entityPath'>;

/** RFC 3986 characters (unreserved, reserved and '%'), without '#': nothing else goes into a request line. */
const URI_CHARACTERS = /^[A-Za-z0-9\-._~:/?[\]@!$&'()*+,;=%]*$/;
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** undefined when `address` may be connected to; otherwise why not (safe to log: nothing unchecked is quoted). */
export function acceptAddressProblem(address: string, ns: AcceptAddressNamespace): string | undefined {
  if (address.length > MAX_ACCEPT_ADDRESS_LENGTH) return `address is longer than ${MAX_ACCEPT_ADDRESS_LENGTH} characters`;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(address)) return 'address contains control characters (CR, LF, NUL, …)';
  if (!URI_CHARACTERS.test(address)) return 'address has characters a URL cannot carry (spaces, "#", non-ASCII, …)';
  if (/%(?![0-9A-Fa-f]{2})/.test(address)) return 'address has a "%" that is not a percent-encoding';
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?]*)([^?]*)(\?.*)?$/.exec(address);
  if (!m) return 'address is not a ws:// or wss:// URL';
  const [, scheme, authority, path, query] = m as unknown as [string, string, string, string, string | undefined];

  const expectedScheme = ns.useDevelopmentEmulator ? 'ws' : 'wss';
  if (scheme.toLowerCase() !== expectedScheme) return `address scheme ${shown(scheme.toLowerCase())} is not ${expectedScheme}`;

  if (authority.includes('@')) return 'address has user information';
  const hp = /^(?:\[([^\]]*)\]|([^:[\]]*))(?::([0-9]*))?$/.exec(authority);
  if (!hp) return 'address has an invalid host and port';
  const bracketed = hp[1] !== undefined;
  const host = (hp[1] ?? hp[2] ?? '').toLowerCase();
  if (!host) return 'address has no host';
  if (bracketed && isIP(host) !== 6) return 'address has an invalid IPv6 host';
  if (!bracketed && !isIP(host) && !isDnsName(host)) return 'address host is not a valid host name';
  if (!isRelayHost(host, ns.host)) return `address host ${shown(host)} is not part of the relay`;

  const expectedPort = ns.port ?? (ns.useDevelopmentEmulator ? 80 : 443);
  if (hp[3] !== undefined) {
    if (!/^[1-9][0-9]{0,4}$/.test(hp[3])) return 'address has an invalid port';
    const port = Number(hp[3]);
    if (port !== expectedPort) return `address port ${port} is not the relay's port ${expectedPort}`;
  } else if (expectedPort !== (ns.useDevelopmentEmulator ? 80 : 443)) {
    return `address has no port; the relay's port is ${expectedPort}`;
  }

  if (!path.startsWith('/$hc/')) return 'address path does not start with /$hc/';
  let segments: string[];
  try {
    segments = path.slice('/$hc/'.length).split('/').map(decodeURIComponent);
  } catch {
    return 'address path has an invalid percent-encoding';
  }
  if (segments.some((s) => s === '.' || s === '..')) return 'address path has "." or ".." segments';
  if (ns.entityPath !== undefined) {
    const entity = ns.entityPath.toLowerCase();
    const decoded = segments.join('/').toLowerCase();
    if (decoded !== entity && !decoded.startsWith(`${entity}/`)) return `address path is not /$hc/${ns.entityPath}`;
  }
  if (query === undefined || !query.slice(1).split('&').includes('sb-hc-action=accept')) {
    return 'address query has no sb-hc-action=accept';
  }
  return undefined;
}

function isDnsName(host: string): boolean {
  return host.length <= MAX_HOST_LENGTH && host.split('.').every((label) => DNS_LABEL.test(label));
}

/**
 * Whether `host` belongs to the relay of namespace host `namespaceHost`: the same host, or (for
 * a DNS name of three labels or more, or `<name>.localhost`) a host under the namespace's parent
 * domain, at a dot boundary. IP literals only ever match themselves: "10.0.0.1" is not "under" "127.0.0.1".
 */
export function isRelayHost(host: string, namespaceHost: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  const ns = namespaceHost.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === ns) return true;
  if (isIP(h) || isIP(ns) || !isDnsName(h)) return false;
  const labels = ns.split('.');
  // Two labels would make a whole public suffix the relay's ("contoso.com" → any *.com). The one
  // exception is `localhost`: every name under it is this machine (RFC 6761), so a namespace served
  // as <namespace>.localhost (the emulator) may hand out gateways such as g1-<namespace>.localhost.
  if (labels.length < 3 && !(labels.length === 2 && labels[1] === 'localhost')) return false;
  return h.endsWith(`.${labels.slice(1).join('.')}`);
}

/** A host or scheme is quoted only when it has the shape of one; anything else is described by its length. */
function shown(text: string): string {
  return text.length <= MAX_HOST_LENGTH && /^[a-z0-9.:-]+$/.test(text) ? text : `(${text.length} characters, not shown)`;
}
