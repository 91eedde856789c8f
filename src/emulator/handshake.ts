import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Raw HTTP/1.1 WebSocket handshake pieces, so the emulator can hold, answer or refuse upgrades
 * itself, and its plain-HTTP text answers.
 */

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** An HTTP Date header's value (IMF-fixdate) for `ms` since the epoch. */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

/** The clock each upgrade socket's raw answers are dated by (the emulator's: --clock-offset shifts it). */
const socketClocks = new WeakMap<Socket, () => number>();

/** Answers written on `socket` by hand (101, errors) carry a Date header from `now`. */
export function dateAnswersBy(socket: Socket, now: () => number): void {
  socketClocks.set(socket, now);
}

function dateLine(socket: Socket): string {
  return `Date: ${httpDate((socketClocks.get(socket) ?? Date.now)())}`;
}

export function acceptKey(secWebSocketKey: string): string {
  return createHash('sha1')
    .update(secWebSocketKey + WS_GUID)
    .digest('base64');
}

/** Why a request is not a usable WebSocket upgrade, or undefined when it is. */
export function upgradeProblem(req: IncomingMessage): string | undefined {
  if (req.method !== 'GET') return 'WebSocket upgrades must use GET';
  if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') return 'Upgrade header must be websocket';
  if (req.headers['sec-websocket-version'] !== '13') return 'Sec-WebSocket-Version must be 13';
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string' || !/^[A-Za-z0-9+/]{22}==$/.test(key)) return 'Sec-WebSocket-Key is missing or invalid';
  return undefined;
}

export function offeredProtocols(req: IncomingMessage): string[] {
  const header = req.headers['sec-websocket-protocol'];
  if (!header) return [];
  return header
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
}

export function writeSwitchingProtocols(socket: Socket, req: IncomingMessage, protocol: string | undefined): void {
  const lines = [
    'HTTP/1.1 101 Switching Protocols',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Accept: ${acceptKey(req.headers['sec-websocket-key'] as string)}`,
    dateLine(socket),
  ];
  if (protocol) lines.push(`Sec-WebSocket-Protocol: ${protocol}`);
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
}

/** Reason phrases carry the description, as Azure's do; keep them to one printable line. */
export function sanitizeReason(text: string): string {
  return (
    text
      .replace(/[^\x20-\x7e]/g, ' ')
      .slice(0, 512)
      .trim() || 'Error'
  );
}

export function writeHttpError(socket: Socket, status: number, description: string): void {
  if (socket.destroyed) return;
  const reason = sanitizeReason(description);
  const body = `${reason}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\n${dateLine(socket)}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Azure ends its error descriptions with one; so does the emulator. */
export function trackingId(): string {
  return `TrackingId:${randomUUID()}`;
}

/** An answer to a plain HTTP request (not an upgrade); the status text carries the message too. */
export function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, text.replace(/[^\x20-\x7e]/g, ' ').slice(0, 200), { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(`${text}\n`);
}
