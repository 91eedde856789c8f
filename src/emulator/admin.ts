import type { IncomingMessage, ServerResponse } from 'node:http';
import { httpToken } from './auth.js';
import { findHybridConnection } from './config.js';
import type { EmulatorContext } from './context.js';
import { sendText } from './handshake.js';
import type { Listeners } from './listeners.js';
import type { Rendezvous } from './rendezvous.js';

/**
 * Test hooks, authorized by a Manage token for the Hybrid Connection's namespace:
 *   GET  /$emulator/hybridConnections/{name}                    → {listeners, pendingRendezvous, activeRelays}
 *   POST /$emulator/hybridConnections/{name}/listeners/close?code=1011&reason=…
 *   POST /$emulator/hybridConnections/{name}/listeners/drop     (TCP reset, no Close frame)
 *   POST /$emulator/hybridConnections/{name}/listeners/freeze   (read and discard everything: no pongs, no renewals)
 *   POST /$emulator/hybridConnections/{name}/listeners/send     (body sent as one text frame to each listener)
 */
export function serveAdmin(
  context: EmulatorContext,
  listeners: Listeners,
  rendezvous: Rendezvous,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): void {
  const match = /^\/\$emulator\/hybridConnections\/(.+?)(?:\/listeners\/(close|drop|freeze|send))?$/.exec(url.pathname);
  const hc = match ? findHybridConnection(context.config, decodeURIComponent(match[1]!)) : undefined;
  if (!match || !hc) return sendText(res, 404, 'No such Hybrid Connection');
  const denied = context.auth.authorize(req, httpToken(req), hc, 'Manage');
  if (denied) return sendText(res, denied[0], denied[1]);
  const key = hc.name.toLowerCase();
  const operation = match[2];
  if (!operation) {
    if (req.method !== 'GET') return sendText(res, 405, 'Use GET');
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(
      JSON.stringify({
        listeners: listeners.count(key),
        pendingRendezvous: rendezvous.pendingFor(key),
        activeRelays: rendezvous.activeRelays,
      }),
    );
    return;
  }
  if (req.method !== 'POST') return sendText(res, 405, 'Use POST');
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const affected = listeners.of(key);
    switch (operation) {
      case 'close': {
        const code = Number(url.searchParams.get('code') ?? 1011);
        listeners.close(key, code, url.searchParams.get('reason') ?? 'Closed by the emulator');
        break;
      }
      case 'drop':
        for (const l of affected) l.socket.destroy();
        break;
      case 'freeze':
        for (const l of affected) listeners.freeze(l);
        break;
      case 'send':
        for (const l of affected) l.ws.send(Buffer.concat(chunks).toString('utf8'));
        break;
    }
    sendText(res, 200, `${operation}: ${affected.length} listener(s)`);
  });
}
