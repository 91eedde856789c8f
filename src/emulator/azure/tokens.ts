import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import type { Tenant, User } from './directory.js';
import { base64url, randomHandle } from './ids.js';
import { type SigningKey, signJwt } from './jwt.js';

/**
 * What Entra ID's token endpoint hands out: the token response (docs/protocol.md §9) with a
 * signed ID token (v2.0, for the client), a signed access token (v1.0 like ARM's, for the
 * resource), `client_info` (MSAL builds the account's home id from it) and a refresh token. The
 * refresh token is opaque as Entra's is: its content is encrypted and authenticated with a key
 * derived from the signing key, so it survives a restart but not a changed password.
 */

export const OIDC_SCOPES = new Set(['openid', 'profile', 'offline_access', 'email']);
/** Microsoft Graph, which Entra ID issues the access token for when only OpenID scopes are asked. */
export const GRAPH_RESOURCE = '00000003-0000-0000-c000-000000000000';
const REFRESH_TOKEN_LIFETIME_SECONDS = 90 * 86400;

export interface RequestedScopes {
  /** The resource the access token is for (the scope without its last segment). */
  resource: string;
  /** What the response's `scope` says was granted. */
  granted: string[];
  openid: boolean;
  offlineAccess: boolean;
}

export type ScopeProblem = { error: 'invalid_scope' | 'invalid_resource'; code: number; message: string };

/**
 * Splits a scope parameter into the one resource it asks for and the OpenID scopes. Scopes for a
 * resource are `<resource>/.default` or `<resource>/<permission>`; only resources `known` accepts
 * exist in this directory.
 */
export function resolveScopes(
  scope: string | undefined,
  known: (resource: string) => boolean,
  tenantName: string,
): RequestedScopes | ScopeProblem {
  const all = (scope ?? '').split(/\s+/).filter(Boolean);
  if (all.length === 0) {
    return { error: 'invalid_scope', code: 900144, message: "The request body must contain the following parameter: 'scope'." };
  }
  const resourceScopes = all.filter((s) => !OIDC_SCOPES.has(s.toLowerCase()));
  const resources = new Set(resourceScopes.map((s) => (s.includes('/') ? s.slice(0, s.lastIndexOf('/')) : s)));
  if (resources.size > 1) {
    return {
      error: 'invalid_scope',
      code: 28000,
      message: `Provided value for the input parameter scope is not valid because it contains more than one resource. Scope ${resourceScopes.join(' ')} is not valid.`,
    };
  }
  const openid = all.some((s) => s.toLowerCase() === 'openid');
  const offlineAccess = all.some((s) => s.toLowerCase() === 'offline_access');
  const resource = [...resources][0];
  if (resource === undefined) {
    return { resource: GRAPH_RESOURCE, granted: ['openid', 'profile', 'email', 'User.Read'], openid, offlineAccess };
  }
  if (!known(resource)) {
    return {
      error: 'invalid_resource',
      code: 500011,
      message: `The resource principal named ${resource} was not found in the tenant named ${tenantName}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
    };
  }
  const permissions = new Set(resourceScopes.map((s) => s.slice(resource.length + 1)));
  const granted = [`${resource}/user_impersonation`];
  if (permissions.has('.default')) granted.push(`${resource}/.default`);
  return { resource, granted, openid, offlineAccess };
}

export interface Grant {
  user: User;
  /** The tenant the tokens are for. */
  tenant: Tenant;
  clientId: string;
  scopes: RequestedScopes;
  /** Origin of the issuer (the authority host the client used). */
  origin: string;
  nonce?: string | undefined;
  /** Unix seconds of the sign-in the grant goes back to. */
  authTime: number;
}

export interface RefreshTokenContent {
  oid: string;
  clientId: string;
  authTime: number;
  issuedAt: number;
}

export interface TokenResponse {
  token_type: 'Bearer';
  scope: string;
  expires_in: number;
  ext_expires_in: number;
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  client_info: string;
}

export class TokenIssuer {
  constructor(
    private readonly key: () => Promise<SigningKey>,
    private readonly accessTokenLifetimeSeconds: number,
  ) {}

  async issue(grant: Grant): Promise<TokenResponse> {
    const key = await this.key();
    const now = Math.floor(Date.now() / 1000);
    const { user, tenant, clientId, scopes, origin } = grant;
    const lifetime = this.accessTokenLifetimeSeconds;
    const access = signJwt(
      {
        aud: scopes.resource,
        iss: `${origin}/${tenant.id}/`,
        iat: now,
        nbf: now,
        exp: now + lifetime,
        acr: '1',
        amr: ['pwd'],
        appid: clientId,
        appidacr: '0',
        idtyp: 'user',
        name: user.displayName,
        oid: user.id,
        scp: scopes.granted
          .filter((s) => s.startsWith(`${scopes.resource}/`))
          .map((s) => s.slice(scopes.resource.length + 1))
          .filter((s) => s !== '.default')
          .join(' '),
        sub: pairwiseSubject(user.id, clientId),
        tid: tenant.id,
        unique_name: user.username,
        upn: user.username,
        uti: randomHandle(16),
        ver: '1.0',
      },
      key,
    );
    const response: TokenResponse = {
      token_type: 'Bearer',
      scope: scopes.granted.join(' '),
      expires_in: lifetime,
      ext_expires_in: lifetime,
      access_token: access,
      client_info: base64url(JSON.stringify({ uid: user.id, utid: user.tenantId })),
    };
    if (scopes.openid) {
      response.id_token = signJwt(
        {
          aud: clientId,
          iss: `${origin}/${tenant.id}/v2.0`,
          iat: now,
          nbf: now,
          exp: now + 3600,
          ...(grant.nonce ? { nonce: grant.nonce } : {}),
          name: user.displayName,
          oid: user.id,
          preferred_username: user.username,
          sub: pairwiseSubject(user.id, clientId),
          tid: tenant.id,
          uti: randomHandle(16),
          ver: '2.0',
        },
        key,
      );
    }
    if (scopes.offlineAccess) {
      response.refresh_token = this.sealRefreshToken(key, user, { oid: user.id, clientId, authTime: grant.authTime, issuedAt: now });
    }
    return response;
  }

  /** The content of a refresh token this emulator issued, if it is one, unexpired, and the user's password is unchanged. */
  async openRefreshToken(
    token: string,
    findUser: (oid: string) => User | undefined,
  ): Promise<{ content: RefreshTokenContent; user: User } | 'invalid' | 'expired' | 'revoked'> {
    const key = await this.key();
    const raw = /^1\.[A-Za-z0-9_-]+$/.test(token) ? Buffer.from(token.slice(2), 'base64url') : undefined;
    if (!raw || raw.length < 29) return 'invalid';
    let parsed: RefreshTokenContent & { pwd: string };
    try {
      const decipher = createDecipheriv('aes-256-gcm', refreshTokenKey(key), raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      parsed = JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')) as typeof parsed;
    } catch {
      return 'invalid';
    }
    if (parsed.issuedAt + REFRESH_TOKEN_LIFETIME_SECONDS < Date.now() / 1000) return 'expired';
    const user = findUser(parsed.oid);
    if (!user || parsed.pwd !== passwordStamp(key, user)) return 'revoked';
    return { content: parsed, user };
  }

  private sealRefreshToken(key: SigningKey, user: User, content: RefreshTokenContent): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', refreshTokenKey(key), iv);
    const body = Buffer.concat([cipher.update(JSON.stringify({ ...content, pwd: passwordStamp(key, user) }), 'utf8'), cipher.final()]);
    return `1.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
  }
}

function refreshTokenKey(key: SigningKey): Buffer {
  return createHash('sha256')
    .update('open-hcm emulator refresh tokens\n')
    .update(key.privateKey.export({ format: 'der', type: 'pkcs8' }))
    .digest();
}

/** Changes when the user's password does, so a password change revokes refresh tokens as in Entra ID. */
function passwordStamp(key: SigningKey, user: User): string {
  return createHmac('sha256', refreshTokenKey(key)).update(`${user.id}\n${user.password}`).digest('base64url').slice(0, 16);
}

/** `sub` is pairwise in Entra ID: the same user has a different subject for each application. */
function pairwiseSubject(oid: string, clientId: string): string {
  return createHash('sha256').update(`${oid}|${clientId.toLowerCase()}`).digest('base64url').slice(0, 43);
}
