import { createPublicKey, randomUUID, verify } from 'node:crypto';
import { type AuthenticationResult, PublicClientApplication } from '@azure/msal-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpsNetworkModule } from '../../src/core/azure/https-client.js';
import { type EmulatorAzure, type EmulatorProcess, KEYS, startEmulator } from '../helpers/emulator.js';
import { type Answer, fetchPage, formOf, unescapeHtml } from '../helpers/entra-pages.js';

/**
 * The emulator's Entra ID, driven by the real @azure/msal-node as a public client: username and
 * password, device code (the device pages walked over HTTP as a person would), authorization code
 * with PKCE (MSAL's own loopback server receives the form_post answer), refresh, and the error
 * bodies Entra ID gives. MSAL trusts the emulator's CA through its network module (the app's own
 * HttpsNetworkModule, src/core/azure/https-client.ts), never by turning verification off.
 */

const CONTOSO = '6f1b3c0e-8a51-4b8e-9d2c-3b6f1d0a7c11';
const FABRIKAM = '0d7e5a44-2b9c-4f11-a2e8-5c3d9e6f8a22';
const OTHER_CLIENT = '5e1f0c2a-7b3d-4e5f-8a9b-0c1d2e3f4a5b';

const config = {
  tenants: [
    { id: CONTOSO, name: 'Contoso', domain: 'contoso.onmicrosoft.com' },
    { id: FABRIKAM, name: 'Fabrikam', domain: 'fabrikam.onmicrosoft.com' },
  ],
  users: [
    { username: 'alice@contoso.onmicrosoft.com', password: 'Alice-Pa55word', displayName: 'Alice Admin' },
    // Homed in Fabrikam, a guest in Contoso through the (default) subscription there.
    { username: 'bob@fabrikam.onmicrosoft.com', password: 'Bob-Pa55word', displayName: 'Bob Builder' },
    // No password: the emulator makes one and prints it.
    { username: 'carol@contoso.onmicrosoft.com', displayName: 'Carol', subscriptions: [] },
  ],
  namespaces: [
    {
      name: 'contoso-relay',
      region: 'westeurope',
      rules: [{ name: 'RootManageSharedAccessKey', rights: ['Listen', 'Send', 'Manage'], primaryKey: KEYS.root }],
      hybridConnections: [{ name: 'orders-db', endpoint: 'db.internal:5432' }],
    },
  ],
};

let emu: EmulatorProcess;
let azure: EmulatorAzure;
let origin: string;
let scope: string;
let caPem: string;

beforeAll(async () => {
  emu = await startEmulator({ config, args: ['--device-code-interval', '1'] });
  azure = emu.azure!;
  origin = azure.arm.replace(/\/$/, '');
  scope = `${origin}/.default`;
  caPem = emu.caPem!;
});
afterAll(async () => {
  await emu?.stop();
});

function app(options: { clientId?: string; authority?: string } = {}): PublicClientApplication {
  return new PublicClientApplication({
    auth: {
      clientId: options.clientId ?? azure.clientId,
      authority: options.authority ?? azure.authority,
      knownAuthorities: [azure.knownAuthority],
    },
    system: { networkClient: new HttpsNetworkModule({ ca: caPem }) },
  });
}

const password = (username: string) => azure.users.find((u) => u.username === username)!.password;

function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** A page as a browser would fetch it, trusting the emulator's CA. */
const browse = (url: string, form?: Record<string, string>, headers?: Record<string, string>) => fetchPage(url, caPem, form, headers);

/** What every Entra ID page must be: no inline script or style allowed, not framable. */
function expectStrictPage(page: Answer): void {
  const csp = String(page.headers['content-security-policy']);
  expect(csp).toContain("default-src 'none'");
  expect(csp).toContain("script-src 'self'");
  expect(csp).not.toContain('unsafe-inline');
  expect(csp).toContain("frame-ancestors 'none'");
  expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  expect(page.body).not.toMatch(/\son[a-z]+=/i);
  expect(page.body).not.toMatch(/style="/);
}

/** Signs in on the sign-in page in front of us, accepts or declines consent when asked, and returns the page after. */
async function signIn(page: Answer, username: string, pass: string, consent: 'accept' | 'decline' = 'accept'): Promise<Answer> {
  expect(page.status).toBe(200);
  expectStrictPage(page);
  expect(page.body).toContain('Sign in');
  const login = formOf(page, origin);
  let next = await browse(login.action, { ...login.fields, username, password: pass, decision: 'signin' });
  if (next.body.includes('Permissions requested')) {
    expectStrictPage(next);
    const form = formOf(next, origin);
    next = await browse(form.action, { ...form.fields, decision: consent });
  }
  return next;
}

/** The browser for acquireTokenInteractive: the sign-in page, then the form_post answer to MSAL's loopback server. */
function browser(username: string, pass: string, consent: 'accept' | 'decline' = 'accept', seen: string[] = []) {
  return async (url: string): Promise<void> => {
    seen.push(url);
    const answer = await signIn(await browse(url), username, pass, consent);
    expectStrictPage(answer);
    const post = formOf(answer, origin);
    expect(post.action).toMatch(/^http:\/\/localhost:\d+$/);
    expect(String(answer.headers['content-security-policy'])).toContain(`form-action 'self' ${post.action}`);
    const delivered = await browse(post.action, post.fields);
    expect(delivered.status).toBe(200);
  };
}

async function tokenError(body: Record<string, string>, tenant = CONTOSO): Promise<{ status: number; json: Record<string, unknown> }> {
  const page = await browse(`${origin}/${tenant}/oauth2/v2.0/token`, body, { 'client-request-id': 'test-correlation-1' });
  return { status: page.status, json: JSON.parse(page.body) as Record<string, unknown> };
}

function expectEntraError(json: Record<string, unknown>, error: string, code: number): void {
  expect(json.error).toBe(error);
  expect(json.error_codes).toEqual([code]);
  expect(json.error_description).toMatch(
    new RegExp(`^AADSTS${code}: .+ Trace ID: [0-9a-f-]{36} Correlation ID: \\S+ Timestamp: \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ$`),
  );
  expect(json.timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
  expect(json.trace_id).toMatch(/^[0-9a-f-]{36}$/);
  expect(typeof json.correlation_id).toBe('string');
}

describe('discovery', () => {
  it('serves the OpenID configuration by tenant id, domain and organizations, with a JWKS that verifies its tokens', async () => {
    const byId = JSON.parse((await browse(`${origin}/${CONTOSO}/v2.0/.well-known/openid-configuration`)).body) as Record<string, string>;
    expect(byId.issuer).toBe(`${origin}/${CONTOSO}/v2.0`);
    expect(byId.authorization_endpoint).toBe(`${origin}/${CONTOSO}/oauth2/v2.0/authorize`);
    expect(byId.token_endpoint).toBe(`${origin}/${CONTOSO}/oauth2/v2.0/token`);
    expect(byId.device_authorization_endpoint).toBe(`${origin}/${CONTOSO}/oauth2/v2.0/devicecode`);
    expect(byId.end_session_endpoint).toBe(`${origin}/${CONTOSO}/oauth2/v2.0/logout`);
    const byDomain = JSON.parse((await browse(`${origin}/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration`)).body) as Record<
      string,
      string
    >;
    expect(byDomain.token_endpoint).toBe(byId.token_endpoint);
    const multi = JSON.parse((await browse(`${origin}/organizations/v2.0/.well-known/openid-configuration`)).body) as Record<
      string,
      string
    >;
    expect(multi.issuer).toBe(`${origin}/{tenantid}/v2.0`);
    expect(multi.token_endpoint).toBe(`${origin}/organizations/oauth2/v2.0/token`);

    const unknown = await browse(`${origin}/nosuch.onmicrosoft.com/v2.0/.well-known/openid-configuration`);
    expect(unknown.status).toBe(400);
    expectEntraError(JSON.parse(unknown.body) as Record<string, unknown>, 'invalid_tenant', 90002);

    const discovery = await browse(
      `${origin}/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent(byId.authorization_endpoint!)}`,
    );
    expect(JSON.parse(discovery.body)).toEqual({
      tenant_discovery_endpoint: `${origin}/${CONTOSO}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: azure.knownAuthority, preferred_cache: azure.knownAuthority, aliases: [azure.knownAuthority] }],
    });
    const foreign = await browse(
      `${origin}/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent('https://login.example.com/x/oauth2/v2.0/authorize')}`,
    );
    expect(foreign.status).toBe(400);
    expect((JSON.parse(foreign.body) as { error: string }).error).toBe('invalid_instance');

    const keys = JSON.parse((await browse(byId.jwks_uri!)).body) as { keys: Array<Record<string, unknown>> };
    expect(keys.keys).toHaveLength(1);
    const jwk = keys.keys[0]!;
    expect(jwk).toMatchObject({ kty: 'RSA', use: 'sig' });
    expect(jwk.kid).toBe(jwk.x5t);
    expect((jwk.x5c as string[])[0]).toMatch(/^MII/);

    // The keys verify a token independently of the emulator's code.
    const result = await app().acquireTokenByUsernamePassword({
      scopes: [scope],
      username: 'alice@contoso.onmicrosoft.com',
      password: 'Alice-Pa55word',
    });
    for (const token of [result!.idToken, result!.accessToken]) {
      const [h, p, sig] = token.split('.') as [string, string, string];
      expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toMatchObject({ alg: 'RS256', kid: jwk.kid });
      const key = createPublicKey({ key: jwk, format: 'jwk' });
      expect(verify('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(sig, 'base64url'))).toBe(true);
      expect(verify('sha256', Buffer.from(`${h}.${p}x`), key, Buffer.from(sig, 'base64url'))).toBe(false);
    }
  });
});

describe('username and password', () => {
  it('signs in, with the account, ID token and access token Entra ID gives', async () => {
    const result = (await app().acquireTokenByUsernamePassword({
      scopes: [scope],
      username: 'alice@contoso.onmicrosoft.com',
      password: 'Alice-Pa55word',
    }))!;
    const id = result.idTokenClaims as Record<string, unknown>;
    expect(id).toMatchObject({
      aud: azure.clientId,
      iss: `${origin}/${CONTOSO}/v2.0`,
      tid: CONTOSO,
      preferred_username: 'alice@contoso.onmicrosoft.com',
      name: 'Alice Admin',
      ver: '2.0',
    });
    expect(id.oid).toMatch(/^[0-9a-f-]{36}$/);
    expect(typeof id.sub).toBe('string');
    expect(id.nonce).toBeUndefined();
    expect(Number(id.exp)).toBeGreaterThan(Number(id.iat));
    expect(result.account!.homeAccountId).toBe(`${String(id.oid)}.${CONTOSO}`);
    expect(result.account!.tenantId).toBe(CONTOSO);
    expect(result.account!.username).toBe('alice@contoso.onmicrosoft.com');
    expect(result.tenantId).toBe(CONTOSO);
    expect(result.scopes).toContain(scope);

    const access = claimsOf(result.accessToken);
    expect(access).toMatchObject({
      aud: origin,
      iss: `${origin}/${CONTOSO}/`,
      tid: CONTOSO,
      oid: id.oid,
      scp: 'user_impersonation',
      appid: azure.clientId,
    });
    expect(Number(access.exp) - Number(access.iat)).toBe(3600);
    expect(result.expiresOn!.getTime()).toBeGreaterThan(Date.now() + 3000_000);
  });

  it('a wrong password or an unknown user is refused with the Entra ID error body', async () => {
    const wrong = await app()
      .acquireTokenByUsernamePassword({ scopes: [scope], username: 'alice@contoso.onmicrosoft.com', password: 'not-it' })
      .then(
        () => undefined,
        (err: unknown) => err as { errorCode: string; errorMessage: string },
      );
    expect(wrong?.errorCode).toBe('invalid_grant');
    expect(wrong?.errorMessage).toContain('AADSTS50126');

    const raw = await tokenError({
      grant_type: 'password',
      client_id: azure.clientId,
      scope: `${scope} openid profile offline_access`,
      username: 'alice@contoso.onmicrosoft.com',
      password: 'not-it',
    });
    expect(raw.status).toBe(400);
    expectEntraError(raw.json, 'invalid_grant', 50126);
    expect(raw.json.correlation_id).toBe('test-correlation-1');

    const nobody = await tokenError({
      grant_type: 'password',
      client_id: azure.clientId,
      scope,
      username: 'nobody@contoso.onmicrosoft.com',
      password: 'x',
    });
    expectEntraError(nobody.json, 'invalid_grant', 50034);
    const badClient = await tokenError({ grant_type: 'password', client_id: 'not-a-guid', scope, username: 'x@y.z', password: 'x' });
    expectEntraError(badClient.json, 'unauthorized_client', 700016);
    const badScope = await tokenError({
      grant_type: 'password',
      client_id: azure.clientId,
      scope: 'https://management.azure.com//.default',
      username: 'alice@contoso.onmicrosoft.com',
      password: 'Alice-Pa55word',
    });
    expectEntraError(badScope.json, 'invalid_resource', 500011);
    const badGrant = await tokenError({ grant_type: 'client_credentials', client_id: azure.clientId, scope });
    expectEntraError(badGrant.json, 'unsupported_grant_type', 70003);
  });

  it('a guest signs in to the tenant it was invited to; a user is refused in a tenant it is not in', async () => {
    const guest = (await app({ authority: `${origin}/${CONTOSO}` }).acquireTokenByUsernamePassword({
      scopes: [scope],
      username: 'bob@fabrikam.onmicrosoft.com',
      password: 'Bob-Pa55word',
    }))!;
    expect(guest.tenantId).toBe(CONTOSO);
    expect(guest.account!.homeAccountId.endsWith(`.${FABRIKAM}`)).toBe(true);
    expect(claimsOf(guest.accessToken).tid).toBe(CONTOSO);

    const home = (await app({ authority: `${origin}/organizations` }).acquireTokenByUsernamePassword({
      scopes: [scope],
      username: 'bob@fabrikam.onmicrosoft.com',
      password: 'Bob-Pa55word',
    }))!;
    expect(home.tenantId).toBe(FABRIKAM);

    const outsider = await tokenError(
      { grant_type: 'password', client_id: azure.clientId, scope, username: 'alice@contoso.onmicrosoft.com', password: 'Alice-Pa55word' },
      FABRIKAM,
    );
    expectEntraError(outsider.json, 'invalid_grant', 50020);
  });

  it('a generated password is in the ready line and survives a reload', async () => {
    const carol = password('carol@contoso.onmicrosoft.com');
    expect(carol).toMatch(/^[\w-]{18}$/);
    expect(await emu.reload(config)).toBe('reloaded');
    const result = await app().acquireTokenByUsernamePassword({
      scopes: [scope],
      username: 'carol@contoso.onmicrosoft.com',
      password: carol,
    });
    expect(result!.account!.username).toBe('carol@contoso.onmicrosoft.com');
  });
});

describe('defaults', () => {
  it('a config without subscriptions gets one, with a resource group holding its namespaces, that every user sees', async () => {
    const result = (await app().acquireTokenByUsernamePassword({
      scopes: [scope],
      username: 'alice@contoso.onmicrosoft.com',
      password: 'Alice-Pa55word',
    }))!;
    const get = async (path: string) =>
      JSON.parse((await browse(`${origin}${path}`, undefined, { Authorization: `Bearer ${result.accessToken}` })).body) as {
        value: Array<Record<string, unknown>>;
      };
    const subs = (await get('/subscriptions?api-version=2022-12-01')).value;
    expect(subs.map((s) => [s.displayName, s.tenantId])).toEqual([['Emulator Subscription', CONTOSO]]);
    const namespaces = (
      await get(`/subscriptions/${String(subs[0]!.subscriptionId)}/providers/Microsoft.Relay/namespaces?api-version=2021-11-01`)
    ).value;
    expect(namespaces.map((n) => [n.name, n.location, String(n.id).split('/')[4]])).toEqual([
      ['contoso-relay', 'West Europe', 'relay-emulator'],
    ]);
    // Carol was given no subscriptions: she sees none.
    const carol = (await app().acquireTokenByUsernamePassword({
      scopes: [scope],
      username: 'carol@contoso.onmicrosoft.com',
      password: password('carol@contoso.onmicrosoft.com'),
    }))!;
    const none = await browse(`${origin}/subscriptions?api-version=2022-12-01`, undefined, {
      Authorization: `Bearer ${carol.accessToken}`,
    });
    expect((JSON.parse(none.body) as { value: unknown[] }).value).toEqual([]);
  });
});

describe('refresh', () => {
  it('acquireTokenSilent answers from the cache, and with forceRefresh redeems the refresh token', async () => {
    const pca = app();
    const first = (await pca.acquireTokenByUsernamePassword({
      scopes: [scope],
      username: 'alice@contoso.onmicrosoft.com',
      password: 'Alice-Pa55word',
    }))!;
    const cached = await pca.acquireTokenSilent({ account: first.account!, scopes: [scope] });
    expect(cached.fromCache).toBe(true);
    expect(cached.accessToken).toBe(first.accessToken);
    const refreshed = await pca.acquireTokenSilent({ account: first.account!, scopes: [scope], forceRefresh: true });
    expect(refreshed.fromCache).toBe(false);
    expect(refreshed.accessToken).not.toBe(first.accessToken);
    expect(refreshed.account!.homeAccountId).toBe(first.account!.homeAccountId);
    expect(claimsOf(refreshed.accessToken).oid).toBe(claimsOf(first.accessToken).oid);

    // A refresh token is bound to its client, and garbage is not one.
    const tokens = JSON.parse(pca.getTokenCache().serialize()) as { RefreshToken: Record<string, { secret: string }> };
    const refreshToken = Object.values(tokens.RefreshToken)[0]!.secret;
    const otherClient = await tokenError({ grant_type: 'refresh_token', client_id: OTHER_CLIENT, scope, refresh_token: refreshToken });
    expectEntraError(otherClient.json, 'invalid_grant', 70000);
    const garbage = await tokenError({ grant_type: 'refresh_token', client_id: azure.clientId, scope, refresh_token: `${refreshToken}x` });
    expectEntraError(garbage.json, 'invalid_grant', 9002313);
  });
});

describe('device code', () => {
  it('signs in once the user enters the code and signs in on the device page', async () => {
    let prompt: { userCode: string; verificationUri: string; message: string; interval: number } | undefined;
    let walked: Promise<Answer> | undefined;
    const request: Parameters<PublicClientApplication['acquireTokenByDeviceCode']>[0] = {
      scopes: [scope],
      timeout: 30,
      deviceCodeCallback: (r) => {
        prompt = r;
        walked = (async () => {
          const entry = await browse(r.verificationUri);
          expectStrictPage(entry);
          expect(entry.body).toContain('Enter code');
          const wrong = await browse(r.verificationUri, { otc: 'WRONGCODE' });
          expect(wrong.status).toBe(400);
          expect(unescapeHtml(wrong.body)).toContain("That code didn't work");
          // People type codes in lower case and with spaces.
          const signInPage = await browse(r.verificationUri, { otc: ` ${r.userCode.toLowerCase()} ` });
          return signIn(signInPage, 'alice@contoso.onmicrosoft.com', 'Alice-Pa55word');
        })();
        // A failed walk stops MSAL's polling, so the test fails at once with the walk's error.
        walked.catch(() => (request.cancel = true));
      },
    };
    const polling = app().acquireTokenByDeviceCode(request);
    await polling.catch(() => undefined);
    const done = await walked!;
    const result = await polling;
    expect(prompt!.verificationUri).toBe(`${origin}/devicelogin`);
    expect(prompt!.userCode).toMatch(/^[A-Z0-9]{9}$/);
    expect(prompt!.interval).toBe(1);
    expect(prompt!.message).toBe(
      `To sign in, use a web browser to open the page ${origin}/devicelogin and enter the code ${prompt!.userCode} to authenticate.`,
    );
    expect(done.status).toBe(200);
    expect(done.body).toContain('You have signed in to the Microsoft Azure CLI application on your device');
    expect(result!.account!.username).toBe('alice@contoso.onmicrosoft.com');
    expect(claimsOf(result!.accessToken).aud).toBe(origin);
  });

  it('polling gets authorization_pending, then authorization_declined when the user cancels', async () => {
    const start = JSON.parse(
      (
        await browse(`${origin}/${CONTOSO}/oauth2/v2.0/devicecode`, {
          client_id: azure.clientId,
          scope: `${scope} openid offline_access`,
        })
      ).body,
    ) as { device_code: string; user_code: string; verification_uri: string; expires_in: number };
    expect(start.expires_in).toBe(900);
    const poll = () => tokenError({ grant_type: 'device_code', client_id: azure.clientId, device_code: start.device_code });
    expectEntraError((await poll()).json, 'authorization_pending', 70016);
    const signInPage = await browse(start.verification_uri, { otc: start.user_code });
    const form = formOf(signInPage, origin);
    const cancelled = await browse(form.action, { ...form.fields, decision: 'cancel' });
    expect(cancelled.body).toContain('Sign-in canceled');
    const declined = await poll();
    expect(declined.json.error).toBe('authorization_declined');
    // The device code is spent.
    expect((await poll()).json.error).toBe('invalid_grant');

    // MSAL reports it as an error too.
    const viaMsal = await app()
      .acquireTokenByDeviceCode({
        scopes: [scope],
        deviceCodeCallback: (r) => {
          void (async () => {
            const page = await browse(r.verificationUri, { otc: r.userCode });
            const f = formOf(page, origin);
            await browse(f.action, { ...f.fields, decision: 'cancel' });
          })();
        },
      })
      .then(
        () => undefined,
        (err: unknown) => err as Error,
      );
    expect(String(viaMsal)).toContain('authorization_declined');
  });
});

describe('authorization code with PKCE', () => {
  it('acquireTokenInteractive: sign-in page, form_post to MSAL loopback server, code redeemed with the verifier', async () => {
    const seen: string[] = [];
    const pca = app();
    const result: AuthenticationResult = await pca.acquireTokenInteractive({
      scopes: [scope],
      openBrowser: browser('alice@contoso.onmicrosoft.com', 'Alice-Pa55word', 'accept', seen),
    });
    const authorize = new URL(seen[0]!);
    expect(authorize.origin + authorize.pathname).toBe(`${origin}/${CONTOSO}/oauth2/v2.0/authorize`);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('response_mode')).toBe('form_post');
    expect(authorize.searchParams.get('redirect_uri')).toMatch(/^http:\/\/localhost:\d+$/);
    expect(result.account!.username).toBe('alice@contoso.onmicrosoft.com');
    expect(result.account!.homeAccountId).toBe(`${String(claimsOf(result.idToken).oid)}.${CONTOSO}`);
    expect(claimsOf(result.accessToken).aud).toBe(origin);
    // The account is in MSAL's cache for silent use afterwards.
    const silent = await pca.acquireTokenSilent({ account: result.account!, scopes: [scope], forceRefresh: true });
    expect(silent.account!.username).toBe('alice@contoso.onmicrosoft.com');
  });

  it('a client that is not first-party asks for consent; declining gives access_denied, accepting lets the password grant through', async () => {
    const other = app({ clientId: OTHER_CLIENT });
    const before = await tokenError({
      grant_type: 'password',
      client_id: OTHER_CLIENT,
      scope,
      username: 'alice@contoso.onmicrosoft.com',
      password: 'Alice-Pa55word',
    });
    expectEntraError(before.json, 'invalid_grant', 65001);
    expect(before.json.suberror).toBe('consent_required');

    const declined = await other
      .acquireTokenInteractive({ scopes: [scope], openBrowser: browser('alice@contoso.onmicrosoft.com', 'Alice-Pa55word', 'decline') })
      .then(
        () => undefined,
        (err: unknown) => err as { errorCode: string; errorMessage: string },
      );
    expect(declined?.errorCode).toBe('access_denied');
    expect(declined?.errorMessage).toContain('AADSTS65004');

    const accepted = await other.acquireTokenInteractive({
      scopes: [scope],
      openBrowser: browser('alice@contoso.onmicrosoft.com', 'Alice-Pa55word', 'accept'),
    });
    expect(claimsOf(accepted.accessToken).appid).toBe(OTHER_CLIENT);
    const after = await other.acquireTokenByUsernamePassword({
      scopes: [scope],
      username: 'alice@contoso.onmicrosoft.com',
      password: 'Alice-Pa55word',
    });
    expect(after!.account!.username).toBe('alice@contoso.onmicrosoft.com');
  });

  /** A sign-in by hand with response_mode=query; returns the code from the redirect. */
  async function codeFor(challenge: string, redirectUri: string, extra: Record<string, string> = {}): Promise<string> {
    const query = new URLSearchParams({
      client_id: azure.clientId,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope: `${scope} openid offline_access`,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 'st-1',
      nonce: 'n-1',
      ...extra,
    });
    const answer = await signIn(
      await browse(`${origin}/${CONTOSO}/oauth2/v2.0/authorize?${query}`),
      'alice@contoso.onmicrosoft.com',
      'Alice-Pa55word',
    );
    expect(answer.status).toBe(302);
    const location = new URL(String(answer.headers.location));
    expect(location.origin + location.pathname).toBe(redirectUri);
    expect(location.searchParams.get('state')).toBe('st-1');
    expect(location.searchParams.get('client_info')).toBeTruthy();
    return location.searchParams.get('code')!;
  }

  it('the verifier must match the challenge, a code is single-use, and the nonce comes back in the ID token', async () => {
    const verifier = 'v'.repeat(43);
    const challenge = (await import('node:crypto')).createHash('sha256').update(verifier).digest('base64url');
    const redirectUri = 'http://127.0.0.1:9/callback';
    const redeem = (code: string, v: string, uri = redirectUri) =>
      tokenError({ grant_type: 'authorization_code', client_id: azure.clientId, code, code_verifier: v, redirect_uri: uri, scope });

    const first = await codeFor(challenge, redirectUri);
    expectEntraError((await redeem(first, 'w'.repeat(43))).json, 'invalid_grant', 501481);

    const second = await codeFor(challenge, redirectUri);
    expectEntraError((await redeem(second, verifier, 'http://127.0.0.1:9/other')).json, 'invalid_grant', 50011);

    const third = await codeFor(challenge, redirectUri);
    const ok = await redeem(third, verifier);
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ token_type: 'Bearer', expires_in: 3600, ext_expires_in: 3600 });
    expect(typeof ok.json.refresh_token).toBe('string');
    expect(claimsOf(ok.json.id_token as string).nonce).toBe('n-1');
    const clientInfo = JSON.parse(Buffer.from(ok.json.client_info as string, 'base64url').toString()) as { uid: string; utid: string };
    expect(clientInfo).toEqual({ uid: claimsOf(ok.json.id_token as string).oid, utid: CONTOSO });
    expectEntraError((await redeem(third, verifier)).json, 'invalid_grant', 54005);
  });

  it('redirects go only to loopback, PKCE S256 is required, and prompt=none has no session to use', async () => {
    const base = {
      client_id: azure.clientId,
      response_type: 'code',
      scope,
      code_challenge: 'c'.repeat(43),
      code_challenge_method: 'S256',
      state: 's',
    };
    for (const redirect of [
      'https://evil.example/cb',
      'http://evil.example:8080/',
      'http://localhost.evil.example/',
      'javascript:alert(1)',
    ]) {
      const page = await browse(`${origin}/${CONTOSO}/oauth2/v2.0/authorize?${new URLSearchParams({ ...base, redirect_uri: redirect })}`);
      expect(page.status).toBe(400);
      expect(page.headers.location).toBeUndefined();
      expect(page.body).toContain('AADSTS50011');
      expectStrictPage(page);
    }
    const loopback = 'http://localhost:5999/';
    for (const [name, params] of [
      ['no PKCE', { code_challenge: '' }],
      ['plain PKCE', { code_challenge_method: 'plain' }],
    ] as const) {
      const page = await browse(
        `${origin}/${CONTOSO}/oauth2/v2.0/authorize?${new URLSearchParams({ ...base, redirect_uri: loopback, ...params })}`,
      );
      expect(page.status, name).toBe(302);
      const location = new URL(String(page.headers.location));
      expect(location.searchParams.get('error')).toBe('invalid_request');
      expect(location.searchParams.get('state')).toBe('s');
    }
    const none = await browse(
      `${origin}/${CONTOSO}/oauth2/v2.0/authorize?${new URLSearchParams({ ...base, redirect_uri: loopback, prompt: 'none' })}`,
    );
    expect(new URL(String(none.headers.location)).searchParams.get('error')).toBe('login_required');
    // A sign-in form posted without a live flow is refused.
    const forged = await browse(`${origin}/$entra/login`, {
      flow: randomUUID(),
      username: 'alice@contoso.onmicrosoft.com',
      password: 'Alice-Pa55word',
    });
    expect(forged.status).toBe(400);
    expect(forged.body).toContain('This sign-in has expired');
  });
});
