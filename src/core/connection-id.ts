import { HcmError, type HcmErrorCode } from '../shared/errors.js';

/**
 * Naming a connection on the command line, apart from the service so that a command talking to a
 * running agent does not load the whole service (and the Azure SDKs behind it) to resolve a name.
 */

/** What the service refuses, with the contract's error codes (src/shared/errors.ts). */
export class ServiceError extends HcmError {
  constructor(code: HcmErrorCode, message: string) {
    super(code, message);
    this.name = 'ServiceError';
  }
}

/** A name or `namespace/name` (any case) to the one connection id it means. */
export function resolveConnectionId(list: ReadonlyArray<{ id: string; name: string }>, nameOrId: string): string {
  const exact = list.find((c) => c.id === nameOrId);
  if (exact) return exact.id;
  const wanted = nameOrId.toLowerCase();
  const matches = list.filter((c) => c.name.toLowerCase() === wanted || c.id.toLowerCase() === wanted);
  if (matches.length === 1) return matches[0]!.id;
  if (matches.length > 1) {
    throw new ServiceError('E_AMBIGUOUS', `"${nameOrId}" matches ${matches.map((c) => c.id).join(', ')}; use namespace/name`);
  }
  const have = list.length ? ` (have: ${list.map((c) => c.id).join(', ')})` : ' (none added yet)';
  throw new ServiceError('E_NO_CONNECTION', `no connection named "${nameOrId}"${have}`);
}
