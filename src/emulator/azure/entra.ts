import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EmulatorLog } from '../context.js';
import { type AzureDirectory, type Tenant, type User, findUser, tenantFromSegment, tenantsOf } from './directory.js';
import { GUID_PATTERN, newGuid, randomHandle } from './ids.js';
import { RequestBodyError, readForm, redirect, sendJson, sendPage, sendStatic } from './http.js';
import { type SigningKey, jwks } from './jwt.js';
import {
  FORM_POST_SCRIPT,
  FORM_POST_SCRIPT_PATH,
  STYLESHEET,
  STYLESHEET_PATH,
  consentPage,
  deviceCodeEntryPage,
  formPostPage,
  messagePage,
  signInPage,
} from './pages.js';
import { GRAPH_RESOURCE, type RequestedScopes, type TokenIssuer, resolveScopes } from './tokens.js';

/**
 * The subset of Microsoft Entra ID (the v2.0 endpoints) that MSAL and the Azure SDKs use
 * (docs/protocol.md §9): OpenID configuration, instance discovery and the signing keys; the
 * authorization endpoint with sign-in and consent pages, answering by query, fragment or
 * form_post to a loopback redirect URI; the token endpoint for authorization code + PKCE
 * (S256, required here), refresh tokens, device code and username/password; and the device code
 * pages. Users come from the directory (the emulator config). Any client id (a GUID) is a public
 * client; the first-party ones below need no consent, others ask once per user and tenant.
 */

export interface EntraContext {
  directory(): AzureDirectory;
  issuer: TokenIssuer;
  signingKey(): Promise<SigningKey>;
  /** Whether Entra ID issues tokens for this resource (the ARM endpoint, with or without its trailing slash). */
  isKnownResource(resource: string): boolean;
  deviceCodeIntervalSeconds: number;
  log: EmulatorLog;
}

/** First-party public clients: Microsoft Azure CLI (which @azure/identity uses) and Azure PowerShell. */
const PRECONSENTED_CLIENTS = new Map([
  ['04b07795-8ddb-461a-bbee-02f9e1bf7b46', 'Microsoft Azure CLI'],
  ['1950a258-227b-4e31-a9cf-717495945fc2', 'Microsoft Azure PowerShell'],
]);

const CODE_LIFETIME_MS = 10 * 60_000;
const SIGN_IN_LIFETIME_MS = 15 * 60_000;
const DEVICE_CODE_LIFETIME_S = 900;
const MAX_PENDING = 2000;
const MAX_SIGN_IN_FAILURES = 5;
/** Letters and digits a person cannot confuse, for user codes. */
const USER_CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

interface SignInFlow {
  id: string;
  kind: 'authorize' | 'device';
  /** The tenant the request named; undefined for organizations / common (the user's home tenant). */
  tenant: Tenant | undefined;
  clientId: string;
  scopes: RequestedScopes;
  origin: string;
  expiresAt: number;
  failures: number;
  forceConsent: boolean;
  loginHint: string | undefined;
  /** After sign-in: the user and the tenant the tokens will be for. */
  userId?: string;
  tenantId?: string;
  authTime?: number;
  redirectUri?: string;
  responseMode?: 'query' | 'fragment' | 'form_post';
  state?: string | undefined;
  nonce?: string | undefined;
  codeChallenge?: string;
  deviceCode?: string;
}

interface AuthorizationCode {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  userId: string;
  tenantId: string;
  scopes: RequestedScopes;
  nonce: string | undefined;
  origin: string;
  authTime: number;
  expiresAt: number;
  redeemed: boolean;
}

interface DeviceFlow {
  deviceCode: string;
  userCode: string;
  flowId: string;
  clientId: string;
  scopes: RequestedScopes;
  origin: string;
  expiresAt: number;
  status: 'pending' | 'approved' | 'declined';
  userId?: string;
  tenantId?: string;
  authTime?: number;
}

type EntraError = { status?: number; error: string; code: number; message: string; suberror?: string };

export class Entra {
  private readonly flows = new Map<string, SignInFlow>();
  private readonly codes = new Map<string, AuthorizationCode>();
  private readonly devices = new Map<string, DeviceFlow>();
  private readonly userCodes = new Map<string, string>();
  /** `tenant|user|client` that consented. */
  private readonly consents = new Set<string>();
  private lastSweep = 0;

  constructor(private readonly context: EntraContext) {}

  /** Whether a path belongs to Entra ID (ARM owns the rest). */
  static handles(pathname: string): boolean {
    return (
      pathname.startsWith('/$entra/') ||
      /^\/devicelogin\/?$/i.test(pathname) ||
      /^\/[^/]+\/(v2\.0\/\.well-known\/openid-configuration|oauth2\/v2\.0\/[a-z]+|discovery\/(instance|keys|v2\.0\/keys))$/i.test(pathname)
    );
  }

  async serve(req: IncomingMessage, res: ServerResponse, url: URL, origin: string): Promise<void> {
    this.sweep();
    const path = url.pathname;
    const method = req.method ?? 'GET';
    try {
      if (path === STYLESHEET_PATH) return sendStatic(res, 'text/css', STYLESHEET);
      if (path === FORM_POST_SCRIPT_PATH) return sendStatic(res, 'text/javascript', FORM_POST_SCRIPT);
      if (path === '/$entra/login' && method === 'POST') return await this.onSignIn(req, res);
      if (path === '/$entra/consent' && method === 'POST') return await this.onConsent(req, res);
      if (/^\/devicelogin\/?$/i.test(path)) return method === 'POST' ? await this.onDeviceCodeEntered(req, res) : this.deviceEntry(res);
      const m = /^\/([^/]+)\/(.+)$/.exec(path);
      if (!m) return this.notFound(res);
      const segment = decodeURIComponent(m[1]!);
      const rest = m[2]!.toLowerCase();
      if (rest === 'discovery/instance') return this.instanceDiscovery(res, url, origin);
      if (rest === 'discovery/keys' || rest === 'discovery/v2.0/keys') return sendJson(res, 200, jwks([await this.context.signingKey()]));
      const tenant = tenantFromSegment(this.context.directory(), segment);
      if (!tenant) {
        const err: EntraError = {
          error: 'invalid_tenant',
          code: 90002,
          message: `Tenant '${segment.slice(0, 100)}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
        };
        return rest === 'oauth2/v2.0/authorize' ? this.errorPage(res, err) : this.sendError(req, res, origin, err);
      }
      switch (rest) {
        case 'v2.0/.well-known/openid-configuration':
          return sendJson(res, 200, this.openIdConfiguration(origin, segment, tenant.tenant));
        case 'oauth2/v2.0/authorize':
          return method === 'GET' ? this.authorize(res, url, origin, tenant.tenant) : this.methodNotAllowed(res, 'GET');
        case 'oauth2/v2.0/token':
          return method === 'POST' ? await this.token(req, res, origin, segment, tenant.tenant) : this.methodNotAllowed(res, 'POST');
        case 'oauth2/v2.0/devicecode':
          return method === 'POST' ? await this.deviceCode(req, res, origin, tenant.tenant) : this.methodNotAllowed(res, 'POST');
        case 'oauth2/v2.0/logout':
          return this.logout(res, url);
        default:
          return this.notFound(res);
      }
    } catch (err) {
      if (err instanceof RequestBodyError) {
        return this.sendError(req, res, origin, { status: err.status, error: 'invalid_request', code: 900144, message: err.message });
      }
      throw err;
    }
  }

  // ---- discovery ----

  private openIdConfiguration(origin: string, segment: string, tenant: Tenant | undefined): Record<string, unknown> {
    // A tenant named by its domain is answered with its id, as Entra ID does; common and
    // organizations keep their name and the issuer carries {tenantid}.
    const t = tenant ? tenant.id : segment.toLowerCase();
    return {
      token_endpoint: `${origin}/${t}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${origin}/${t}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${origin}/${tenant ? tenant.id : '{tenantid}'}/v2.0`,
      request_uri_parameter_supported: false,
      authorization_endpoint: `${origin}/${t}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${origin}/${t}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${origin}/${t}/oauth2/v2.0/logout`,
      claims_supported: [
        'sub',
        'iss',
        'aud',
        'exp',
        'iat',
        'auth_time',
        'acr',
        'nonce',
        'preferred_username',
        'name',
        'tid',
        'ver',
        'email',
      ],
      tenant_region_scope: null,
      cloud_instance_name: new URL(origin).host,
    };
  }

  private instanceDiscovery(res: ServerResponse, url: URL, origin: string): void {
    const host = new URL(origin).host;
    let endpoint: URL | undefined;
    try {
      endpoint = new URL(url.searchParams.get('authorization_endpoint') ?? '');
    } catch {
      endpoint = undefined;
    }
    if (!endpoint || endpoint.protocol !== 'https:' || endpoint.host.toLowerCase() !== host.toLowerCase()) {
      return this.sendError(undefined, res, origin, {
        error: 'invalid_instance',
        code: 50049,
        message:
          "Unknown or invalid instance. The authorization_endpoint must be this emulator's https://host:port/<tenant>/oauth2/v2.0/authorize.",
      });
    }
    const tenant = endpoint.pathname.split('/')[1] || 'common';
    sendJson(res, 200, {
      tenant_discovery_endpoint: `${origin}/${tenant}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    });
  }

  // ---- authorization endpoint ----

  private authorize(res: ServerResponse, url: URL, origin: string, tenant: Tenant | undefined): void {
    const q = url.searchParams;
    const clientId = q.get('client_id') ?? '';
    if (!clientId) {
      return this.errorPage(res, {
        error: 'invalid_request',
        code: 900144,
        message: "The request body must contain the following parameter: 'client_id'.",
      });
    }
    if (!GUID_PATTERN.test(clientId)) {
      return this.errorPage(res, {
        error: 'unauthorized_client',
        code: 700016,
        message: `Application with identifier '${clientId.slice(0, 100)}' was not found in the directory. Client ids are GUIDs.`,
      });
    }
    const redirectUri = q.get('redirect_uri') ?? '';
    if (!loopbackRedirect(redirectUri)) {
      return this.errorPage(res, {
        error: 'invalid_request',
        code: 50011,
        message: `The redirect URI '${redirectUri.slice(0, 200)}' specified in the request does not match the redirect URIs configured for the application '${clientId}'. This emulator accepts only loopback redirect URIs: http://localhost:PORT or http://127.0.0.1:PORT.`,
      });
    }
    const modeParam = q.get('response_mode') ?? 'query';
    const responseMode = modeParam === 'form_post' || modeParam === 'fragment' || modeParam === 'query' ? modeParam : 'query';
    const state = q.get('state') ?? undefined;
    const fail = (err: EntraError) => this.authorizeError(res, redirectUri, responseMode, state, err);
    if (modeParam !== responseMode) {
      return fail({ error: 'invalid_request', code: 900144, message: `The response_mode '${modeParam.slice(0, 40)}' is not supported.` });
    }
    if (q.get('response_type') !== 'code') {
      return fail({
        error: 'unsupported_response_type',
        code: 700054,
        message: "response_type must be 'code': this emulator supports the authorization code flow only.",
      });
    }
    const challenge = q.get('code_challenge') ?? '';
    const method = q.get('code_challenge_method') ?? 'plain';
    if (!challenge || method !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(challenge)) {
      return fail({
        error: 'invalid_request',
        code: 9002325,
        message: 'Proof Key for Code Exchange is required: send code_challenge (43 base64url characters) with code_challenge_method=S256.',
      });
    }
    const scopes = resolveScopes(q.get('scope') ?? undefined, (r) => this.context.isKnownResource(r), tenant?.name ?? 'common');
    if ('error' in scopes) return fail(scopes);
    const prompt = q.get('prompt') ?? '';
    if (prompt === 'none') {
      return fail({
        error: 'login_required',
        code: 50058,
        message: 'A silent sign-in request was sent but no user is signed in. (The emulator keeps no browser session.)',
      });
    }
    if (!this.roomFor(this.flows))
      return this.errorPage(res, { error: 'temporarily_unavailable', code: 90033, message: 'Too many pending sign-ins.' });
    const flow: SignInFlow = {
      id: randomHandle(),
      kind: 'authorize',
      tenant,
      clientId: clientId.toLowerCase(),
      scopes,
      origin,
      expiresAt: Date.now() + SIGN_IN_LIFETIME_MS,
      failures: 0,
      forceConsent: prompt === 'consent',
      loginHint: q.get('login_hint') ?? undefined,
      redirectUri,
      responseMode,
      state,
      nonce: q.get('nonce') ?? undefined,
      codeChallenge: challenge,
    };
    this.flows.set(flow.id, flow);
    this.showSignIn(res, flow);
  }

  private showSignIn(res: ServerResponse, flow: SignInFlow, error?: string, username?: string): void {
    sendPage(
      res,
      error ? 400 : 200,
      signInPage({
        action: '/$entra/login',
        flow: flow.id,
        appName: appName(flow.clientId),
        tenantName: flow.tenant?.name,
        username: username ?? flow.loginHint,
        error,
        cancellable: flow.kind === 'device',
      }),
    );
  }

  private async onSignIn(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = await readForm(req);
    const flow = this.liveFlow(form.get('flow'));
    if (!flow) return this.expiredPage(res);
    if (form.get('decision') === 'cancel') return this.decline(res, flow);
    const username = (form.get('username') ?? '').trim();
    const password = form.get('password') ?? '';
    const directory = this.context.directory();
    const user = findUser(directory, username);
    const problem = !user
      ? "We couldn't find an account with that username."
      : !samePassword(user.password, password)
        ? 'Your account or password is incorrect.'
        : undefined;
    if (problem || !user) {
      flow.failures++;
      this.context.log('warn', `entra: sign-in failed for ${username.slice(0, 100)} (${problem})`);
      if (flow.failures >= MAX_SIGN_IN_FAILURES) {
        this.forget(flow);
        return sendPage(res, 400, messagePage('Sign-in stopped', 'Too many failed attempts. Start the sign-in again from your app.'));
      }
      return this.showSignIn(res, flow, `${problem} Try again.`, username);
    }
    const tenant = flow.tenant ?? directory.tenants.find((t) => t.id === user.tenantId);
    if (!tenant || !tenantsOf(directory, user).some((t) => t.id === tenant.id)) {
      return this.showSignIn(
        res,
        flow,
        `AADSTS50020: User account '${user.username}' does not exist in tenant '${tenant?.name ?? '?'}' and cannot access the application '${flow.clientId}' in that tenant.`,
        username,
      );
    }
    flow.userId = user.id;
    flow.tenantId = tenant.id;
    flow.authTime = Math.floor(Date.now() / 1000);
    this.context.log('info', `entra: ${user.username} signed in to ${tenant.domain} for client ${flow.clientId}`);
    if (flow.forceConsent || this.needsConsent(flow.clientId, user, tenant.id)) return this.showConsent(res, flow, user);
    return this.finish(res, flow);
  }

  private showConsent(res: ServerResponse, flow: SignInFlow, user: User): void {
    const permissions = [
      ...(flow.scopes.resource === GRAPH_RESOURCE ? [] : ['Access Azure Service Management as you']),
      'Sign you in and read your profile',
      ...(flow.scopes.offlineAccess ? ['Maintain access to data you have given it access to'] : []),
    ];
    sendPage(
      res,
      200,
      consentPage({
        action: '/$entra/consent',
        flow: flow.id,
        appName: appName(flow.clientId),
        clientId: flow.clientId,
        username: user.username,
        permissions,
      }),
    );
  }

  private async onConsent(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = await readForm(req);
    const flow = this.liveFlow(form.get('flow'));
    if (!flow || !flow.userId || !flow.tenantId) return this.expiredPage(res);
    if (form.get('decision') !== 'accept') return this.decline(res, flow);
    this.consents.add(`${flow.tenantId}|${flow.userId}|${flow.clientId}`);
    return this.finish(res, flow);
  }

  /** First-party clients need no consent; others need the user's once per tenant. */
  private needsConsent(clientId: string, user: User, tenantId: string): boolean {
    return !PRECONSENTED_CLIENTS.has(clientId) && !this.consents.has(`${tenantId}|${user.id}|${clientId}`);
  }

  private decline(res: ServerResponse, flow: SignInFlow): void {
    this.forget(flow);
    if (flow.kind === 'device') {
      const device = flow.deviceCode ? this.devices.get(flow.deviceCode) : undefined;
      if (device) device.status = 'declined';
      return sendPage(res, 200, messagePage('Sign-in canceled', 'You canceled the sign-in. You can close this window.'));
    }
    this.authorizeError(res, flow.redirectUri!, flow.responseMode!, flow.state, {
      error: 'access_denied',
      code: 65004,
      message: 'User declined to consent to access the app.',
    });
  }

  /** After sign-in (and consent): a code to the redirect URI, or the device is told it may go on. */
  private finish(res: ServerResponse, flow: SignInFlow): void {
    this.forget(flow);
    if (flow.kind === 'device') {
      const device = flow.deviceCode ? this.devices.get(flow.deviceCode) : undefined;
      if (!device || device.expiresAt < Date.now()) return this.expiredPage(res);
      device.status = 'approved';
      device.userId = flow.userId;
      device.tenantId = flow.tenantId;
      device.authTime = flow.authTime;
      return sendPage(
        res,
        200,
        messagePage(
          appName(flow.clientId),
          `You have signed in to the ${appName(flow.clientId)} application on your device. You may now close this window.`,
        ),
      );
    }
    const code = randomHandle(48);
    this.codes.set(code, {
      clientId: flow.clientId,
      redirectUri: flow.redirectUri!,
      codeChallenge: flow.codeChallenge!,
      userId: flow.userId!,
      tenantId: flow.tenantId!,
      scopes: flow.scopes,
      nonce: flow.nonce,
      origin: flow.origin,
      authTime: flow.authTime!,
      expiresAt: Date.now() + CODE_LIFETIME_MS,
      redeemed: false,
    });
    const user = this.context.directory().users.find((u) => u.id === flow.userId);
    const fields: Record<string, string> = { code };
    if (user) fields.client_info = Buffer.from(JSON.stringify({ uid: user.id, utid: user.tenantId })).toString('base64url');
    if (flow.state !== undefined) fields.state = flow.state;
    fields.session_state = newGuid();
    this.answer(res, flow.redirectUri!, flow.responseMode!, fields);
  }

  private authorizeError(
    res: ServerResponse,
    redirectUri: string,
    mode: 'query' | 'fragment' | 'form_post',
    state: string | undefined,
    err: EntraError,
  ): void {
    const fields: Record<string, string> = { error: err.error, error_description: describe(err, newGuid(), newGuid()) };
    if (err.suberror) fields.suberror = err.suberror;
    if (state !== undefined) fields.state = state;
    this.answer(res, redirectUri, mode, fields);
  }

  private answer(res: ServerResponse, redirectUri: string, mode: 'query' | 'fragment' | 'form_post', fields: Record<string, string>): void {
    if (mode === 'form_post') return sendPage(res, 200, formPostPage(redirectUri, fields), [new URL(redirectUri).origin]);
    const target = new URL(redirectUri);
    const params = new URLSearchParams(fields).toString();
    if (mode === 'fragment') target.hash = params;
    else target.search = target.search ? `${target.search}&${params}` : params;
    redirect(res, target.href);
  }

  // ---- device code ----

  private async deviceCode(req: IncomingMessage, res: ServerResponse, origin: string, tenant: Tenant | undefined): Promise<void> {
    const form = await readForm(req);
    const clientId = (form.get('client_id') ?? '').toLowerCase();
    const clientProblem = checkClientId(clientId);
    if (clientProblem) return this.sendError(req, res, origin, clientProblem);
    const scopes = resolveScopes(form.get('scope') ?? undefined, (r) => this.context.isKnownResource(r), tenant?.name ?? 'common');
    if ('error' in scopes) return this.sendError(req, res, origin, scopes);
    if (!this.roomFor(this.devices)) {
      return this.sendError(req, res, origin, {
        status: 503,
        error: 'temporarily_unavailable',
        code: 90033,
        message: 'Too many pending device codes.',
      });
    }
    const deviceCode = randomHandle(48);
    let userCode: string;
    do userCode = Array.from({ length: 9 }, () => USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)]).join('');
    while (this.userCodes.has(userCode));
    const flow: SignInFlow = {
      id: randomHandle(),
      kind: 'device',
      tenant,
      clientId,
      scopes,
      origin,
      expiresAt: Date.now() + DEVICE_CODE_LIFETIME_S * 1000,
      failures: 0,
      forceConsent: false,
      loginHint: undefined,
      deviceCode,
    };
    this.devices.set(deviceCode, {
      deviceCode,
      userCode,
      flowId: flow.id,
      clientId,
      scopes,
      origin,
      expiresAt: flow.expiresAt,
      status: 'pending',
    });
    this.userCodes.set(userCode, deviceCode);
    this.flows.set(flow.id, flow);
    const verificationUri = `${origin}/devicelogin`;
    sendJson(res, 200, {
      user_code: userCode,
      device_code: deviceCode,
      verification_uri: verificationUri,
      expires_in: DEVICE_CODE_LIFETIME_S,
      interval: this.context.deviceCodeIntervalSeconds,
      message: `To sign in, use a web browser to open the page ${verificationUri} and enter the code ${userCode} to authenticate.`,
    });
  }

  private deviceEntry(res: ServerResponse): void {
    sendPage(res, 200, deviceCodeEntryPage('/devicelogin'));
  }

  private async onDeviceCodeEntered(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = await readForm(req);
    const userCode = (form.get('otc') ?? '').replace(/[\s-]/g, '').toUpperCase();
    const device = this.devices.get(this.userCodes.get(userCode) ?? '');
    const flow = device ? this.liveFlow(device.flowId) : undefined;
    if (!device || !flow || device.status !== 'pending' || device.expiresAt < Date.now()) {
      return sendPage(res, 400, deviceCodeEntryPage('/devicelogin', "That code didn't work. Check the code and try again."));
    }
    this.showSignIn(res, flow);
  }

  // ---- token endpoint ----

  private async token(
    req: IncomingMessage,
    res: ServerResponse,
    origin: string,
    segment: string,
    tenant: Tenant | undefined,
  ): Promise<void> {
    const form = await readForm(req);
    const grantType = form.get('grant_type') ?? '';
    const clientId = (form.get('client_id') ?? '').toLowerCase();
    const fail = (err: EntraError) => this.sendError(req, res, origin, err);
    if (!grantType)
      return fail({
        error: 'invalid_request',
        code: 900144,
        message: "The request body must contain the following parameter: 'grant_type'.",
      });
    const clientProblem = checkClientId(clientId);
    if (clientProblem) return fail(clientProblem);
    const directory = this.context.directory();
    const tenantName = tenant?.name ?? segment;
    const scopesFrom = () => resolveScopes(form.get('scope') ?? undefined, (r) => this.context.isKnownResource(r), tenantName);
    switch (grantType) {
      case 'password': {
        const scopes = scopesFrom();
        if ('error' in scopes) return fail(scopes);
        const username = form.get('username') ?? '';
        const user = findUser(directory, username);
        if (!user) {
          return fail({
            error: 'invalid_grant',
            code: 50034,
            message: `The user account ${username.slice(0, 100)} does not exist in the ${tenantName} directory. To sign into this application, the account must be added to the directory.`,
          });
        }
        if (!samePassword(user.password, form.get('password') ?? '')) {
          this.context.log('warn', `entra: password grant refused for ${user.username}`);
          return fail({
            error: 'invalid_grant',
            code: 50126,
            message: 'Error validating credentials due to invalid username or password.',
          });
        }
        const target = this.tenantFor(user, tenant, directory, clientId);
        if ('error' in target) return fail(target);
        if (this.needsConsent(clientId, user, target.id)) {
          return fail({
            error: 'invalid_grant',
            code: 65001,
            suberror: 'consent_required',
            message: `The user or administrator has not consented to use the application with ID '${clientId}'. Send an interactive authorization request for this user and resource.`,
          });
        }
        return this.issue(res, { user, tenant: target, clientId, scopes, origin, authTime: Math.floor(Date.now() / 1000) });
      }
      case 'authorization_code': {
        const code = this.codes.get(form.get('code') ?? '');
        if (!code || code.clientId !== clientId) {
          return fail({ error: 'invalid_grant', code: 70000, message: "The provided value for the 'code' parameter is not valid." });
        }
        if (code.redeemed) {
          return fail({
            error: 'invalid_grant',
            code: 54005,
            message: 'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.',
          });
        }
        code.redeemed = true;
        if (code.expiresAt < Date.now()) {
          return fail({
            error: 'invalid_grant',
            code: 70008,
            message: 'The provided authorization code or refresh token has expired due to inactivity.',
          });
        }
        if ((form.get('redirect_uri') ?? '') !== code.redirectUri) {
          return fail({
            error: 'invalid_grant',
            code: 50011,
            message: 'The redirect URI specified in the request does not match the redirect URI of the authorization request.',
          });
        }
        const verifier = form.get('code_verifier') ?? '';
        if (
          !/^[A-Za-z0-9\-._~]{43,128}$/.test(verifier) ||
          !sameText(createHash('sha256').update(verifier).digest('base64url'), code.codeChallenge)
        ) {
          return fail({
            error: 'invalid_grant',
            code: 501481,
            message: 'The Code_Verifier does not match the code_challenge supplied in the authorization request.',
          });
        }
        const user = directory.users.find((u) => u.id === code.userId);
        const target = directory.tenants.find((t) => t.id === code.tenantId);
        if (!user || !target) return fail({ error: 'invalid_grant', code: 50034, message: 'The user account no longer exists.' });
        return this.issue(res, { user, tenant: target, clientId, scopes: code.scopes, origin, nonce: code.nonce, authTime: code.authTime });
      }
      case 'refresh_token': {
        const scopes = scopesFrom();
        if ('error' in scopes) return fail(scopes);
        const opened = await this.context.issuer.openRefreshToken(form.get('refresh_token') ?? '', (oid) =>
          directory.users.find((u) => u.id === oid),
        );
        if (opened === 'invalid')
          return fail({ error: 'invalid_grant', code: 9002313, message: 'Invalid request. Request is malformed or invalid.' });
        if (opened === 'expired') {
          return fail({
            error: 'invalid_grant',
            code: 700082,
            message: 'The refresh token has expired due to inactivity.',
            suberror: 'bad_token',
          });
        }
        if (opened === 'revoked') {
          return fail({
            error: 'invalid_grant',
            code: 50173,
            message:
              'The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.',
          });
        }
        if (opened.content.clientId !== clientId) {
          return fail({ error: 'invalid_grant', code: 70000, message: 'The refresh token was issued to a different client.' });
        }
        const target = this.tenantFor(opened.user, tenant, directory, clientId);
        if ('error' in target) return fail(target);
        return this.issue(res, { user: opened.user, tenant: target, clientId, scopes, origin, authTime: opened.content.authTime });
      }
      case 'device_code':
      case 'urn:ietf:params:oauth:grant-type:device_code': {
        const device = this.devices.get(form.get('device_code') ?? '');
        if (!device || device.clientId !== clientId) {
          return fail({ error: 'invalid_grant', code: 70000, message: 'The provided value for the device_code parameter is not valid.' });
        }
        if (device.expiresAt < Date.now()) {
          this.dropDevice(device);
          return fail({ error: 'expired_token', code: 70019, message: 'Verification code expired.' });
        }
        if (device.status === 'pending') {
          return fail({
            error: 'authorization_pending',
            code: 70016,
            message: 'OAuth 2.0 device flow error. Authorization is pending. Continue polling.',
          });
        }
        this.dropDevice(device);
        if (device.status === 'declined') {
          return fail({ error: 'authorization_declined', code: 70000, message: 'The end user declined the authorization request.' });
        }
        const user = directory.users.find((u) => u.id === device.userId);
        const target = directory.tenants.find((t) => t.id === device.tenantId);
        if (!user || !target) return fail({ error: 'invalid_grant', code: 50034, message: 'The user account no longer exists.' });
        return this.issue(res, {
          user,
          tenant: target,
          clientId,
          scopes: device.scopes,
          origin: device.origin,
          authTime: device.authTime!,
        });
      }
      default:
        return fail({
          error: 'unsupported_grant_type',
          code: 70003,
          message: `The app requested an unsupported grant type '${grantType.slice(0, 80)}'.`,
        });
    }
  }

  /** The tenant a token request is for: the one named, which the user must belong to, else the user's home tenant. */
  private tenantFor(user: User, named: Tenant | undefined, directory: AzureDirectory, clientId: string): Tenant | EntraError {
    const member = tenantsOf(directory, user);
    const tenant = named ?? member.find((t) => t.id === user.tenantId);
    if (tenant && member.some((t) => t.id === tenant.id)) return tenant;
    return {
      error: 'invalid_grant',
      code: 50020,
      message: `User account '${user.username}' from identity provider does not exist in tenant '${named?.name ?? '?'}' and cannot access the application '${clientId}' in that tenant. The account needs to be added as an external user in the tenant first.`,
    };
  }

  private async issue(res: ServerResponse, grant: Parameters<TokenIssuer['issue']>[0]): Promise<void> {
    const body = await this.context.issuer.issue(grant);
    sendJson(res, 200, body, { 'x-ms-request-id': newGuid() });
  }

  // ---- logout and errors ----

  private logout(res: ServerResponse, url: URL): void {
    const target = url.searchParams.get('post_logout_redirect_uri');
    if (target && loopbackRedirect(target)) return redirect(res, target);
    sendPage(res, 200, messagePage('You signed out of your account', "It's a good idea to close all browser windows."));
  }

  private sendError(req: IncomingMessage | undefined, res: ServerResponse, origin: string, err: EntraError): void {
    const correlation = header(req, 'client-request-id') ?? newGuid();
    const trace = newGuid();
    const timestamp = entraTimestamp();
    const headers: Record<string, string> = { 'x-ms-request-id': trace };
    if (header(req, 'return-client-request-id') === 'true') headers['client-request-id'] = correlation;
    sendJson(
      res,
      err.status ?? (err.error === 'invalid_client' ? 401 : 400),
      {
        error: err.error,
        error_description: describe(err, trace, correlation, timestamp),
        error_codes: [err.code],
        timestamp,
        trace_id: trace,
        correlation_id: correlation,
        error_uri: `${origin}/error?code=${err.code}`,
        ...(err.suberror ? { suberror: err.suberror } : {}),
      },
      headers,
    );
  }

  private errorPage(res: ServerResponse, err: EntraError): void {
    sendPage(res, 400, messagePage("Sorry, but we're having trouble signing you in.", describe(err, newGuid(), newGuid())));
  }

  private expiredPage(res: ServerResponse): void {
    sendPage(res, 400, messagePage('This sign-in has expired', 'Start the sign-in again from your app or device.'));
  }

  private notFound(res: ServerResponse): void {
    sendJson(res, 404, { error: 'not_found', error_description: 'No such Entra ID endpoint in this emulator.' });
  }

  private methodNotAllowed(res: ServerResponse, allow: string): void {
    res.setHeader('Allow', allow);
    sendJson(res, 405, { error: 'invalid_request', error_description: `Use ${allow}.` });
  }

  // ---- state ----

  private liveFlow(id: string | null | undefined): SignInFlow | undefined {
    const flow = id ? this.flows.get(id) : undefined;
    if (!flow || flow.expiresAt < Date.now()) return undefined;
    return flow;
  }

  private forget(flow: SignInFlow): void {
    this.flows.delete(flow.id);
  }

  private dropDevice(device: DeviceFlow): void {
    this.devices.delete(device.deviceCode);
    this.userCodes.delete(device.userCode);
    this.flows.delete(device.flowId);
  }

  private roomFor(map: Map<string, unknown>): boolean {
    if (map.size < MAX_PENDING) return true;
    this.sweep(true);
    return map.size < MAX_PENDING;
  }

  private sweep(force = false): void {
    const now = Date.now();
    if (!force && now - this.lastSweep < 10_000) return;
    this.lastSweep = now;
    for (const [id, flow] of this.flows) if (flow.expiresAt < now) this.flows.delete(id);
    for (const [id, code] of this.codes) if (code.expiresAt < now) this.codes.delete(id);
    for (const device of this.devices.values()) if (device.expiresAt + 60_000 < now) this.dropDevice(device);
  }
}

function appName(clientId: string): string {
  return PRECONSENTED_CLIENTS.get(clientId) ?? `Application ${clientId}`;
}

function checkClientId(clientId: string): EntraError | undefined {
  if (!clientId)
    return { error: 'invalid_request', code: 900144, message: "The request body must contain the following parameter: 'client_id'." };
  if (!GUID_PATTERN.test(clientId)) {
    return {
      error: 'unauthorized_client',
      code: 700016,
      message: `Application with identifier '${clientId.slice(0, 100)}' was not found in the directory. Client ids are GUIDs.`,
    };
  }
  return undefined;
}

/** http://localhost:PORT[/path] or http://127.0.0.1:PORT (or [::1]), as MSAL's loopback server uses. */
export function loopbackRedirect(uri: string): URL | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' || url.username || url.password || url.hash) return undefined;
  return ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname) ? url : undefined;
}

function samePassword(expected: string, given: string): boolean {
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}

function sameText(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

function header(req: IncomingMessage | undefined, name: string): string | undefined {
  const value = req?.headers[name];
  return typeof value === 'string' && /^[\w-]{1,100}$/.test(value) ? value : undefined;
}

function entraTimestamp(): string {
  return `${new Date()
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, '')}Z`;
}

function describe(err: EntraError, trace: string, correlation: string, timestamp = entraTimestamp()): string {
  return `AADSTS${err.code}: ${err.message} Trace ID: ${trace} Correlation ID: ${correlation} Timestamp: ${timestamp}`;
}
