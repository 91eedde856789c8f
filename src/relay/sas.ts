import { createHmac, timingSafeEqual } from 'node:crypto';
import { RelayError } from './errors.js';

/**
 * Shared Access Signature tokens (docs/protocol.md §3).
 * The HMAC key is the UTF-8 bytes of the key string as shown in the portal, not its base64 decoding.
 */

export type Right = 'Listen' | 'Send' | 'Manage';

export const DEFAULT_TOKEN_TTL_SECONDS = 60 * 60;
export const MANAGEMENT_TOKEN_TTL_SECONDS = 10 * 60;

/** Audience as the .NET SDK builds it: http scheme, lower-cased host, no port, trailing slash. */
export function sasAudience(host: string, entityPath?: string): string {
  const path = entityPath ? `${entityPath.replace(/^\/+|\/+$/g, '')}/` : '';
  return `http://${host.toLowerCase()}/${path}`;
}

export interface CreateTokenOptions {
  /** Resource URI (not yet encoded), usually from sasAudience(). */
  audience: string;
  keyName: string;
  key: string;
  /** Expiry as unix seconds; defaults to now + ttlSeconds. */
  expiresAt?: number;
  ttlSeconds?: number;
  now?: () => number;
}

export function createSasToken(options: CreateTokenOptions): string {
  const now = options.now ?? Date.now;
  const se = options.expiresAt ?? Math.floor(now() / 1000) + (options.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS);
  // encodeURIComponent already produces upper-case hex, matching the .NET SDK.
  const sr = encodeURIComponent(options.audience);
  const sig = signSas(sr, se, options.key);
  return `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${se}&skn=${encodeURIComponent(options.keyName)}`;
}

/** HMAC-SHA256 over `<sr as it appears in the token>\n<se>`, base64. */
export function signSas(encodedResource: string, expiry: number, key: string): string {
  return createHmac('sha256', Buffer.from(key, 'utf8')).update(`${encodedResource}\n${expiry}`, 'utf8').digest('base64');
}

export interface ParsedSasToken {
  /** sr exactly as received (still URL-encoded): this is what was signed. */
  encodedResource: string;
  resource: string;
  signature: string;
  expiresAt: number;
  keyName: string;
}

export function parseSasToken(token: string): ParsedSasToken {
  const prefix = 'SharedAccessSignature ';
  if (typeof token !== 'string' || !token.startsWith(prefix)) {
    throw new RelayError('E_SAS', 'token does not start with "SharedAccessSignature "');
  }
  const fields = new Map<string, string>();
  for (const part of token.slice(prefix.length).trim().split('&')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new RelayError('E_SAS', 'token has a field without "="');
    fields.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  const sr = fields.get('sr');
  const sig = fields.get('sig');
  const se = fields.get('se');
  const skn = fields.get('skn');
  if (!sr || !sig || !se || !skn) {
    const missing = (['sr', 'sig', 'se', 'skn'] as const).filter((f) => !fields.get(f));
    throw new RelayError('E_SAS', `token lacks ${missing.join(', ')}`);
  }
  if (!/^\d+$/.test(se)) throw new RelayError('E_SAS', 'token expiry (se) is not a number');
  let resource: string;
  let signature: string;
  let keyName: string;
  try {
    resource = decodeURIComponent(sr);
    signature = decodeURIComponent(sig);
    keyName = decodeURIComponent(skn);
  } catch {
    throw new RelayError('E_SAS', 'token has invalid percent-encoding');
  }
  return { encodedResource: sr, resource, signature, expiresAt: Number(se), keyName };
}

/** Seconds until the token expires (negative when expired); undefined when it cannot be parsed. */
export function tokenSecondsLeft(token: string, nowMs = Date.now()): number | undefined {
  try {
    return parseSasToken(token).expiresAt - Math.floor(nowMs / 1000);
  } catch {
    return undefined;
  }
}

export interface SasRule {
  name: string;
  rights: readonly Right[];
  /** Primary and secondary keys; either one signs valid tokens (that is how rotation works). */
  keys: readonly string[];
}

export type SasFailureReason = 'malformed' | 'expired' | 'unknown-key-name' | 'bad-signature' | 'insufficient-rights' | 'wrong-audience';

export type SasVerification = { ok: true; keyName: string; expiresAt: number } | { ok: false; reason: SasFailureReason; message: string };

export interface VerifyOptions {
  token: string;
  /** Namespace host the request reached (no port). */
  host: string;
  /** Entity the request is for; '' for the namespace itself. */
  entityPath: string;
  requiredRight: Right;
  /** Rules visible to this entity: its own first, then the namespace's. */
  rules: readonly SasRule[];
  nowSeconds?: number;
  /** Clock-skew allowance after `se`. */
  graceSeconds?: number;
}

export function verifySasToken(options: VerifyOptions): SasVerification {
  let parsed: ParsedSasToken;
  try {
    parsed = parseSasToken(options.token);
  } catch (err) {
    return { ok: false, reason: 'malformed', message: `malformed token: ${(err as Error).message}` };
  }
  const rule = options.rules.find((r) => r.name === parsed.keyName);
  if (!rule) {
    return { ok: false, reason: 'unknown-key-name', message: `no authorization rule named "${parsed.keyName}"` };
  }
  const given = Buffer.from(parsed.signature, 'base64');
  const matches = rule.keys.some((key) => {
    const expected = Buffer.from(signSas(parsed.encodedResource, parsed.expiresAt, key), 'base64');
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
  if (!matches) return { ok: false, reason: 'bad-signature', message: `signature does not match rule "${rule.name}"` };
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (parsed.expiresAt + (options.graceSeconds ?? 0) < now) {
    return { ok: false, reason: 'expired', message: `token expired at ${new Date(parsed.expiresAt * 1000).toISOString()}` };
  }
  if (!audienceCovers(parsed.resource, options.host, options.entityPath)) {
    return { ok: false, reason: 'wrong-audience', message: `token audience "${parsed.resource}" does not cover this entity` };
  }
  if (!rule.rights.includes(options.requiredRight) && !rule.rights.includes('Manage')) {
    return {
      ok: false,
      reason: 'insufficient-rights',
      message: `rule "${rule.name}" lacks the ${options.requiredRight} right`,
    };
  }
  return { ok: true, keyName: rule.name, expiresAt: parsed.expiresAt };
}

/**
 * A token is valid for its resource and everything under it. Scheme, host case, port and a trailing
 * slash are ignored, because SDKs disagree on them.
 */
export function audienceCovers(resource: string, host: string, entityPath: string): boolean {
  const withoutScheme = resource.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const slash = withoutScheme.indexOf('/');
  const authority = slash < 0 ? withoutScheme : withoutScheme.slice(0, slash);
  const path = slash < 0 ? '' : withoutScheme.slice(slash + 1);
  const tokenHost = authority
    .replace(/:\d+$/, '')
    .replace(/^\[|\]$/g, '')
    .toLowerCase();
  if (tokenHost !== host.toLowerCase().replace(/^\[|\]$/g, '')) return false;
  const tokenPath = path
    .split(/[?#]/)[0]!
    .replace(/^\/+|\/+$/g, '')
    .toLowerCase();
  const entity = entityPath.replace(/^\/+|\/+$/g, '').toLowerCase();
  return tokenPath === '' || entity === tokenPath || entity.startsWith(`${tokenPath}/`);
}
