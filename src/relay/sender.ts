import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { type ConnectionString, relayOrigin } from './connection-string.js';
import { RelayError, RelayHandshakeError, refusalDescription } from './errors.js';
import { networkError } from './runtime-info.js';
import { type TokenProvider, tokenProviderFor } from './token-provider.js';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, type TransportOptions, tlsOptions } from './transport.js';

/** The sender side of a Hybrid Connection: what App Service does for every connection it opens. */
export interface SenderOptions extends TransportOptions {
  /** Where the token travels: the ServiceBusAuthorization header (default) or the sb-hc-token query. */
  tokenIn?: 'header' | 'query';
  /** Path after the entity, e.g. '/some/suffix'. */
  pathSuffix?: string;
  /** Application query parameters, forwarded to the listener. */
  query?: Record<string, string>;
  headers?: Record<string, string>;
  protocols?: string[];
  tokens?: TokenProvider;
  /** Omit the sb-hc-action parameter (the service treats that as connect). */
  omitAction?: boolean;
}

export function senderUrl(cs: ConnectionString, options: SenderOptions = {}, token?: string): string {
  if (!cs.entityPath) throw new RelayError('E_CONNECTION_STRING', 'connection string has no EntityPath');
  const params = new URLSearchParams(options.query);
  if (!options.omitAction) params.set('sb-hc-action', 'connect');
  params.set('sb-hc-id', randomUUID());
  if (token) params.set('sb-hc-token', token);
  return `${relayOrigin(cs)}/$hc/${encodeURI(cs.entityPath)}${options.pathSuffix ?? ''}?${params.toString()}`;
}

/** Opens a sender WebSocket; handshake failures become RelayHandshakeError with the service's status and text. */
export function openSender(cs: ConnectionString, options: SenderOptions = {}): Promise<WebSocket> {
  const tokens = options.tokens ?? tokenProviderFor(cs);
  const token = tokens.getToken(cs.entityPath);
  const inQuery = options.tokenIn === 'query';
  const url = senderUrl(cs, options, inQuery ? token : undefined);
  const headers: Record<string, string> = { ...options.headers };
  if (!inQuery) headers.ServiceBusAuthorization = token;
  return openRelayWebSocket(url, headers, options);
}

/** Opens a WebSocket to the relay (any action); handshake failures become RelayHandshakeError. */
export function openRelayWebSocket(
  url: string,
  headers: Record<string, string>,
  options: TransportOptions & { protocols?: string[] } = {},
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options.protocols ?? [], {
      headers,
      perMessageDeflate: false,
      handshakeTimeout: options.timeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
      ...tlsOptions(options, url),
    });
    let settled = false;
    const settle = (err: Error | undefined) => {
      if (settled) return;
      settled = true;
      ws.off('open', onOpen);
      if (err) reject(err);
      else resolve(ws);
    };
    const onOpen = () => settle(undefined);
    ws.on('open', onOpen);
    ws.on('unexpected-response', (_req, res: IncomingMessage) => {
      void readHandshakeFailure(res).then((e) => {
        settle(e);
        ws.terminate();
      });
    });
    ws.on('error', (err) =>
      settle(
        /timeout/i.test(err.message) && !(err as NodeJS.ErrnoException).code
          ? new RelayError('E_TIMEOUT', `relay handshake timed out: ${err.message}`)
          : networkError(url, err),
      ),
    );
  });
}

/** A refused handshake through Node's HTTP client, described as the relay describes it (errors.ts). */
export function readHandshakeFailure(res: IncomingMessage): Promise<RelayHandshakeError> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      const body = Buffer.concat(chunks).toString('utf8').trim();
      resolve(new RelayHandshakeError(res.statusCode ?? 0, refusalDescription(res.statusCode ?? 0, res.statusMessage, body)));
    };
    res.on('data', (c: Buffer) => {
      if (size < 4096) chunks.push(c);
      size += c.length;
    });
    res.on('end', done);
    res.on('error', done);
    res.on('close', done);
  });
}
