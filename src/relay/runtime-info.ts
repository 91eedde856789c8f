import http from 'node:http';
import https from 'node:https';
import { XMLParser } from 'fast-xml-parser';
import { clockHint, noteRelayDate } from './clock-skew.js';
import { type ConnectionString, MAX_ENTITY_PATH, relayOrigin } from './connection-string.js';
import { type Endpoint, parseEndpoint } from './endpoint.js';
import { RelayError, quoteRelayText } from './errors.js';
import { MANAGEMENT_TOKEN_TTL_SECONDS } from './sas.js';
import { tokenProviderFor } from './token-provider.js';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, type TransportOptions, tlsOptions } from './transport.js';

/** What the management GET tells the agent about a Hybrid Connection (docs/protocol.md §6). */
export interface RuntimeInfo {
  name: string;
  /** Endpoint from the `endpoint` user-metadata entry; undefined when absent. */
  endpoint: Endpoint | undefined;
  /** Why endpoint is undefined, when it is. */
  endpointProblem: string | undefined;
  userMetadata: string | undefined;
  listenerCount: number | undefined;
  requiresClientAuthorization: boolean | undefined;
  createdAt: string | undefined;
  updatedAt: string | undefined;
}

const API_VERSION = '2016-07';

export async function getRuntimeInfo(cs: ConnectionString, transport?: TransportOptions): Promise<RuntimeInfo> {
  if (!cs.entityPath) throw new RelayError('E_CONNECTION_STRING', 'connection string has no EntityPath');
  const token = tokenProviderFor(cs).getToken(cs.entityPath, MANAGEMENT_TOKEN_TTL_SECONDS);
  const url = `${relayOrigin(cs, 'http')}/${encodeURI(cs.entityPath)}?api-version=${API_VERSION}`;
  const { status, statusText, body } = await httpGet(url, { Authorization: token, 'X-PROCESS-AT': 'ServiceBus' }, transport);
  const text = quoteRelayText(statusText);
  if (status === 401) throw new RelayError('E_UNAUTHORIZED', `the relay refused the key (401): ${text}${clockHint(cs.host)}`);
  if (status === 403) throw new RelayError('E_FORBIDDEN', `the key's rule may not read this Hybrid Connection (403): ${text}`);
  if (status === 404) throw notFound(cs.entityPath);
  if (status < 200 || status > 299) {
    throw new RelayError('E_RUNTIME_INFO', `runtime information request failed with ${status}: ${text}`);
  }
  return parseRuntimeInfo(body, cs.entityPath);
}

function notFound(entity: string): RelayError {
  return new RelayError('E_NOT_FOUND', `Hybrid Connection "${entity}" does not exist in this namespace`);
}

const xml = new XMLParser({ removeNSPrefix: true, ignoreAttributes: true, parseTagValue: false, trimValues: true });

/** Parses the Atom reply. An Atom <feed> (what Service Bus answers for a missing entity) means not found. */
export function parseRuntimeInfo(body: string, entity: string): RuntimeInfo {
  let doc: Record<string, unknown>;
  try {
    doc = xml.parse(body) as Record<string, unknown>;
  } catch (err) {
    throw new RelayError('E_RUNTIME_INFO', `runtime information is not valid XML: ${quoteRelayText(String((err as Error)?.message))}`);
  }
  if (doc.feed !== undefined) throw notFound(entity);
  const entry = doc.entry as Record<string, unknown> | undefined;
  const description = (entry?.content as Record<string, unknown> | undefined)?.HybridConnectionDescription as
    Record<string, unknown> | undefined;
  if (!entry || typeof description !== 'object' || description === null) {
    throw new RelayError('E_RUNTIME_INFO', 'runtime information has no HybridConnectionDescription; is this a Hybrid Connection?');
  }
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  // What is shown to the user is bounded: a name as long as an entity path, a timestamp as long as one.
  const short = (v: unknown, max: number) => {
    const t = text(v);
    // eslint-disable-next-line no-control-regex
    return t !== undefined && t.length <= max && !/[\x00-\x1f\x7f]/.test(t) ? t : undefined;
  };
  const userMetadata = text(description.UserMetadata);
  const { endpoint, problem } = endpointFromMetadata(userMetadata);
  const listenerCountText = text(description.ListenerCount);
  const rca = text(description.RequiresClientAuthorization);
  return {
    name: short(entry.title, MAX_ENTITY_PATH) ?? entity,
    endpoint,
    endpointProblem: problem,
    userMetadata,
    listenerCount: listenerCountText !== undefined && /^\d{1,9}$/.test(listenerCountText) ? Number(listenerCountText) : undefined,
    requiresClientAuthorization: rca === undefined ? undefined : rca.toLowerCase() === 'true',
    createdAt: short(description.CreatedAt, 64),
    updatedAt: short(description.UpdatedAt, 64),
  };
}

/**
 * App Service stores `[{"key":"endpoint","value":"host:port"}]`; the first `endpoint` key wins,
 * matched case-insensitively.
 */
export function endpointFromMetadata(userMetadata: string | undefined): { endpoint: Endpoint | undefined; problem: string | undefined } {
  if (!userMetadata) return { endpoint: undefined, problem: 'the Hybrid Connection has no user metadata with an endpoint' };
  let entries: unknown;
  try {
    entries = JSON.parse(userMetadata);
  } catch {
    return { endpoint: undefined, problem: 'the user metadata is not JSON; expected [{"key":"endpoint","value":"host:port"}]' };
  }
  if (!Array.isArray(entries)) {
    return { endpoint: undefined, problem: 'the user metadata is not a JSON array of {key, value}' };
  }
  const entry = entries.find(
    (e): e is { key: string; value: unknown } =>
      typeof e === 'object' &&
      e !== null &&
      typeof (e as { key?: unknown }).key === 'string' &&
      (e as { key: string }).key.toLowerCase() === 'endpoint',
  );
  if (!entry) return { endpoint: undefined, problem: 'the user metadata has no "endpoint" entry' };
  if (typeof entry.value !== 'string') return { endpoint: undefined, problem: 'the "endpoint" metadata value is not a string' };
  try {
    return { endpoint: parseEndpoint(entry.value), problem: undefined };
  } catch (err) {
    return { endpoint: undefined, problem: `the "endpoint" metadata is invalid: ${(err as Error).message}` };
  }
}

interface HttpResult {
  status: number;
  statusText: string;
  body: string;
  /** The relay's Date header, when it sent one (also noted in clock-skew.ts). */
  date: string | undefined;
}

const MAX_BODY = 1024 * 1024;

export function httpGet(url: string, headers: Record<string, string>, transport?: TransportOptions): Promise<HttpResult> {
  const lib = url.startsWith('https:') ? https : http;
  const timeout = transport?.timeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  // One request per add or refresh: no session reuse, and no pooled keep-alive socket either,
  // because Node's pool does not key sockets by secureContext (a socket trusted through one CA
  // must never serve a request that does not trust it).
  const { createConnection: _unused, ...connect } = tlsOptions(transport, url);
  return new Promise((resolve, reject) => {
    // `timeout` only bounds idle gaps; a relay trickling a byte a second never leaves one. This
    // bounds the whole request, connect to last byte.
    const deadline = setTimeout(
      () => req.destroy(new RelayError('E_TIMEOUT', `${new URL(url).host} did not finish answering within ${timeout} ms`)),
      timeout,
    );
    const settle =
      <T>(fn: (value: T) => void) =>
      (value: T) => {
        clearTimeout(deadline);
        fn(value);
      };
    resolve = settle(resolve);
    reject = settle(reject);
    const req = lib.get(url, { headers, timeout, agent: false, ...connect }, (res) => {
      const date = res.headers.date;
      noteRelayDate(new URL(url).hostname, date);
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY) {
          req.destroy(new RelayError('E_RUNTIME_INFO', 'runtime information reply is larger than 1 MiB'));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? '',
          body: Buffer.concat(chunks).toString('utf8'),
          date,
        }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new RelayError('E_TIMEOUT', `no answer from ${new URL(url).host} within ${timeout} ms`)));
    req.on('error', (err) => reject(err instanceof RelayError ? err : networkError(url, err)));
  });
}

const NETWORK_FAILURES: Record<string, (host: string) => string> = {
  ENOTFOUND: (host) => `cannot resolve ${host}`,
  EAI_AGAIN: (host) => `cannot resolve ${host}`,
  ECONNREFUSED: (host) => `connection to ${host} refused`,
  ETIMEDOUT: (host) => `connection to ${host} timed out`,
  ECONNRESET: (host) => `connection to ${host} was reset (the relay, or a proxy or firewall on the way, dropped it)`,
  EPIPE: (host) => `connection to ${host} was reset (the relay, or a proxy or firewall on the way, dropped it)`,
};

export function networkError(url: string, err: unknown): RelayError {
  // Connecting to a name with IPv4 and IPv6 addresses fails with an AggregateError of both.
  const first = err instanceof AggregateError ? (err.errors[0] as NodeJS.ErrnoException | undefined) : undefined;
  const e = (first ?? err) as NodeJS.ErrnoException;
  const host = new URL(url).host;
  const known = NETWORK_FAILURES[e.code ?? ''];
  const what = known
    ? known(host)
    : /certificate|self.signed|CERT_/i.test(`${e.code} ${e.message}`)
      ? `TLS certificate of ${host} is not trusted (${e.code ?? e.message}); for the emulator pass its CA file`
      : `cannot reach ${host}: ${e.message}`;
  return new RelayError('E_NETWORK', what, { cause: err });
}
