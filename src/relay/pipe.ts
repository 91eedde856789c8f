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
 * Ending: WebSocket has no half-close, so a TCP FIN cannot be passed on as such. Two policies:
 *  - 'close' (the agent, endpoint side): when the endpoint shuts down its sending side, what it
 *    sent is flushed and the WebSocket is closed (1000), ending the tunnel both ways. A server
 *    that sends FIN is done, so nothing is lost in practice.
 *  - 'keep-open' (`hcm connect`, app side): when the local client shuts down its sending side
 *    (e.g. `nc -N`), the tunnel stays open so the server's answer still arrives; the endpoint is
 *    not told about the FIN, and the tunnel ends when the server closes or the client fully closes.
 * When the WebSocket closes, the TCP peer gets a FIN after every byte already received, and the
 * socket is destroyed shortly after.
 */

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

export type HalfClosePolicy = 'close' | 'keep-open';

export function pipeSocketAndWebSocket(ws: WebSocket, tcp: net.Socket, callbacks: PipeCallbacks, onHalfClose: HalfClosePolicy = 'close'): void {
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
    if (onHalfClose === 'keep-open') return;
    // Flush what it sent, then end the tunnel (WebSocket cannot half-close).
    if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'peer closed');
  });
  tcp.on('error', (err) => {
    closeReason = `TCP connection error: ${err.message}`;
    if (ws.readyState === WebSocket.OPEN) ws.close(1011, 'TCP connection error');
  });
  tcp.on('close', () => {
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
