import { isIP } from 'node:net';
import { RelayError } from './errors.js';

/**
 * Azure Relay connection strings (docs/protocol.md §2). Parsing is strict because a silently
 * misread string produces a listener that never connects, which is the worst failure mode.
 */
export interface ConnectionString {
  /** Host of the namespace, lower-cased, without port, IPv6 without brackets. */
  host: string;
  /** Explicit port from Endpoint, kept for the wss URL and dropped from the token audience. */
  port: number | undefined;
  sharedAccessKeyName: string | undefined;
  sharedAccessKey: string | undefined;
  sharedAccessSignature: string | undefined;
  entityPath: string | undefined;
  operationTimeout: string | undefined;
  authentication: string | undefined;
  /** Plain ws:// instead of wss:// (loopback hosts only). */
  useDevelopmentEmulator: boolean;
}

const KNOWN_KEYS = {
  endpoint: 'Endpoint',
  sharedaccesskeyname: 'SharedAccessKeyName',
  sharedaccesskey: 'SharedAccessKey',
  sharedaccesssignature: 'SharedAccessSignature',
  entitypath: 'EntityPath',
  operationtimeout: 'OperationTimeout',
  authentication: 'Authentication',
  usedevelopmentemulator: 'UseDevelopmentEmulator',
} as const;
type KnownKey = keyof typeof KNOWN_KEYS;

const MAX_KEY_PART = 256;
/** Azure allows Hybrid Connection paths of up to 260 characters. */
export const MAX_ENTITY_PATH = 260;
/** RFC 1035: a host name written out has at most 253 characters. */
const MAX_HOST = 253;

function fail(message: string): never {
  throw new RelayError('E_CONNECTION_STRING', message);
}

export interface ParseOptions {
  /** A listener needs EntityPath; a namespace-level string alone names no Hybrid Connection. */
  requireEntityPath?: boolean;
}

export function parseConnectionString(text: string, options: ParseOptions = {}): ConnectionString {
  if (typeof text !== 'string' || !text.trim()) fail('connection string is empty');
  const values = new Map<KnownKey, string>();
  for (const rawPiece of text.split(';')) {
    const piece = rawPiece.trim();
    if (!piece) continue;
    const eq = piece.indexOf('=');
    if (eq < 0) fail(`connection string part ${describePiece(piece)} has no "="; expected Name=Value`);
    const name = piece.slice(0, eq).trim();
    const value = piece.slice(eq + 1).trim();
    const key = name.toLowerCase() as KnownKey;
    if (!(key in KNOWN_KEYS)) {
      fail(`unknown connection string key ${describePiece(name)}; expected one of ${Object.values(KNOWN_KEYS).join(', ')}`);
    }
    values.set(key, value); // the last duplicate wins, as in the Azure SDKs
  }

  const endpointText = values.get('endpoint');
  if (!endpointText) fail('connection string has no Endpoint (e.g. Endpoint=sb://mynamespace.servicebus.windows.net/)');
  const { host, port } = parseEndpointUri(endpointText);

  const keyName = values.get('sharedaccesskeyname');
  const key = values.get('sharedaccesskey');
  const signature = values.get('sharedaccesssignature');
  if ((keyName === undefined) !== (key === undefined)) {
    fail(
      keyName === undefined
        ? 'connection string has SharedAccessKey but no SharedAccessKeyName; they come together'
        : 'connection string has SharedAccessKeyName but no SharedAccessKey; they come together',
    );
  }
  if (keyName !== undefined && !keyName) fail('SharedAccessKeyName is empty');
  if (key !== undefined && !key) fail('SharedAccessKey is empty');
  if (keyName && keyName.length > MAX_KEY_PART) fail(`SharedAccessKeyName is longer than ${MAX_KEY_PART} characters`);
  if (key && key.length > MAX_KEY_PART) fail(`SharedAccessKey is longer than ${MAX_KEY_PART} characters`);
  if (signature !== undefined && keyName !== undefined) {
    fail('SharedAccessSignature cannot be combined with SharedAccessKeyName/SharedAccessKey');
  }
  if (signature !== undefined && !signature.startsWith('SharedAccessSignature ')) {
    fail('SharedAccessSignature must be a full token starting with "SharedAccessSignature sr="');
  }

  let entityPath = values.get('entitypath');
  if (entityPath !== undefined) {
    entityPath = entityPath.replace(/^\/+|\/+$/g, '');
    if (!entityPath) fail('EntityPath is empty');
    if (entityPath.length > MAX_ENTITY_PATH) fail(`EntityPath is longer than ${MAX_ENTITY_PATH} characters (${entityPath.length})`);
    if (!/^[A-Za-z0-9._\-/]+$/.test(entityPath))
      fail(`EntityPath ${quoteValue(entityPath)} has characters a Hybrid Connection name cannot have`);
  }
  if (options.requireEntityPath && !entityPath) {
    fail("connection string has no EntityPath; use the Hybrid Connection's own connection string (it ends with EntityPath=<name>)");
  }

  const emulatorText = values.get('usedevelopmentemulator');
  let useDevelopmentEmulator = false;
  if (emulatorText !== undefined) {
    if (!/^(true|false)$/i.test(emulatorText)) fail(`UseDevelopmentEmulator must be true or false, not ${describePiece(emulatorText)}`);
    useDevelopmentEmulator = emulatorText.toLowerCase() === 'true';
  }
  if (useDevelopmentEmulator && !isLoopbackHost(host)) {
    fail(`UseDevelopmentEmulator=true (plain ws://) is allowed only for loopback hosts, not "${host}"`);
  }

  const operationTimeout = values.get('operationtimeout');
  if (operationTimeout !== undefined && !/^(\d+\.)?\d{1,2}:\d{2}:\d{2}(\.\d+)?$/.test(operationTimeout)) {
    fail(`OperationTimeout ${describePiece(operationTimeout)} is not a time span like 00:01:00`);
  }

  return {
    host,
    port,
    sharedAccessKeyName: keyName,
    sharedAccessKey: key,
    sharedAccessSignature: signature,
    entityPath,
    operationTimeout,
    authentication: values.get('authentication'),
    useDevelopmentEmulator,
  };
}

/**
 * Quotes a bad part back only when it looks like a misspelt name or word. Anything else may be
 * (part of) a pasted key, e.g. "SharedAccessKey<key>" with its "=" lost: it is described by its
 * length instead, so a key never reaches an error message, a log or a terminal.
 */
function describePiece(piece: string): string {
  if (/^[A-Za-z][A-Za-z :.-]{0,39}$/.test(piece)) return `"${piece}"`;
  return notShown(piece);
}

const notShown = (text: string) => `(${text.length} characters, not shown: it may hold a key)`;

/**
 * Quotes a bad value (an endpoint, an entity path) unless part of it could be a key: a long run
 * of base64 with a digit or + or / in it, or a SharedAccess… name glued on by a lost ";".
 */
function quoteValue(text: string): string {
  const keyLike = (text.match(/[A-Za-z0-9+/]{16,}/g) ?? []).some((run) => /[0-9+/]/.test(run));
  if (keyLike || /sharedaccess|sig=/i.test(text)) return notShown(text);
  // Quoted on one line, and a long one is cut (the cut part could still hold anything).
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(text)) return `(${text.length} characters with control characters, not shown)`;
  return text.length > MAX_QUOTED ? `"${text.slice(0, MAX_QUOTED)}…" (${text.length} characters)` : `"${text}"`;
}

const MAX_QUOTED = 80;

function parseEndpointUri(text: string): { host: string; port: number | undefined } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    fail(`Endpoint ${quoteValue(text)} is not a URI; expected sb://<namespace>.servicebus.windows.net/`);
  }
  if (url.protocol !== 'sb:') fail(`Endpoint ${quoteValue(text)} must use the sb:// scheme`);
  if (!url.hostname) fail(`Endpoint ${quoteValue(text)} has no host`);
  // User information is where a pasted key would sit: only the host is named.
  if (url.username || url.password)
    fail(`Endpoint for host "${url.hostname}" must not contain user information (not shown: it may hold a key)`);
  if (url.pathname !== '' && url.pathname !== '/') {
    fail(`Endpoint ${quoteValue(text)} must not have a path; put the Hybrid Connection name in EntityPath`);
  }
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (host.length > MAX_HOST) fail(`Endpoint host is longer than ${MAX_HOST} characters (${host.length})`);
  // Port 0 means "any port" to a listening socket and no port at all to a connecting one.
  if (url.port === '0') fail(`Endpoint ${quoteValue(text)} has port 0; give the relay's port (or none for 443)`);
  return { host, port: url.port ? Number(url.port) : undefined };
}

export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1';
  return false;
}

export interface FormatOptions {
  /** Print the key (or SAS token) itself. Off by default: strings end up in logs and screenshots. */
  includeSecrets?: boolean;
}

const REDACTED = '<redacted>';

/** Canonical order (Endpoint, SharedAccessKeyName, SharedAccessKey, EntityPath, …): some tools parse positionally. */
export function formatConnectionString(cs: ConnectionString, options: FormatOptions = {}): string {
  const parts: string[] = [`Endpoint=sb://${hostWithPort(cs)}/`];
  if (cs.sharedAccessKeyName !== undefined) {
    parts.push(`SharedAccessKeyName=${cs.sharedAccessKeyName}`);
    parts.push(`SharedAccessKey=${options.includeSecrets ? cs.sharedAccessKey : REDACTED}`);
  }
  if (cs.sharedAccessSignature !== undefined) {
    parts.push(`SharedAccessSignature=${options.includeSecrets ? cs.sharedAccessSignature : REDACTED}`);
  }
  if (cs.entityPath !== undefined) parts.push(`EntityPath=${cs.entityPath}`);
  if (cs.operationTimeout !== undefined) parts.push(`OperationTimeout=${cs.operationTimeout}`);
  if (cs.authentication !== undefined) parts.push(`Authentication=${cs.authentication}`);
  if (cs.useDevelopmentEmulator) parts.push('UseDevelopmentEmulator=true');
  return parts.join(';');
}

export function hostWithPort(cs: Pick<ConnectionString, 'host' | 'port'>): string {
  const host = isIP(cs.host) === 6 ? `[${cs.host}]` : cs.host;
  return cs.port !== undefined ? `${host}:${cs.port}` : host;
}

/** `wss://host[:port]` (or `ws://` for the development emulator) — the base of every relay URL. */
export function relayOrigin(cs: ConnectionString, scheme: 'ws' | 'http' = 'ws'): string {
  const secure = !cs.useDevelopmentEmulator;
  const proto = scheme === 'ws' ? (secure ? 'wss' : 'ws') : secure ? 'https' : 'http';
  return `${proto}://${hostWithPort(cs)}`;
}

/** The namespace's short name: the first DNS label of the host (what the portal calls the namespace). */
export function namespaceName(cs: Pick<ConnectionString, 'host'>): string {
  return isIP(cs.host) ? cs.host : (cs.host.split('.')[0] ?? cs.host);
}
