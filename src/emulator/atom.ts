import { randomUUID } from 'node:crypto';
import type { EmulatorHybridConnection } from './config.js';

/** Atom documents of the Service Bus management GET (docs/protocol.md §6). */

const CONNECT_NS = 'http://schemas.microsoft.com/netservices/2010/10/servicebus/connect';

export function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

export function hybridConnectionEntry(hc: EmulatorHybridConnection, selfUrl: string, listenerCount: number): string {
  const metadata = hc.userMetadata !== undefined ? `<UserMetadata>${escapeXml(hc.userMetadata)}</UserMetadata>` : '';
  return (
    `<entry xmlns="http://www.w3.org/2005/Atom"><id>${escapeXml(selfUrl)}</id>` +
    `<title type="text">${escapeXml(hc.name)}</title>` +
    `<published>${hc.createdAt.toISOString()}</published><updated>${hc.updatedAt.toISOString()}</updated>` +
    `<author><name>${escapeXml(hc.namespace)}</name></author>` +
    `<link rel="self" href="${escapeXml(selfUrl)}"/>` +
    `<content type="application/xml"><HybridConnectionDescription xmlns="${CONNECT_NS}" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">` +
    `<CreatedAt>${hc.createdAt.toISOString()}</CreatedAt><UpdatedAt>${hc.updatedAt.toISOString()}</UpdatedAt>` +
    `<ListenerCount>${listenerCount}</ListenerCount>` +
    `<RequiresClientAuthorization>${hc.requiresClientAuthorization}</RequiresClientAuthorization>` +
    `${metadata}</HybridConnectionDescription></content></entry>`
  );
}

/** What Service Bus answers for a GET on an entity that does not exist: an empty feed, status 200. */
export function emptyFeed(): string {
  return (
    `<feed xmlns="http://www.w3.org/2005/Atom"><title type="text">Publicly Listed Services</title>` +
    `<subtitle type="text">This is the list of publicly-listed services currently available.</subtitle>` +
    `<id>uuid:${randomUUID()};id=1</id><updated>${new Date().toISOString()}</updated><generator>Service Bus 1.1</generator></feed>`
  );
}
