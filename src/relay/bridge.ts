import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import WebSocket from 'ws';
import type { AcceptCommand } from './control-channel.js';
import { type Endpoint, formatEndpoint } from './endpoint.js';
import { dataMask, pipeSocketAndWebSocket } from './pipe.js';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, type TransportOptions, isSecureUrl, tlsOptions } from './transport.js';

/**
 * One tunneled connection: TCP to the endpoint first, then the rendezvous WebSocket, then bytes
 * both ways. Connecting TCP first means an unreachable endpoint is reported to the app as a
 * clean 502 with the reason, instead of a socket that opens and dies.
 * Moving the bytes is pipe.ts's job.
 */

export const DEFAULT_CONNECT_TIMEOUT_MS = 15_000;

export interface BridgeStats {
  bytesToEndpoint: number;
  bytesFromEndpoint: number;
}

export interface BridgeCallbacks {
  /** The tunnel is open: TCP and rendezvous both up. `abort` tears it down at once (shutdown). */
  onOpen(abort: () => void): void;
  /** Bytes moved since the last call (called often; keep it cheap). */
  onBytes(toEndpoint: number, fromEndpoint: number): void;
  /** The connection could not be bridged; it was rejected with `status` when possible. */
  onFailed(reason: string): void;
  /** An open tunnel ended. */
  onClosed(stats: BridgeStats, reason: string): void;
}

export interface BridgeOptions {
  endpoint: Endpoint;
  connectTimeoutMs?: number;
  transport?: TransportOptions;
}

export class EndpointConnectError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EndpointConnectError';
  }
}

export function connectEndpoint(endpoint: Endpoint, timeoutMs: number): Promise<net.Socket> {
  const where = formatEndpoint(endpoint);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: endpoint.host, port: endpoint.port, allowHalfOpen: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new EndpointConnectError(`endpoint ${where} did not answer within ${Math.round(timeoutMs / 1000)} s (connect timeout)`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new EndpointConnectError(describeConnectError(where, endpoint.host, err)));
    });
  });
}

export function describeConnectError(where: string, host: string, err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return `endpoint host ${host} could not be resolved (DNS ${err.code})`;
    case 'ECONNREFUSED':
      return `endpoint ${where} refused the connection (nothing listening?)`;
    case 'ETIMEDOUT':
      return `endpoint ${where} did not answer (connect timeout)`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `endpoint ${where} is unreachable (${err.code})`;
    default:
      return `endpoint ${where} could not be reached: ${err.message}`;
  }
}

/** First sub-protocol the sender offered, which the listener must offer back (protocol.md §4). */
function senderProtocol(headers: Record<string, string>): string | undefined {
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === 'sec-websocket-protocol') return v.split(',')[0]?.trim() || undefined;
  }
  return undefined;
}

/** Answers the rendezvous with an HTTP status; the relay answers 410 when it took the rejection. */
export function rejectRendezvous(accept: AcceptCommand, status: number, description: string, transport?: TransportOptions): Promise<void> {
  const address = `${accept.address}&sb-hc-statusCode=${status}&sb-hc-statusDescription=${encodeURIComponent(description.slice(0, 200))}`;
  return new Promise((resolve) => {
    const ws = new WebSocket(address, { perMessageDeflate: false, handshakeTimeout: 10_000, ...tlsOptions(transport, isSecureUrl(address)) });
    ws.on('unexpected-response', (_req, res: IncomingMessage) => {
      res.resume();
      resolve();
    });
    ws.on('open', () => {
      ws.terminate();
      resolve();
    });
    ws.on('error', () => resolve());
  });
}

export async function bridge(accept: AcceptCommand, options: BridgeOptions, callbacks: BridgeCallbacks): Promise<void> {
  let tcp: net.Socket;
  try {
    tcp = await connectEndpoint(options.endpoint, options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
  } catch (err) {
    const reason = (err as Error).message;
    await rejectRendezvous(accept, 502, reason, options.transport);
    callbacks.onFailed(reason);
    return;
  }
  tcp.setNoDelay(true);
  const protocol = senderProtocol(accept.connectHeaders);
  // The address is used exactly as given: re-serialising it could change what the relay signed.
  const ws = new WebSocket(accept.address, protocol ? [protocol] : [], {
    perMessageDeflate: false,
    generateMask: dataMask,
    handshakeTimeout: options.transport?.timeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
    ...tlsOptions(options.transport, isSecureUrl(accept.address)),
  });
  await new Promise<void>((resolve) => {
    let opened = false;
    ws.on('unexpected-response', (_req, res: IncomingMessage) => {
      res.resume();
      tcp.destroy();
      ws.terminate();
      callbacks.onFailed(`rendezvous refused by the relay (${res.statusCode} ${res.statusMessage ?? ''})`.trim());
      resolve();
    });
    ws.on('error', (err) => {
      if (opened) return; // 'close' follows
      tcp.destroy();
      callbacks.onFailed(`rendezvous failed: ${err.message}`);
      resolve();
    });
    ws.on('open', () => {
      opened = true;
      callbacks.onOpen(() => {
        ws.terminate();
        tcp.destroy();
      });
      pipeSocketAndWebSocket(ws, tcp, {
        onBytes: (toSocket, fromSocket) => callbacks.onBytes(toSocket, fromSocket),
        onClosed: (stats, reason) => {
          callbacks.onClosed({ bytesToEndpoint: stats.bytesToSocket, bytesFromEndpoint: stats.bytesFromSocket }, reason);
          resolve();
        },
      });
    });
  });
}

