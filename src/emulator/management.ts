import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Right } from '../relay/sas.js';
import { emptyFeed, hybridConnectionEntry } from './atom.js';
import { httpToken } from './auth.js';
import { locateHybridConnection } from './config.js';
import type { EmulatorContext } from './context.js';
import { sendText } from './handshake.js';
import type { Listeners } from './listeners.js';

/**
 * The management GET (docs/protocol.md §6): the runtime information the agent asks for to learn
 * a Hybrid Connection's endpoint, as an Atom entry (atom.ts). Any of Listen, Send or Manage is
 * enough; a path that names no Hybrid Connection gets an empty feed, as Azure answers.
 */
export function serveManagementGet(
  context: EmulatorContext,
  listeners: Listeners,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): void {
  const located = locateHybridConnection(context.config, url.pathname.slice(1), req.headers.host);
  const token = httpToken(req);
  if (!located || located.suffix) {
    res.writeHead(200, { 'Content-Type': 'application/atom+xml;type=feed;charset=utf-8' });
    res.end(emptyFeed());
    return;
  }
  const hc = located.hc;
  const denied = ['Listen', 'Send', 'Manage']
    .map((right) => context.auth.authorize(req, token, hc, right as Right))
    .reduce((acc, d) => (acc === undefined || d === undefined ? undefined : acc));
  if (denied) return sendText(res, denied[0], denied[1]);
  const self = `https://${req.headers.host ?? 'localhost'}/${encodeURI(hc.name)}?api-version=2016-07`;
  res.writeHead(200, { 'Content-Type': 'application/atom+xml;type=entry;charset=utf-8' });
  res.end(hybridConnectionEntry(hc, self, listeners.count(hc.name.toLowerCase())));
}
