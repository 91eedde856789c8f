import { randomFillSync } from 'node:crypto';
import type net from 'node:net';
import WebSocket from 'ws';

/**
 * Moves bytes between a TCP socket and a WebSocket, both ways, used by the agent (endpoint side)
 * and by `hcm connect` (app side). Each TCP chunk becomes one binary message; each message's
 * payload is written to TCP as is.
 *
 * Backpressure: a slow TCP peer pauses reading from the WebSocket; a slow WebSocket pauses
 * reading from TCP. Memory per connection stays bounded by the high-water marks below.
 *
 * Ending: WebSocket has no half-close, so a TCP FIN cannot be passed on as such. When the TCP
 * peer shuts down its sending side, what it sent is flushed and the WebSocket is closed (1000),
 * which ends the tunnel both ways. A FIN cannot be told apart from a full close, and keeping
 * tunnels open after one would leak them for every client that simply closed (Redis servers,
 * for one, never close idle connections). The cost: a client that half-closes and then waits
 * for the answer (`nc -N`) does not get it.
 * When the WebSocket closes, the TCP peer gets a FIN after every byte already received, and the
 * socket is destroyed shortly after.
 */

/**
 * Masking key for data frames. RFC 6455 masking protects cleartext intermediaries from
 * attacker-chosen bytes; our data sockets only run over TLS (wss) or on loopback (emulator), where
 * no intermediary reads frames, so an all-zero key (the mask bit is still set) saves a copy and an
 * XOR pass per byte. HCM_RANDOM_MASK=1 restores random keys.
 */
const RANDOM_MASK = process.env.HCM_RANDOM_MASK === '1';
export function dataMask(mask: Buffer): void {
  if (RANDOM_MASK) randomFillSync(mask);
  else mask.fill(0);
}

/** Bytes queued towards the WebSocket before reading from TCP pauses. */
const WS_HIGH_WATER = 1024 * 1024;
const WS_LOW_WATER = 256 * 1024;
const TCP_LINGER_MS = 5_000;

export interface PipeStats {
  bytesToSocket: number;
  bytesFromSocket: number;
}

export interface PipeCallbacks {
  onBytes(toSocket: number, fromSocket: number): void;
  onClosed(stats: PipeStats, reason: string): void;
}

export function pipeSocketAndWebSocket(ws: WebSocket, tcp: net.Socket, callbacks: PipeCallbacks): void {
  const stats: PipeStats = { bytesToSocket: 0, bytesFromSocket: 0 };
  let pendingToWs = 0;
  let tcpPausedForWs = false;
  let wsPausedForTcp = false;
  let finished = false;
  let closeReason = 'closed';

  const finish = (reason: string) => {
    if (finished) return;
    finished = true;
    callbacks.onClosed(stats, reason);
  };

  // WebSocket -> TCP
  ws.on('message', (data: Buffer | Buffer[] | ArrayBuffer) => {
    if (tcp.destroyed) return; // the TCP side is gone: nothing more can be delivered
    const chunk = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    stats.bytesToSocket += chunk.length;
    callbacks.onBytes(chunk.length, 0);
    if (!tcp.write(chunk) && !wsPausedForTcp) {
      wsPausedForTcp = true;
      ws.pause();
    }
  });
  tcp.on('drain', () => {
    if (wsPausedForTcp) {
      wsPausedForTcp = false;
      ws.resume();
    }
  });

  // TCP -> WebSocket
  const sent = (n: number) => () => {
    pendingToWs -= n;
    if (tcpPausedForWs && pendingToWs <= WS_LOW_WATER) {
      tcpPausedForWs = false;
      tcp.resume();
    }
  };
  tcp.on('data', (chunk: Buffer) => {
    if (ws.readyState !== WebSocket.OPEN) return;
    stats.bytesFromSocket += chunk.length;
    callbacks.onBytes(0, chunk.length);
    pendingToWs += chunk.length;
    ws.send(chunk, { binary: true }, sent(chunk.length));
    if (pendingToWs > WS_HIGH_WATER && !tcpPausedForWs) {
      tcpPausedForWs = true;
      tcp.pause();
    }
  });

  tcp.on('end', () => {
    closeReason = 'TCP peer closed the connection';
    if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'peer closed');
  });
  tcp.on('error', (err) => {
    closeReason = `TCP connection error: ${err.message}`;
    if (ws.readyState === WebSocket.OPEN) ws.close(1011, 'TCP connection error');
  });
  tcp.on('close', () => {
    // Reading may be paused for backpressure; resume so the peer's Close frame is seen.
    if (wsPausedForTcp) {
      wsPausedForTcp = false;
      ws.resume();
    }
    if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'peer closed');
    if (ws.readyState === WebSocket.CLOSED) finish(closeReason);
  });

  ws.on('close', (code) => {
    if (closeReason === 'closed') closeReason = code === 1000 || code === 1005 ? 'WebSocket peer closed the connection' : `WebSocket closed with ${code}`;
    if (wsPausedForTcp) ws.resume();
    // Everything received is already queued on the socket; FIN follows it.
    if (!tcp.destroyed) {
      tcp.end();
      setTimeout(() => tcp.destroy(), TCP_LINGER_MS).unref();
    }
    if (tcp.destroyed) finish(closeReason);
    else tcp.once('close', () => finish(closeReason));
  });
  ws.on('error', (err) => {
    closeReason = `WebSocket error: ${err.message}`;
    tcp.destroy();
  });
}
