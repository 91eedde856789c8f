import { type KeyObject, createHash, createPrivateKey, createPublicKey, sign, verify, X509Certificate } from 'node:crypto';
import { base64url } from './ids.js';

/**
 * JSON Web Tokens signed with RS256 (RSASSA-PKCS1-v1_5 with SHA-256), as Entra ID signs its
 * tokens, and the JSON Web Key Set that publishes the public key. The key comes with an X.509
 * certificate, so the key set carries `x5c` and `x5t` like Entra's; `kid` is the certificate's
 * SHA-1 thumbprint (base64url), as Entra's is.
 */

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** DER of the certificate holding the public key. */
  certificate: Buffer;
}

export function signingKeyFromPem(privateKeyPem: string, certificatePem: string): SigningKey {
  const cert = new X509Certificate(certificatePem);
  const privateKey = createPrivateKey(privateKeyPem);
  const publicKey = createPublicKey(privateKey);
  if (!cert.checkPrivateKey(privateKey)) throw new Error('the token signing certificate does not match its key');
  const der = cert.raw;
  return { kid: base64url(createHash('sha1').update(der).digest()), privateKey, publicKey, certificate: der };
}

export function signJwt(claims: Record<string, unknown>, key: SigningKey): string {
  const header = { typ: 'JWT', alg: 'RS256', x5t: key.kid, kid: key.kid };
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  return `${input}.${base64url(sign('sha256', Buffer.from(input), key.privateKey))}`;
}

export type JwtCheck =
  | { ok: true; header: Record<string, unknown>; claims: Record<string, unknown> }
  | { ok: false; reason: 'malformed' | 'algorithm' | 'unknown-key' | 'signature' };

/** Checks the form, the algorithm, the key id and the signature; the claims are the caller's to check. */
export function verifyJwt(token: string, keys: readonly SigningKey[]): JwtCheck {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) return { ok: false, reason: 'malformed' };
  let header: Record<string, unknown>;
  let claims: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (typeof header !== 'object' || header === null || typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    return { ok: false, reason: 'malformed' };
  }
  if (header.alg !== 'RS256') return { ok: false, reason: 'algorithm' };
  const key = keys.find((k) => k.kid === header.kid);
  if (!key) return { ok: false, reason: 'unknown-key' };
  const valid = verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), key.publicKey, Buffer.from(parts[2]!, 'base64url'));
  return valid ? { ok: true, header, claims } : { ok: false, reason: 'signature' };
}

/** The key set at jwks_uri: one RSA signing key with its certificate. */
export function jwks(keys: readonly SigningKey[]): { keys: Array<Record<string, unknown>> } {
  return {
    keys: keys.map((key) => {
      const jwk = key.publicKey.export({ format: 'jwk' });
      return { kty: 'RSA', use: 'sig', kid: key.kid, x5t: key.kid, n: jwk.n, e: jwk.e, x5c: [key.certificate.toString('base64')] };
    }),
  };
}
