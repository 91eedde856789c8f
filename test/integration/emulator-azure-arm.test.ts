import { createPrivateKey, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { RelayAPI } from '@azure/arm-relay';
import { SubscriptionClient } from '@azure/arm-resources-subscriptions';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { type AccountInfo, PublicClientApplication } from '@azure/msal-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { armTlsOptions, HttpsNetworkModule } from '../../src/core/azure/https-client.js';
import { parseConnectionString } from '../../src/relay/connection-string.js';
import { type EmulatorAzure, type EmulatorProcess, KEYS, startEmulator, tokenFor } from '../helpers/emulator.js';

/**
 * The emulator's Azure Resource Manager, driven by the real SDKs: @azure/arm-resources-subscriptions
 * (tenants, subscriptions) and @azure/arm-relay (namespaces, Hybrid Connections, rules, listKeys,
 * regenerateKeys), with tokens from @azure/msal-node. Both reach it through configuration alone:
 * the endpoint, the token scope `<ARM>/.default`, and `tlsOptions` that add the emulator's CA to
 * the system roots (armTlsOptions, src/core/azure/https-client.ts). The relay facts ARM reports
 * are live: listeners, keys that work against the relay, and rotation that really rotates.
 */

const CONTOSO = '6f1b3c0e-8a51-4b8e-9d2c-3b6f1d0a7c11';
const FABRIKAM = '0d7e5a44-2b9c-4f11-a2e8-5c3d9e6f8a22';
const SUB_A = '11111111-2222-4333-8444-555555555555';
const SUB_B = '22222222-3333-4444-8555-666666666666';
const SUB_C = '33333333-4444-4555-8666-777777777777';
const ALICE = { username: 'alice@contoso.onmicrosoft.com', password: 'Alice-Pa55word' };
const RITA = { username: 'rita@contoso.onmicrosoft.com', password: 'Rita-Pa55word' };

const rules = [
  { name: 'defaultListener', rights: ['Listen'], primaryKey: KEYS.listen },
  { name: 'defaultSender', rights: ['Send'], primaryKey: KEYS.send },
];
const ns = (name: string, region: string, hybridConnections: Array<Record<string, unknown>> = []) => ({
  name,
  region,
  rules: [{ name: 'RootManageSharedAccessKey', rights: ['Listen', 'Send', 'Manage'], primaryKey: KEYS.root }],
  hybridConnections: hybridConnections.map((hc) => ({ ...hc, rules })),
});

const config = {
  tenants: [
    { id: CONTOSO, name: 'Contoso', domain: 'contoso.onmicrosoft.com' },
    { id: FABRIKAM, name: 'Fabrikam', domain: 'fabrikam.onmicrosoft.com' },
  ],
  users: [
    { ...ALICE, displayName: 'Alice', subscriptions: ['Production', 'Fabrikam Dev'] },
    { ...RITA, displayName: 'Rita Reader', subscriptions: [{ subscription: 'Production', role: 'Reader' }] },
  ],
  subscriptions: [
    {
      id: SUB_A,
      name: 'Production',
      tenant: 'contoso.onmicrosoft.com',
      resourceGroups: [
        { name: 'rg-relay', location: 'westeurope', namespaces: ['ns-one', 'ns-two', 'ns-three'] },
        { name: 'rg-other', location: 'northeurope', namespaces: ['ns-four'] },
      ],
    },
    { id: SUB_B, name: 'Fabrikam Dev', tenant: FABRIKAM, resourceGroups: [{ name: 'rg-fab', namespaces: ['ns-fab'] }] },
    { id: SUB_C, name: 'Hidden', tenant: CONTOSO, resourceGroups: [{ name: 'rg-hidden', namespaces: ['ns-hidden'] }] },
  ],
  namespaces: [
    ns('ns-one', 'westeurope', [
      { name: 'hc-a', endpoint: 'db.internal:5432' },
      { name: 'hc-b', userMetadata: '[{"key":"endpoint","value":"[::1]:6379"},{"key":"owner","value":"ops"}]' },
      { name: 'hc-c', requiresClientAuthorization: false },
    ]),
    ns('ns-two', 'westeurope', [{ name: 'hc-two', endpoint: 'api.internal:443' }]),
    ns('ns-three', 'westeurope'),
    ns('ns-four', 'North Europe'),
    ns('ns-fab', 'eastus', [{ name: 'hc-fab', endpoint: 'fab:1' }]),
    ns('ns-hidden', 'eastus'),
  ],
  webApps: [
    { name: 'orders-web', hybridConnections: ['hc-a', { namespace: 'ns-two', name: 'hc-two' }] },
    { name: 'fab-app', subscription: 'Fabrikam Dev', hybridConnections: ['hc-fab'] },
  ],
};

let emu: EmulatorProcess;
let azure: EmulatorAzure;
let origin: string;
let scope: string;
let caPem: string;
let alice: Account;
let rita: Account;

/** A signed-in MSAL account and a TokenCredential for ARM in any of its tenants. */
interface Account {
  pca: PublicClientApplication;
  account: AccountInfo;
  credential: (tenant?: string) => TokenCredential;
  token: (tenant?: string) => Promise<string>;
}

async function signIn(user: { username: string; password: string }): Promise<Account> {
  const pca = new PublicClientApplication({
    auth: { clientId: azure.clientId, authority: azure.authority, knownAuthorities: [azure.knownAuthority] },
    system: { networkClient: new HttpsNetworkModule({ ca: caPem }) },
  });
  const result = await pca.acquireTokenByUsernamePassword({ scopes: [scope], ...user });
  const account = result!.account!;
  const token = async (tenant?: string, scopes = [scope]): Promise<AccessToken> => {
    // MSAL looks for a cached token by the account's tenant before the authority's: both name the tenant.
    const r = await pca.acquireTokenSilent(
      tenant ? { account: { ...account, tenantId: tenant }, scopes, authority: `${origin}/${tenant}` } : { account, scopes },
    );
    return { token: r.accessToken, expiresOnTimestamp: r.expiresOn!.getTime() };
  };
  return {
    pca,
    account,
    // The SDK asks for the scopes it wants; they go to Entra ID as they are.
    credential: (tenant) => ({ getToken: (scopes) => token(tenant, Array.isArray(scopes) ? scopes : [scopes]) }),
    token: async (tenant) => (await token(tenant)).token,
  };
}

beforeAll(async () => {
  emu = await startEmulator({ config, args: ['--arm-page-size', '2'] });
  azure = emu.azure!;
  origin = azure.arm.replace(/\/$/, '');
  scope = `${origin}/.default`;
  caPem = emu.caPem!;
  alice = await signIn(ALICE);
  rita = await signIn(RITA);
});
afterAll(async () => {
  await emu?.stop();
});

/** Configuration alone: the endpoint (RelayAPI derives its scope from it) and the CA on top of the system roots. */
function relayClient(who: Account, subscription: string, tenant?: string, apiVersion?: string): RelayAPI {
  return new RelayAPI(who.credential(tenant), subscription, {
    endpoint: origin,
    tlsOptions: armTlsOptions({ ca: caPem }),
    ...(apiVersion ? { apiVersion } : {}),
  });
}

function subscriptionClient(who: Account, tenant?: string): SubscriptionClient {
  // This SDK's token scope does not follow its endpoint: it must be given (credentials.scopes).
  return new SubscriptionClient(who.credential(tenant), {
    endpoint: origin,
    credentials: { scopes: [scope] },
    tlsOptions: armTlsOptions({ ca: caPem }),
  });
}

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

async function failure(p: Promise<unknown>): Promise<{ statusCode?: number; code?: string; message: string }> {
  return p.then(
    () => {
      throw new Error('expected a failure');
    },
    (err: unknown) => err as { statusCode?: number; code?: string; message: string },
  );
}

interface ArmAnswer {
  status: number;
  headers: import('node:http').IncomingHttpHeaders;
  json: Record<string, unknown>;
}

/** A raw ARM request (path or absolute URL), with a bearer token unless `authorization` says otherwise. */
async function arm(
  path: string,
  options: { method?: string; token?: string; authorization?: string | null; body?: unknown } = {},
): Promise<ArmAnswer> {
  const url = new URL(path, origin);
  const authorization = options.authorization === undefined ? `Bearer ${options.token ?? (await alice.token())}` : options.authorization;
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: options.method ?? 'GET',
        ca: caPem,
        headers: { ...(authorization ? { Authorization: authorization } : {}), ...(body ? { 'Content-Type': 'application/json' } : {}) },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString('utf8')));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function expectArmError(answer: ArmAnswer, status: number, code: string): string {
  expect(answer.status).toBe(status);
  expect(Object.keys(answer.json)).toEqual(['error']);
  const error = answer.json.error as { code: string; message: string };
  expect(error.code).toBe(code);
  expect(error.message.length).toBeGreaterThan(10);
  return error.message;
}

/** The host the relay serves a Hybrid Connection's namespace at, as its ready-line connection string says. */
const relayHost = (hc: string) => parseConnectionString(emu.hybridConnections[hc]!.listen).host;

/** Names under .localhost are loopback (RFC 6761), whatever the system resolver thinks of them. */
const loopbackLookup = (
  hostname: string,
  options: { all?: boolean },
  callback: (err: Error | null, address: string | Array<{ address: string; family: number }>, family?: number) => void,
) => {
  if (hostname !== 'localhost' && !hostname.endsWith('.localhost')) return callback(new Error(`unexpected host ${hostname}`), '');
  if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
  else callback(null, '127.0.0.1', 4);
};

/** A raw listener control channel (docs/protocol.md §4) with a connection string's key. */
async function listen(connectionString: string): Promise<WebSocket> {
  const cs = parseConnectionString(connectionString);
  const token = tokenFor(connectionString);
  const ws = new WebSocket(
    `wss://${cs.host}:${cs.port}/$hc/${cs.entityPath}?sb-hc-action=listen&sb-hc-id=${randomUUID()}&sb-hc-token=${encodeURIComponent(token)}`,
    { ca: caPem, perMessageDeflate: false, lookup: loopbackLookup },
  );
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`listen refused: HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

describe('tenants and subscriptions (@azure/arm-resources-subscriptions)', () => {
  it('lists the tenants the user belongs to and the subscriptions it sees in each', async () => {
    const tenants = await all(subscriptionClient(alice).tenants.list());
    expect(tenants.map((t) => t.tenantId).sort()).toEqual([FABRIKAM, CONTOSO].sort());
    expect(tenants.find((t) => t.tenantId === CONTOSO)).toMatchObject({
      id: `/tenants/${CONTOSO}`,
      displayName: 'Contoso',
      defaultDomain: 'contoso.onmicrosoft.com',
      tenantType: 'AAD',
    });

    const contoso = await all(subscriptionClient(alice).subscriptions.list());
    expect(contoso.map((s) => [s.subscriptionId, s.displayName, s.state, s.tenantId])).toEqual([[SUB_A, 'Production', 'Enabled', CONTOSO]]);
    expect(contoso[0]!.id).toBe(`/subscriptions/${SUB_A}`);
    // A token from the other tenant (MSAL redeems the refresh token there) shows that tenant's subscriptions.
    const fabrikam = await all(subscriptionClient(alice, FABRIKAM).subscriptions.list());
    expect(fabrikam.map((s) => s.subscriptionId)).toEqual([SUB_B]);

    expect((await subscriptionClient(alice).subscriptions.get(SUB_A)).displayName).toBe('Production');
    const hidden = await failure(subscriptionClient(alice).subscriptions.get(SUB_C));
    expect(hidden.statusCode).toBe(404);
    expect(hidden.code).toBe('SubscriptionNotFound');
    const groups = await arm(`/subscriptions/${SUB_A}/resourcegroups?api-version=2021-04-01`);
    expect((groups.json.value as Array<{ name: string }>).map((g) => g.name)).toEqual(['rg-relay', 'rg-other']);
  });
});

describe('Microsoft.Relay (@azure/arm-relay)', () => {
  it('lists namespaces by subscription and by resource group, following nextLink pages', async () => {
    const relay = relayClient(alice, SUB_A);
    const namespaces = await all(relay.namespaces.list());
    expect(namespaces.map((n) => n.name)).toEqual(['ns-one', 'ns-two', 'ns-three', 'ns-four']);
    const one = namespaces[0]!;
    expect(one).toMatchObject({
      id: `/subscriptions/${SUB_A}/resourceGroups/rg-relay/providers/Microsoft.Relay/namespaces/ns-one`,
      type: 'Microsoft.Relay/Namespaces',
      location: 'West Europe',
      sku: { name: 'Standard', tier: 'Standard' },
      provisioningState: 'Succeeded',
      serviceBusEndpoint: `https://${relayHost('hc-a')}:${emu.port}/`,
      metricId: `${SUB_A}:ns-one`,
    });
    expect(one.createdAt).toBeInstanceOf(Date);
    expect(namespaces[3]!.location).toBe('North Europe');
    expect((await all(relay.namespaces.listByResourceGroup('rg-relay'))).map((n) => n.name)).toEqual(['ns-one', 'ns-two', 'ns-three']);
    expect((await relay.namespaces.get('RG-RELAY', 'NS-TWO')).name).toBe('ns-two');

    // The pages themselves: two items, an absolute nextLink keeping the api-version, and the rest.
    const first = await arm(`/subscriptions/${SUB_A}/providers/Microsoft.Relay/namespaces?api-version=2017-04-01`);
    expect((first.json.value as unknown[]).length).toBe(2);
    const nextLink = first.json.nextLink as string;
    expect(nextLink.startsWith(`${origin}/subscriptions/${SUB_A}/providers/Microsoft.Relay/namespaces?`)).toBe(true);
    expect(new URL(nextLink).searchParams.get('api-version')).toBe('2017-04-01');
    expect(new URL(nextLink).searchParams.get('$skiptoken')).toBeTruthy();
    const second = await arm(nextLink);
    expect((second.json.value as Array<{ name: string }>).map((n) => n.name)).toEqual(['ns-three', 'ns-four']);
    expect(second.json.nextLink).toBeUndefined();
    const tampered = new URL(nextLink);
    tampered.searchParams.set('$skiptoken', Buffer.from('not-a-token').toString('base64url'));
    expectArmError(await arm(tampered.href), 400, 'InvalidSkipToken');
  });

  it('lists Hybrid Connections with their metadata string and a live listener count', async () => {
    const relay = relayClient(alice, SUB_A);
    const hcs = await all(relay.hybridConnections.listByNamespace('rg-relay', 'ns-one'));
    expect(hcs.map((h) => h.name)).toEqual(['hc-a', 'hc-b', 'hc-c']);
    expect(hcs[0]).toMatchObject({
      id: `/subscriptions/${SUB_A}/resourceGroups/rg-relay/providers/Microsoft.Relay/namespaces/ns-one/HybridConnections/hc-a`,
      type: 'Microsoft.Relay/Namespaces/HybridConnections',
      listenerCount: 0,
      requiresClientAuthorization: true,
      userMetadata: '[{"key":"endpoint","value":"db.internal:5432"}]',
    });
    expect(typeof hcs[1]!.userMetadata).toBe('string');
    expect(JSON.parse(hcs[1]!.userMetadata!)).toEqual([
      { key: 'endpoint', value: '[::1]:6379' },
      { key: 'owner', value: 'ops' },
    ]);
    expect(hcs[2]!.userMetadata).toBeUndefined();
    expect(hcs[2]!.requiresClientAuthorization).toBe(false);

    const keys = await relay.hybridConnections.listKeys('rg-relay', 'ns-one', 'hc-a', 'defaultListener');
    const listener = await listen(keys.primaryConnectionString!);
    try {
      expect((await relay.hybridConnections.get('rg-relay', 'ns-one', 'hc-a')).listenerCount).toBe(1);
      const second = await listen(keys.primaryConnectionString!);
      expect((await relay.hybridConnections.get('rg-relay', 'ns-one', 'hc-a')).listenerCount).toBe(2);
      second.close();
      await once(second, 'close');
    } finally {
      listener.close();
      await once(listener, 'close');
    }
    await expect.poll(async () => (await relay.hybridConnections.get('rg-relay', 'ns-one', 'hc-a')).listenerCount).toBe(0);
  });

  it('lists rules and keys whose connection strings work against the relay', async () => {
    const relay = relayClient(alice, SUB_A);
    const hcRules = await all(relay.hybridConnections.listAuthorizationRules('rg-relay', 'ns-two', 'hc-two'));
    expect(hcRules.map((r) => [r.name, r.rights])).toEqual([
      ['defaultListener', ['Listen']],
      ['defaultSender', ['Send']],
    ]);
    expect(hcRules[0]!.id).toBe(
      `/subscriptions/${SUB_A}/resourceGroups/rg-relay/providers/Microsoft.Relay/namespaces/ns-two/HybridConnections/hc-two/authorizationRules/defaultListener`,
    );
    expect(hcRules[0]!.type).toBe('Microsoft.Relay/Namespaces/HybridConnections/AuthorizationRules');
    const nsRules = await all(relay.namespaces.listAuthorizationRules('rg-relay', 'ns-two'));
    expect(nsRules.map((r) => [r.name, r.rights, r.type])).toEqual([
      ['RootManageSharedAccessKey', ['Listen', 'Send', 'Manage'], 'Microsoft.Relay/Namespaces/AuthorizationRules'],
    ]);
    expect((await relay.hybridConnections.getAuthorizationRule('rg-relay', 'ns-two', 'hc-two', 'defaultSender')).rights).toEqual(['Send']);

    const keys = await relay.hybridConnections.listKeys('rg-relay', 'ns-two', 'hc-two', 'defaultListener');
    expect(keys.keyName).toBe('defaultListener');
    expect(keys.primaryKey).toBe(KEYS.listen);
    expect(keys.primaryConnectionString).toBe(emu.hybridConnections['hc-two']!.listen);
    expect(keys.secondaryConnectionString).toContain(`SharedAccessKey=${keys.secondaryKey};EntityPath=hc-two`);
    (await listen(keys.secondaryConnectionString!)).terminate();

    const nsKeys = await relay.namespaces.listKeys('rg-relay', 'ns-two', 'RootManageSharedAccessKey');
    expect(nsKeys.primaryConnectionString).toBe(
      `Endpoint=sb://${relayHost('hc-two')}:${emu.port}/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=${KEYS.root}`,
    );
    // A namespace rule's string names no entity; with one added it listens like the entity's own.
    (await listen(`${nsKeys.primaryConnectionString};EntityPath=hc-two`)).terminate();
  });

  it('regenerateKeys rotates for real: the old key is refused, even at a listener token renewal', async () => {
    const relay = relayClient(alice, SUB_A);
    const before = await relay.hybridConnections.listKeys('rg-relay', 'ns-one', 'hc-c', 'defaultListener');
    const old = await listen(before.primaryConnectionString!);
    const closed = once(old, 'close');

    const after = await relay.hybridConnections.regenerateKeys('rg-relay', 'ns-one', 'hc-c', 'defaultListener', { keyType: 'PrimaryKey' });
    expect(after.primaryKey).not.toBe(before.primaryKey);
    expect(after.primaryKey).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(after.secondaryKey).toBe(before.secondaryKey);
    expect((await relay.hybridConnections.listKeys('rg-relay', 'ns-one', 'hc-c', 'defaultListener')).primaryKey).toBe(after.primaryKey);

    await expect(listen(before.primaryConnectionString!)).rejects.toThrow('HTTP 401');
    (await listen(after.primaryConnectionString!)).terminate();
    (await listen(after.secondaryConnectionString!)).terminate();

    // The channel opened with the old key stays until its token is renewed; a renewal signed with the old key ends it.
    old.send(JSON.stringify({ renewToken: { token: tokenFor(before.primaryConnectionString!) } }));
    const [code] = (await closed) as [number];
    expect(code).toBe(1008);

    // A namespace rule, with a key given.
    const given = Buffer.alloc(32, 7).toString('base64');
    const nsAfter = await relay.namespaces.regenerateKeys('rg-relay', 'ns-three', 'RootManageSharedAccessKey', {
      keyType: 'SecondaryKey',
      key: given,
    });
    expect(nsAfter.secondaryKey).toBe(given);
    expect(nsAfter.primaryKey).toBe(KEYS.root);
    const bad = await arm(
      `/subscriptions/${SUB_A}/resourceGroups/rg-relay/providers/Microsoft.Relay/namespaces/ns-three/authorizationRules/RootManageSharedAccessKey/regenerateKeys?api-version=2017-04-01`,
      { method: 'POST', body: { keyType: 'TertiaryKey' } },
    );
    expectArmError(bad, 400, 'BadRequest');
  });

  it('answers under every published API version, and says which when the version is unknown or missing', async () => {
    const path = `/subscriptions/${SUB_A}/resourceGroups/rg-relay/providers/Microsoft.Relay/namespaces/ns-one`;
    for (const version of ['2016-07-01', '2017-04-01', '2021-11-01']) {
      const answer = await arm(`${path}?api-version=${version}`);
      expect(answer.status, version).toBe(200);
      expect((answer.json.properties as Record<string, unknown>).status).toBe(version === '2021-11-01' ? 'Active' : undefined);
      const hcs = await arm(`${path}/hybridConnections?api-version=${version}`);
      expect((hcs.json.value as unknown[]).length, version).toBe(2);
    }
    // The SDK's own api-version override.
    const newer = relayClient(alice, SUB_A, undefined, '2021-11-01');
    expect((await all(newer.hybridConnections.listByNamespace('rg-relay', 'ns-one'))).length).toBe(3);

    const unknown = expectArmError(await arm(`${path}?api-version=2099-01-01`), 400, 'NoRegisteredProviderFound');
    expect(unknown).toContain('2016-07-01, 2017-04-01');
    expect(unknown).toContain('2021-11-01');
    expectArmError(await arm(path), 400, 'MissingApiVersionParameter');
    expectArmError(await arm('/tenants?api-version=1999-01-01'), 400, 'InvalidApiVersionParameter');
  });

  it('answers 429 with Retry-After when told to, and the SDK waits and retries', async () => {
    const hook = await arm('/$emulator/arm/throttle?requests=1&retryAfter=1', { method: 'POST' });
    expect(hook.json).toEqual({ throttledRequests: 1, retryAfterSeconds: 1 });
    const throttled = await arm(`/subscriptions/${SUB_A}/providers/Microsoft.Relay/namespaces?api-version=2017-04-01`);
    expectArmError(throttled, 429, 'SubscriptionRequestsThrottled');
    expect(throttled.headers['retry-after']).toBe('1');

    await arm('/$emulator/arm/throttle?requests=2&retryAfter=1', { method: 'POST' });
    const started = Date.now();
    const namespaces = await all(relayClient(alice, SUB_A).namespaces.listByResourceGroup('rg-other'));
    expect(namespaces.map((n) => n.name)).toEqual(['ns-four']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect((await arm(`/subscriptions/${SUB_A}/resourcegroups?api-version=2021-04-01`)).status).toBe(200);
  });
});

describe('authentication and authorization', () => {
  /** A token like the emulator's, with claims changed, signed with `key` (the emulator's own from its state directory by default). */
  async function forged(
    change: Record<string, unknown>,
    key = createPrivateKey(readFileSync(join(emu.stateDir, 'entra-signing-key.pem'))),
  ): Promise<string> {
    const [h, p] = (await alice.token()).split('.') as [string, string];
    const claims = { ...JSON.parse(Buffer.from(p, 'base64url').toString()), ...change } as Record<string, unknown>;
    const body = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    return `${body}.${sign('sha256', Buffer.from(body), key).toString('base64url')}`;
  }

  it('401 without a token, or with a bad, foreign, expired or misaddressed one', async () => {
    const path = `/subscriptions/${SUB_A}/providers/Microsoft.Relay/namespaces?api-version=2017-04-01`;
    const missing = await arm(path, { authorization: null });
    expect(expectArmError(missing, 401, 'AuthenticationFailed')).toContain("'Authorization' header is missing");
    expect(missing.headers['www-authenticate']).toMatch(
      /^Bearer authorization_uri="https:\/\/127\.0\.0\.1:\d+\/common", error="invalid_token"/,
    );
    expectArmError(await arm(path, { authorization: 'Basic YWxpY2U6cHc=' }), 401, 'AuthenticationFailed');
    expectArmError(await arm(path, { token: 'not.a.jwt' }), 401, 'InvalidAuthenticationToken');

    // The emulator's key accepts a token it signed (the forging is faithful) ...
    expect((await arm(path, { token: await forged({}) })).status).toBe(200);
    // ... but not one signed by another key, an expired one, or one for another audience.
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    expectArmError(await arm(path, { token: await forged({}, otherKey) }), 401, 'InvalidAuthenticationToken');
    const now = Math.floor(Date.now() / 1000);
    const expired = await arm(path, { token: await forged({ iat: now - 7200, nbf: now - 7200, exp: now - 3600 }) });
    expect(expectArmError(expired, 401, 'ExpiredAuthenticationToken')).toMatch(
      /^The access token expiry UTC time '.+' is earlier than current UTC time '.+'\.$/,
    );
    const wrongAudience = await arm(path, { token: await forged({ aud: 'https://management.azure.com/' }) });
    expect(expectArmError(wrongAudience, 401, 'InvalidAuthenticationTokenAudience')).toContain(
      "wrong audience or resource 'https://management.azure.com/'",
    );
    // A real token for another resource (only OpenID scopes: Microsoft Graph) is refused the same way.
    const graph = await alice.pca.acquireTokenSilent({ account: alice.account, scopes: ['openid', 'profile'] });
    expectArmError(await arm(path, { token: graph.accessToken }), 401, 'InvalidAuthenticationTokenAudience');
    expectArmError(
      await arm(path, { token: await forged({ iss: 'https://login.microsoftonline.com/x/' }) }),
      401,
      'InvalidAuthenticationTokenTenant',
    );

    // A Contoso token for a Fabrikam subscription: the challenge names the right authority.
    const crossTenant = await arm(`/subscriptions/${SUB_B}/providers/Microsoft.Relay/namespaces?api-version=2017-04-01`);
    expectArmError(crossTenant, 401, 'InvalidAuthenticationTokenTenant');
    expect(crossTenant.headers['www-authenticate']).toContain(`authorization_uri="${origin}/${FABRIKAM}"`);
    const viaSdk = await failure(all(relayClient(alice, SUB_B).namespaces.list()));
    expect(viaSdk.statusCode).toBe(401);
    expect(viaSdk.code).toBe('InvalidAuthenticationTokenTenant');
    expect((await all(relayClient(alice, SUB_B, FABRIKAM).namespaces.list())).map((n) => n.name)).toEqual(['ns-fab']);
  });

  it('403 AuthorizationFailed for a subscription the user cannot see, and for keys a Reader may not read', async () => {
    const hidden = await failure(all(relayClient(alice, SUB_C).namespaces.list()));
    expect(hidden.statusCode).toBe(403);
    expect(hidden.code).toBe('AuthorizationFailed');
    expect(hidden.message).toContain(`'Microsoft.Relay/namespaces/read' over scope '/subscriptions/${SUB_C}'`);

    const reader = relayClient(rita, SUB_A);
    expect((await all(reader.hybridConnections.listByNamespace('rg-relay', 'ns-one'))).length).toBe(3);
    const keys = await failure(reader.hybridConnections.listKeys('rg-relay', 'ns-one', 'hc-a', 'defaultListener'));
    expect(keys.statusCode).toBe(403);
    expect(keys.code).toBe('AuthorizationFailed');
    expect(keys.message).toContain('listkeys/action');
    const regenerate = await failure(
      reader.namespaces.regenerateKeys('rg-relay', 'ns-one', 'RootManageSharedAccessKey', { keyType: 'PrimaryKey' }),
    );
    expect(regenerate.statusCode).toBe(403);
    expect((await all(subscriptionClient(rita).subscriptions.list())).map((s) => s.subscriptionId)).toEqual([SUB_A]);
  });

  it('404 with ARM error bodies for what does not exist, and 405 for what the emulator does not do', async () => {
    const relay = relayClient(alice, SUB_A);
    const missingNs = await failure(relay.namespaces.get('rg-relay', 'nope'));
    expect([missingNs.statusCode, missingNs.code]).toEqual([404, 'ResourceNotFound']);
    const missingGroup = await failure(all(relay.namespaces.listByResourceGroup('rg-nope')));
    expect([missingGroup.statusCode, missingGroup.code]).toEqual([404, 'ResourceGroupNotFound']);
    const missingHc = await failure(relay.hybridConnections.get('rg-relay', 'ns-one', 'nope'));
    expect([missingHc.statusCode, missingHc.code]).toEqual([404, 'ResourceNotFound']);
    const missingRule = await failure(relay.hybridConnections.listKeys('rg-relay', 'ns-one', 'hc-a', 'nope'));
    expect([missingRule.statusCode, missingRule.code]).toEqual([404, 'ResourceNotFound']);
    const missingSub = await failure(all(relayClient(alice, randomUUID()).namespaces.list()));
    expect([missingSub.statusCode, missingSub.code]).toEqual([404, 'SubscriptionNotFound']);
    expectArmError(await arm(`/subscriptions/${SUB_A}/providers/Microsoft.Nope/things?api-version=2017-04-01`), 404, 'InvalidResourceType');
    expectArmError(
      await arm(`/subscriptions/${SUB_A}/resourceGroups/rg-relay/providers/Microsoft.Relay/namespaces/ns-one?api-version=2017-04-01`, {
        method: 'DELETE',
      }),
      405,
      'MethodNotAllowed',
    );
  });
});

describe('App Service apps (Microsoft.Web)', () => {
  it('lists sites and the Hybrid Connections each one uses', async () => {
    const sites = await arm(`/subscriptions/${SUB_A}/providers/Microsoft.Web/sites?api-version=2022-03-01`);
    const value = sites.json.value as Array<{ id: string; name: string; type: string; kind: string; location: string }>;
    expect(value.map((s) => [s.name, s.type, s.kind, s.location])).toEqual([['orders-web', 'Microsoft.Web/sites', 'app', 'West Europe']]);
    const site = value[0]!;
    expect(site.id).toBe(`/subscriptions/${SUB_A}/resourceGroups/rg-relay/providers/Microsoft.Web/sites/orders-web`);

    const relays = await arm(`${site.id}/hybridConnectionRelays?api-version=2022-03-01`);
    const bindings = relays.json.value as Array<{ id: string; type: string; properties: Record<string, unknown> }>;
    const hcA = await relayClient(alice, SUB_A).hybridConnections.get('rg-relay', 'ns-one', 'hc-a');
    expect(bindings[0]).toEqual({
      id: `${site.id}/hybridConnectionNamespaces/ns-one/relays/hc-a`,
      name: 'hc-a',
      type: 'Microsoft.Web/sites/hybridConnectionNamespaces/relays',
      location: 'West Europe',
      properties: {
        serviceBusNamespace: 'ns-one',
        relayName: 'hc-a',
        relayArmUri: hcA.id,
        hostname: 'db.internal',
        port: 5432,
        sendKeyName: 'defaultSender',
        serviceBusSuffix: '.localhost',
      },
    });
    expect(bindings[1]!.properties).toMatchObject({
      serviceBusNamespace: 'ns-two',
      relayName: 'hc-two',
      hostname: 'api.internal',
      port: 443,
    });
    const one = await arm(`${site.id}/hybridConnectionNamespaces/ns-two/relays/hc-two?api-version=2022-03-01`);
    expect(one.json).toEqual(bindings[1]);

    expect(
      (await arm(`/subscriptions/${SUB_A}/resourceGroups/rg-other/providers/Microsoft.Web/sites?api-version=2022-03-01`)).json.value,
    ).toEqual([]);
    const fab = await arm(`/subscriptions/${SUB_B}/providers/Microsoft.Web/sites?api-version=2022-03-01`, {
      token: await alice.token(FABRIKAM),
    });
    expect((fab.json.value as Array<{ name: string }>).map((s) => s.name)).toEqual(['fab-app']);
  });
});

describe('defaults and restarts', () => {
  it('with no config: a demo tenant, user, subscription, namespace and app; ids and tokens survive a restart', async () => {
    const first = await startEmulator();
    let restarted: EmulatorProcess | undefined;
    try {
      const demo = first.azure!;
      expect(demo.tenants).toEqual([{ id: demo.tenantId, domain: 'emulator.onmicrosoft.com', name: 'Emulator Directory' }]);
      expect(demo.users.map((u) => u.username)).toEqual(['admin@emulator.onmicrosoft.com']);
      expect(demo.authority).toBe(`${demo.arm}${demo.tenantId}`);
      expect(demo.arm).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
      expect(demo.knownAuthority).toBe(new URL(demo.arm).host);
      const demoOrigin = demo.arm.replace(/\/$/, '');
      const pca = new PublicClientApplication({
        auth: { clientId: demo.clientId, authority: demo.authority, knownAuthorities: [demo.knownAuthority] },
        system: { networkClient: new HttpsNetworkModule({ ca: first.caPem! }) },
      });
      const result = (await pca.acquireTokenByUsernamePassword({ scopes: [`${demoOrigin}/.default`], ...demo.users[0]! }))!;
      const credential: TokenCredential = {
        getToken: async () => ({ token: result.accessToken, expiresOnTimestamp: result.expiresOn!.getTime() }),
      };
      const tls = armTlsOptions({ ca: first.caPem! });
      const subs = await all(
        new SubscriptionClient(credential, {
          endpoint: demoOrigin,
          credentials: { scopes: [`${demoOrigin}/.default`] },
          tlsOptions: tls,
        }).subscriptions.list(),
      );
      expect(subs.map((s) => s.displayName)).toEqual(['Emulator Subscription']);
      const relay = new RelayAPI(credential, subs[0]!.subscriptionId!, { endpoint: demoOrigin, tlsOptions: tls });
      const namespaces = await all(relay.namespaces.list());
      expect(namespaces.map((n) => [n.name, n.location, n.id!.split('/')[4]])).toEqual([['demo', 'West US', 'relay-emulator']]);
      const keys = await relay.hybridConnections.listKeys('relay-emulator', 'demo', 'demo-hc', 'defaultListener');
      expect(keys.primaryConnectionString).toBe(first.hybridConnections['demo-hc']!.listen);

      const port = new URL(demo.arm).port;
      await first.stop();
      restarted = await startEmulator({ stateDir: first.stateDir, args: ['--azure-port', port] });
      expect(restarted.azure!.tenantId).toBe(demo.tenantId);
      // The signing key is kept in the state directory: a token from before the restart still works.
      const again = new RelayAPI(credential, subs[0]!.subscriptionId!, {
        endpoint: demoOrigin,
        tlsOptions: armTlsOptions({ ca: restarted.caPem! }),
      });
      expect((await all(again.namespaces.list())).map((n) => n.name)).toEqual(['demo']);
    } finally {
      await first.stop();
      await restarted?.stop();
    }
  });

  it('refuses a config whose directory does not add up, naming the place', async () => {
    const { runEmulatorToExit } = await import('../helpers/emulator.js');
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'hcm-emu-bad-'));
    const file = join(dir, 'emulator.json');
    writeFileSync(
      file,
      JSON.stringify({
        namespaces: [ns('ns-x', 'westus'), ns('ns-y', 'westus')],
        subscriptions: [{ name: 'S', tenant: 'nowhere.onmicrosoft.com', resourceGroups: [{ name: 'rg', namespaces: ['ns-x', 'ns-z'] }] }],
        users: [{ username: 'u@x.com', subscriptions: ['T'] }],
      }),
    );
    const result = await runEmulatorToExit(['--config', file, '--state-dir', dir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('subscriptions.0.tenant: no tenant "nowhere.onmicrosoft.com"');
    expect(result.stderr).toContain('subscriptions.0.resourceGroups.0.namespaces.1: no namespace "ns-z"');
    expect(result.stderr).toContain('namespace "ns-y" is in no resource group');
    expect(result.stderr).toContain('users.0.subscriptions.0: no subscription "T"');
  });
});
