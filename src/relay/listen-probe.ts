import { randomUUID } from 'node:crypto';
import { type ConnectionString, relayOrigin } from './connection-string.js';
import { RelayError } from './errors.js';
import { openRelayWebSocket } from './sender.js';
import { tokenProviderFor } from './token-provider.js';
import type { TransportOptions } from './transport.js';

/**
 * Whether a connection string's rule may listen, asked the only way the relay tells: a listen
 * handshake, closed as soon as it opens (docs/protocol.md §4.1). While it is open the relay may
 * hand it a connection, so callers probe only where no other listener is online (nothing that
 * would otherwise work can be lost then). Resolves when listening is allowed; otherwise rejects
 * with the relay's answer (RelayHandshakeError: 401 key refused, 403 rule without Listen, 404).
 */
export async function probeListen(cs: ConnectionString, transport: TransportOptions = {}): Promise<void> {
  if (!cs.entityPath) throw new RelayError('E_CONNECTION_STRING', 'connection string has no EntityPath');
  const token = tokenProviderFor(cs).getToken(cs.entityPath);
  const url = `${relayOrigin(cs)}/$hc/${encodeURI(cs.entityPath)}?sb-hc-action=listen&sb-hc-id=${randomUUID()}`;
  const ws = await openRelayWebSocket(url, { ServiceBusAuthorization: token }, transport);
  ws.on('error', () => undefined);
  ws.close(1000, 'rights check');
}
