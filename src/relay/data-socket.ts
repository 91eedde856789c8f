import { createHash, randomFillSync } from 'node:crypto';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { noteRelayDate } from './clock-skew.js';
import { RelayError, type RelayHandshakeError } from './errors.js';
import { networkError } from './runtime-info.js';
import { readHandshakeFailure } from './sender.js';
import { rawUpgrade } from './raw-upgrade.js';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, type TransportOptions, isSecureUrl, tlsOptions } from './transport.js';

/**
 * The WebSocket handshake of a tunnel socket (a sender connection or a rendezvous), after which
 * the tunnel moves bytes on the raw socket (data-pipe.ts) without a general-purpose WebSocket
 * object per connection.
 */

export interface DataSocket {
  socket: Socket;
  /** Bytes that arrived with the 101 response (the start of the first frames). */
  head: Buffer;
  protocol: string | undefined;
}

export interface DataSocketOptions {
  headers?: Record<string, string>;
  protocols?: string[];
  transport?: TransportOptions;
}

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

// Sec-WebSocket-Key nonces come from a block of random bytes filled 256 keys at a time: one call
// into the CSPRNG per key showed in connection-setup profiles.
const KEY_BYTES = 16;
const nonces = Buffer.alloc(KEY_BYTES * 256);
let nonceOffset = nonces.length;

function handshakeKey(): string {
  if (nonceOffset === nonces.length) {
    randomFillSync(nonces);
    nonceOffset = 0;
  }
  nonceOffset += KEY_BYTES;
  return nonces.toString('base64', nonceOffset - KEY_BYTES, nonceOffset);
}

/**
 * Opens `url` (used exactly as given: re-serialising could change what the relay signed).
 * Rejects with RelayHandshakeError carrying the relay's status and text when it refuses.
 */
export function openDataSocket(url: string, options: DataSocketOptions = {}): Promise<DataSocket> {
  const secure = isSecureUrl(url);
  const key = handshakeKey();
  const headers: Record<string, string> = {
    ...options.headers,
    Connection: 'Upgrade',
    Upgrade: 'websocket',
    'Sec-WebSocket-Version': '13',
    'Sec-WebSocket-Key': key,
  };
  if (options.protocols?.length) headers['Sec-WebSocket-Protocol'] = options.protocols.join(', ');
  const connect = tlsOptions(options.transport, url);
  const timeout = options.transport?.timeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  const verify = (responseHeaders: Record<string, string | string[] | undefined>): string | undefined => {
    const expected = createHash('sha1')
      .update(key + WS_GUID)
      .digest('base64');
    const protocol = responseHeaders['sec-websocket-protocol'];
    if (responseHeaders['sec-websocket-accept'] !== expected) return 'invalid Sec-WebSocket-Accept';
    if (protocol && !options.protocols?.includes(String(protocol))) return `unexpected sub-protocol ${String(protocol)}`;
    if (responseHeaders['sec-websocket-extensions']) return 'the relay negotiated an extension that was not offered';
    return undefined;
  };
  if (!connect.agent) {
    // Without a proxy: the hand-written handshake (raw-upgrade.ts), much cheaper per tunnel.
    return rawUpgrade(url, headers, connect, timeout).then(({ socket, head, headers: got }) => {
      const problem = verify(got);
      if (problem) {
        socket.destroy();
        throw new RelayError('E_PROTOCOL', `WebSocket handshake with the relay failed: ${problem}`);
      }
      socket.setNoDelay(true);
      return { socket, head, protocol: got['sec-websocket-protocol'] };
    });
  }
  // ws:// and wss:// are http:// and https:// for the upgrade request.
  const httpUrl = url.replace(/^ws/i, 'http');
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      reject(err);
    };
    // Through a proxy: Node's HTTP client, which the proxy agent plugs into.
    const req = (secure ? https : http).request(httpUrl, {
      headers,
      agent: connect.agent,
      createConnection: connect.createConnection as never,
      secureContext: connect.secureContext,
      lookup: connect.lookup,
      timeout,
    } as https.RequestOptions);
    req.on('upgrade', (res: IncomingMessage, socket: Socket, head: Buffer) => {
      noteRelayDate(req.host, res.headers.date);
      const protocol = res.headers['sec-websocket-protocol'];
      const problem = verify(res.headers);
      if (problem) {
        socket.destroy();
        fail(new RelayError('E_PROTOCOL', `WebSocket handshake with the relay failed: ${problem}`));
        return;
      }
      settled = true;
      socket.pause(); // the caller's reader resumes it
      socket.setTimeout(0);
      socket.setNoDelay(true);
      resolve({ socket, head, protocol: typeof protocol === 'string' ? protocol : undefined });
    });
    req.on('response', (res: IncomingMessage) => {
      noteRelayDate(req.host, res.headers.date);
      void readHandshakeFailure(res).then((err: RelayHandshakeError) => fail(err));
    });
    req.on('timeout', () => req.destroy(new RelayError('E_TIMEOUT', `relay handshake timed out after ${Math.round(timeout / 1000)} s`)));
    req.on('error', (err) => fail(err instanceof RelayError ? err : networkError(url, err)));
    req.end();
  });
}
