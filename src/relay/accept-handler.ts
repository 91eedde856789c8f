import net from 'node:net';
import type { AcceptCommand } from './control-channel.js';
import { type Endpoint, formatEndpoint } from './endpoint.js';
import { type PipeCallbacks, type PipeHandle, pipeTunnel } from './data-pipe.js';
import { connectPooled } from './pooled-reads.js';
import { openDataSocket } from './data-socket.js';
import { RelayError, type RelayHandshakeError } from './errors.js';
import type { TransportOptions } from './transport.js';

/**
 * What the agent does with each `accept` command (`handleAccept`), one tunneled connection:
 * TCP to the endpoint first, then the rendezvous WebSocket, then bytes
 * both ways. Connecting TCP first means an unreachable endpoint is reported to the app as a
 * clean 502 with the reason, instead of a socket that opens and dies.
 * Moving the bytes is data-pipe.ts's job.
 */

export const DEFAULT_CONNECT_TIMEOUT_MS = 15_000;

export interface AcceptCallbacks extends PipeCallbacks {
  /** The tunnel is open: TCP and rendezvous both up. `tunnel.abort()` tears it down at once (shutdown); `tcp` is the endpoint side. */
  onOpen(tunnel: PipeHandle, tcp: net.Socket): void;
  /** The connection could not be bridged; it was rejected with `status` when possible. */
  onFailed(reason: string): void;
  // onBytes and onClosed (PipeCallbacks): the socket is the endpoint, so bytes "to the socket"
  // went to the endpoint.
}

export interface AcceptOptions {
  endpoint: Endpoint;
  connectTimeoutMs?: number;
  transport?: TransportOptions;
}

export class EndpointConnectError extends RelayError {
  constructor(message: string) {
    super('E_ENDPOINT_CONNECT', message);
    this.name = 'EndpointConnectError';
  }
}

export function connectEndpoint(endpoint: Endpoint, timeoutMs: number): Promise<net.Socket> {
  const where = formatEndpoint(endpoint);
  return new Promise((resolve, reject) => {
    const socket = connectPooled({ host: endpoint.host, port: endpoint.port, allowHalfOpen: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new EndpointConnectError(
          `endpoint ${where} did not answer within ${timeoutMs % 1000 === 0 ? `${timeoutMs / 1000} s` : `${timeoutMs} ms`} (connect timeout)`,
        ),
      );
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

/** First sub-protocol the sender offered, which the listener must offer back (docs/protocol.md §4.3). */
function senderProtocol(headers: Record<string, string>): string | undefined {
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === 'sec-websocket-protocol') return v.split(',')[0]?.trim() || undefined;
  }
  return undefined;
}

/** Answers the rendezvous with an HTTP status; the relay answers 410 when it took the rejection. */
export async function rejectRendezvous(
  accept: AcceptCommand,
  status: number,
  description: string,
  transport?: TransportOptions,
): Promise<void> {
  const address = `${accept.address}&sb-hc-statusCode=${status}&sb-hc-statusDescription=${encodeURIComponent(description.slice(0, 200))}`;
  try {
    const opened = await openDataSocket(address, { transport: { ...transport, timeoutMs: 10_000 } });
    opened.socket.destroy(); // a relay that accepted a rejection: nothing to do with it
  } catch {
    // 410 is the expected answer; anything else leaves the sender to the relay's own timeout.
  }
}

function ignoreError(): void {}

export async function handleAccept(accept: AcceptCommand, options: AcceptOptions, callbacks: AcceptCallbacks): Promise<void> {
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
  tcp.pause(); // nothing is read until the tunnel is there to carry it
  tcp.on('error', ignoreError); // a reset while the rendezvous opens is seen by the pipe as a close
  const protocol = senderProtocol(accept.connectHeaders);
  let rendezvous;
  try {
    // The address is used exactly as given: re-serialising it could change what the relay signed.
    rendezvous = await openDataSocket(accept.address, { protocols: protocol ? [protocol] : [], transport: options.transport });
  } catch (err) {
    tcp.destroy();
    const e = err as RelayHandshakeError;
    callbacks.onFailed(e.status ? `rendezvous refused by the relay (${e.status} ${e.description})` : `rendezvous failed: ${e.message}`);
    return;
  }
  // Not awaited past this point: the tunnel's own objects carry it from here, so an open tunnel
  // holds no suspended function and no accept message (docs/performance.md, memory per idle tunnel).
  callbacks.onOpen(pipeTunnel(rendezvous.socket, rendezvous.head, tcp, callbacks), tcp);
  tcp.resume();
}
