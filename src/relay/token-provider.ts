import type { ConnectionString } from './connection-string.js';
import { RelayError } from './errors.js';
import { DEFAULT_TOKEN_TTL_SECONDS, createSasToken, parseSasToken, sasAudience } from './sas.js';

/** Produces SAS tokens for one connection string. */
export interface TokenProvider {
  /** A token for the entity (or the namespace when entityPath is empty). */
  getToken(entityPath?: string, ttlSeconds?: number): string;
  /** False for a fixed SharedAccessSignature: it cannot be renewed and dies at its expiry. */
  readonly canRenew: boolean;
  readonly keyName: string | undefined;
}

export function tokenProviderFor(cs: ConnectionString, defaultTtlSeconds = DEFAULT_TOKEN_TTL_SECONDS): TokenProvider {
  if (cs.sharedAccessKeyName && cs.sharedAccessKey) {
    const keyName = cs.sharedAccessKeyName;
    const key = cs.sharedAccessKey;
    return {
      canRenew: true,
      keyName,
      getToken(entityPath = cs.entityPath, ttlSeconds = defaultTtlSeconds) {
        return createSasToken({ audience: sasAudience(cs.host, entityPath), keyName, key, ttlSeconds });
      },
    };
  }
  if (cs.sharedAccessSignature) {
    const token = cs.sharedAccessSignature;
    return { canRenew: false, keyName: parseSasToken(token).keyName, getToken: () => token };
  }
  throw new RelayError(
    'E_CONNECTION_STRING',
    cs.authentication
      ? `Authentication=${cs.authentication} is not supported by this agent; use a connection string with SharedAccessKeyName and SharedAccessKey`
      : 'connection string has neither SharedAccessKeyName/SharedAccessKey nor SharedAccessSignature',
  );
}
