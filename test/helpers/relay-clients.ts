import { cachedLookup } from '../../src/relay/transport.js';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import WebSocket from 'ws';
import { parseConnectionString, relayOrigin } from '../../src/relay/connection-string.js';
import { openSender } from '../../src/relay/sender.js';
import { tokenFor } from './emulator.js';

/** Plain `ws` clients playing the listener side of the protocol (docs/protocol.md §4), for tests. */

export interface AcceptCommand {
  address: string;
  id: string;
  connectHeaders: Record<string, string>;
  remoteEndpoint: { address: string; port: number };
}

export interface ControlChannel {
  ws: WebSocket;
  /** The next accept command announced on this channel. */
  next: () => Promise<AcceptCommand>;
}

/** Resolves on open; rejects with the HTTP status of a refused handshake, or the socket error. */
export function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      reject(Object.assign(new Error(`handshake refused: ${res.statusCode} ${res.statusMessage}`), { status: res.statusCode }));
    });
    ws.once('error', reject);
  });
}

/** Opens a listener control channel with a listen connection string, as the agent would. */
export async function openControl(listenCs: string, ca: string | undefined): Promise<ControlChannel> {
  const cs = parseConnectionString(listenCs);
  const url = `${relayOrigin(cs)}/$hc/${cs.entityPath}?sb-hc-action=listen&sb-hc-id=${randomUUID()}`;
  // cachedLookup answers <namespace>.localhost with loopback, as the agent does (the system resolver may not).
  const ws = new WebSocket(url, {
    ca,
    lookup: cachedLookup,
    perMessageDeflate: false,
    headers: { ServiceBusAuthorization: tokenFor(listenCs) },
  });
  ws.on('error', () => undefined); // failures surface through opened() and 'close'
  const queue: AcceptCommand[] = [];
  const waiting: Array<(a: AcceptCommand) => void> = [];
  ws.on('message', (data) => {
    const accept = (JSON.parse(String(data)) as { accept?: AcceptCommand }).accept;
    if (!accept) return;
    const w = waiting.shift();
    if (w) w(accept);
    else queue.push(accept);
  });
  await opened(ws);
  return { ws, next: () => (queue.length ? Promise.resolve(queue.shift()!) : new Promise((r) => waiting.push(r))) };
}

/** Opens a sender (src/relay/sender.ts) and accepts it on `control`: both ends of one relayed connection. */
export async function connectPair(
  control: ControlChannel,
  sendCs: string,
  ca: string | undefined,
): Promise<{ sender: WebSocket; rendezvous: WebSocket }> {
  const senderPromise = openSender(parseConnectionString(sendCs), { ca });
  // A refused sender never produces an accept: let its error win the race.
  const accept = await Promise.race([
    control.next(),
    senderPromise.then(() => Promise.reject(new Error('sender opened without an accept'))),
  ]);
  const rendezvous = new WebSocket(accept.address, { ca, lookup: cachedLookup, perMessageDeflate: false });
  rendezvous.on('error', () => undefined);
  await opened(rendezvous);
  return { sender: await senderPromise, rendezvous };
}

/**
 * Closes and waits for the close handshake. Once the service's Close has come back, it no longer
 * counts this listener as open, so the next connection cannot be announced to it.
 */
export async function closeAndWait(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return;
  const closed = once(ws, 'close');
  ws.close();
  await closed;
}
