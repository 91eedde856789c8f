import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EmulatorHybridConnection, EmulatorNamespace, EmulatorRule } from '../config.js';
import { generateKey } from '../config.js';
import type { EmulatorLog } from '../context.js';
import {
  HYBRID_CONNECTION_RULE_TYPE,
  NAMESPACE_RULE_TYPE,
  RELAY_OPERATIONS,
  hybridConnectionId,
  hybridConnectionJson,
  keysJson,
  namespaceId,
  namespaceJson,
  resourceGroupJson,
  ruleJson,
  siteJson,
  siteRelayJson,
  subscriptionJson,
  tenantJson,
} from './arm-resources.js';
import { type AzureDirectory, type ResourceGroup, type Subscription, type User, tenantsOf } from './directory.js';
import { RequestBodyError, readBody, sendJson } from './http.js';
import { newGuid } from './ids.js';
import { type SigningKey, verifyJwt } from './jwt.js';
import type { RelayFacts } from './relay-facts.js';

/**
 * The subset of Azure Resource Manager the app uses (docs/protocol.md §9): tenants and
 * subscriptions (Microsoft.Resources), resource groups, Microsoft.Relay namespaces, Hybrid
 * Connections, authorization rules, listKeys and regenerateKeys under each published Relay API
 * version, and Microsoft.Web sites with their Hybrid Connection bindings. Every request carries
 * an Entra ID access token for this ARM endpoint (signature, audience, issuer and expiry are
 * checked); a user sees the subscriptions of the token's tenant the directory gives it, and a
 * Reader cannot list or regenerate keys. Lists page with an absolute nextLink; errors have
 * ARM's {"error":{"code","message"}} shape; a test hook makes the next requests answer 429.
 */

export interface ArmContext {
  relay: RelayFacts;
  signingKey(): Promise<SigningKey>;
  /** https://host:port origins this server answers as (token audiences and issuers use them). */
  origins(): string[];
  pageSize: number;
  log: EmulatorLog;
}

export const RELAY_API_VERSIONS = ['2016-07-01', '2017-04-01', '2018-01-01-preview', '2021-11-01', '2024-01-01'];
export const RESOURCES_API_VERSIONS = [
  '2014-04-01',
  '2014-04-01-preview',
  '2015-01-01',
  '2015-11-01',
  '2016-02-01',
  '2016-06-01',
  '2016-09-01',
  '2017-05-10',
  '2018-02-01',
  '2018-05-01',
  '2018-06-01',
  '2019-05-01',
  '2019-06-01',
  '2019-07-01',
  '2019-08-01',
  '2019-10-01',
  '2019-11-01',
  '2020-01-01',
  '2020-06-01',
  '2020-08-01',
  '2020-10-01',
  '2021-01-01',
  '2021-04-01',
  '2022-01-01',
  '2022-09-01',
  '2022-12-01',
  '2023-07-01',
  '2024-03-01',
  '2024-07-01',
  '2024-11-01',
  '2025-01-01',
];
export const WEB_API_VERSIONS = [
  '2015-08-01',
  '2016-03-01',
  '2016-08-01',
  '2016-09-01',
  '2018-02-01',
  '2018-11-01',
  '2019-08-01',
  '2020-06-01',
  '2020-09-01',
  '2020-10-01',
  '2020-12-01',
  '2021-01-01',
  '2021-01-15',
  '2021-02-01',
  '2021-03-01',
  '2022-03-01',
  '2022-09-01',
  '2023-01-01',
  '2023-12-01',
  '2024-04-01',
  '2024-11-01',
  '2025-03-01',
];

/** Clock skew ARM allows on token expiry. */
const SKEW_SECONDS = 300;

interface Principal {
  user: User;
  tenantId: string;
}

class ArmError {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly message: string,
    readonly challenge?: string,
  ) {}
}

type Route = (principal: Principal) => Promise<void> | void;

export class Arm {
  private throttle = { remaining: 0, retryAfterSeconds: 1 };

  constructor(private readonly context: ArmContext) {}

  async serve(req: IncomingMessage, res: ServerResponse, url: URL, origin: string): Promise<void> {
    const requestId = newGuid();
    const correlation = /^[\w-]{1,100}$/.test(String(req.headers['x-ms-correlation-request-id'] ?? ''))
      ? String(req.headers['x-ms-correlation-request-id'])
      : requestId;
    const headers = { 'x-ms-request-id': requestId, 'x-ms-correlation-request-id': correlation };
    const answer = (status: number, body: unknown, extra: Record<string, string> = {}) =>
      sendJson(res, status, body, { ...headers, 'x-ms-ratelimit-remaining-subscription-reads': '11999', ...extra });
    try {
      const principal = await this.authenticate(req);
      if (url.pathname === '/$emulator/arm/throttle') return this.setThrottle(req, url, answer);
      if (this.throttle.remaining > 0) {
        this.throttle.remaining--;
        const seconds = this.throttle.retryAfterSeconds;
        return answer(
          429,
          armError(
            'SubscriptionRequestsThrottled',
            `Number of requests for subscription actor '${principal.user.id}' exceeded. Please try again after '${seconds}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling`,
          ),
          { 'Retry-After': String(seconds), 'x-ms-ratelimit-remaining-subscription-reads': '0' },
        );
      }
      const route = this.route(req, url, origin, answer);
      await route(principal);
    } catch (err) {
      if (err instanceof ArmError) {
        const extra: Record<string, string> = {};
        if (err.status === 401) {
          extra['WWW-Authenticate'] =
            `Bearer authorization_uri="${err.challenge ?? `${origin}/common`}", error="invalid_token", error_description="${err.message.replace(/"/g, "'")}"`;
        }
        return answer(err.status, armError(err.code, err.message), extra);
      }
      if (err instanceof RequestBodyError) return answer(err.status, armError('InvalidRequestContent', err.message));
      throw err;
    }
  }

  // ---- authentication ----

  private async authenticate(req: IncomingMessage): Promise<Principal> {
    const header = req.headers.authorization;
    if (!header) throw new ArmError(401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.");
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m)
      throw new ArmError(
        401,
        'AuthenticationFailed',
        "Authentication failed. The 'Authorization' header is provided in an invalid format.",
      );
    const check = verifyJwt(m[1]!, [await this.context.signingKey()]);
    if (!check.ok) throw new ArmError(401, 'InvalidAuthenticationToken', 'The access token is invalid.');
    const c = check.claims;
    const now = Math.floor(Date.now() / 1000);
    if (typeof c.exp !== 'number' || typeof c.aud !== 'string' || typeof c.iss !== 'string' || typeof c.tid !== 'string') {
      throw new ArmError(401, 'InvalidAuthenticationToken', 'The access token is invalid.');
    }
    if (c.exp + SKEW_SECONDS < now) {
      throw new ArmError(
        401,
        'ExpiredAuthenticationToken',
        `The access token expiry UTC time '${armTime(c.exp)}' is earlier than current UTC time '${armTime(now)}'.`,
      );
    }
    if (typeof c.nbf === 'number' && c.nbf - SKEW_SECONDS > now) {
      throw new ArmError(401, 'InvalidAuthenticationToken', `The access token is not valid before '${armTime(c.nbf)}'.`);
    }
    const audiences = this.context.origins().flatMap((o) => [o, `${o}/`]);
    if (!audiences.includes(c.aud)) {
      throw new ArmError(
        401,
        'InvalidAuthenticationTokenAudience',
        `The access token has been obtained for wrong audience or resource '${c.aud}'. It should exactly match with one of the allowed audiences '${audiences.join("','")}'.`,
      );
    }
    const directory = this.context.relay.config().azure;
    const tenant = directory.tenants.find((t) => t.id === c.tid);
    const issuers = this.context.origins().flatMap((o) => [`${o}/${c.tid}/`, `${o}/${c.tid}/v2.0`]);
    if (!tenant || !issuers.includes(c.iss)) {
      throw new ArmError(401, 'InvalidAuthenticationTokenTenant', `The access token is from the wrong issuer '${c.iss}'.`);
    }
    const user = directory.users.find((u) => u.id === c.oid);
    if (!user || !tenantsOf(directory, user).some((t) => t.id === tenant.id)) {
      throw new ArmError(401, 'InvalidAuthenticationToken', 'The access token is invalid: its user is not in the directory.');
    }
    return { user, tenantId: tenant.id };
  }

  /** The subscription, if the principal may perform `action` in it. */
  private subscription(principal: Principal, id: string, action: string, origin: string): Subscription {
    const directory = this.context.relay.config().azure;
    const sub = directory.subscriptions.find((s) => s.id.toLowerCase() === id.toLowerCase());
    if (!sub) throw new ArmError(404, 'SubscriptionNotFound', `The subscription '${id}' could not be found.`);
    if (sub.tenantId !== principal.tenantId) {
      throw new ArmError(
        401,
        'InvalidAuthenticationTokenTenant',
        `The access token is from the wrong issuer '${origin}/${principal.tenantId}/'. It must match the tenant '${origin}/${sub.tenantId}/' associated with this subscription. Please use the authority (URL) '${origin}/${sub.tenantId}' to get the token.`,
        `${origin}/${sub.tenantId}`,
      );
    }
    const role = principal.user.access.get(sub.id);
    const writes = !action.endsWith('/read');
    if (!role || (writes && role === 'Reader')) {
      throw new ArmError(
        403,
        'AuthorizationFailed',
        `The client '${principal.user.username}' with object id '${principal.user.id}' does not have authorization to perform action '${action}' over scope '/subscriptions/${sub.id}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
      );
    }
    return sub;
  }

  // ---- routing ----

  private route(
    req: IncomingMessage,
    url: URL,
    origin: string,
    answer: (status: number, body: unknown, extra?: Record<string, string>) => void,
  ): Route {
    let segments: string[];
    try {
      segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      throw new ArmError(400, 'InvalidRequestUri', 'The request URI is not valid.');
    }
    const lower = segments.map((s) => s.toLowerCase());
    const method = req.method ?? 'GET';
    const version = url.searchParams.get('api-version');
    const directory = (): AzureDirectory => this.context.relay.config().azure;
    const get =
      (versions: string[], kind: string, fn: Route): Route =>
      (p) => {
        if (method !== 'GET') throw methodNotAllowed(method);
        checkVersion(version, versions, kind);
        return fn(p);
      };
    const list = (items: unknown[]) => answer(200, this.page(items, url, origin));

    if (lower.length === 3 && lower[0] === 'providers' && lower[1] === 'microsoft.relay' && lower[2] === 'operations') {
      return get(RELAY_API_VERSIONS, 'operations', () => list(RELAY_OPERATIONS));
    }
    if (lower.length === 1 && lower[0] === 'tenants') {
      return get(RESOURCES_API_VERSIONS, 'tenants', (p) => list(tenantsOf(directory(), p.user).map(tenantJson)));
    }
    if (lower[0] !== 'subscriptions') throw notFound(segments);
    if (lower.length === 1) {
      return get(RESOURCES_API_VERSIONS, 'subscriptions', (p) => {
        const subs = directory().subscriptions.filter((s) => s.tenantId === p.tenantId && p.user.access.has(s.id));
        answer(200, { ...this.page(subs.map(subscriptionJson), url, origin), count: { type: 'Total', value: subs.length } });
      });
    }
    const subId = segments[1]!;
    const sub = (p: Principal, action: string) => this.subscription(p, subId, action, origin);
    const rest = lower.slice(2);
    if (rest.length === 0) {
      return get(RESOURCES_API_VERSIONS, 'subscriptions', (p) => {
        // Without access, Resource Manager says the subscription is not found rather than forbidden.
        const s = directory().subscriptions.find((x) => x.id.toLowerCase() === subId.toLowerCase());
        if (!s || s.tenantId !== p.tenantId || !p.user.access.has(s.id)) {
          throw new ArmError(404, 'SubscriptionNotFound', `The subscription '${subId}' could not be found.`);
        }
        answer(200, subscriptionJson(s));
      });
    }
    if (rest[0] === 'resourcegroups') {
      if (rest.length === 1) {
        return get(RESOURCES_API_VERSIONS, 'resourceGroups', (p) =>
          list(sub(p, 'Microsoft.Resources/subscriptions/resourceGroups/read').resourceGroups.map(resourceGroupJson)),
        );
      }
      const groupName = segments[3]!;
      const group = (p: Principal, action: string) => {
        const s = sub(p, action);
        const g = s.resourceGroups.find((x) => x.name.toLowerCase() === groupName.toLowerCase());
        if (!g) throw new ArmError(404, 'ResourceGroupNotFound', `Resource group '${groupName}' could not be found.`);
        return g;
      };
      if (rest.length === 2) {
        return get(RESOURCES_API_VERSIONS, 'resourceGroups', (p) =>
          answer(200, resourceGroupJson(group(p, 'Microsoft.Resources/subscriptions/resourceGroups/read'))),
        );
      }
      if (rest[2] === 'providers' && rest[3] === 'microsoft.relay' && rest[4] === 'namespaces') {
        return this.relayRoute(req, segments.slice(7), method, version, answer, list, group);
      }
      if (rest[2] === 'providers' && rest[3] === 'microsoft.web' && rest[4] === 'sites') {
        return this.webRoute(segments.slice(7), method, version, answer, list, (p) => {
          const g = group(p, 'Microsoft.Web/sites/read');
          return directory().webApps.filter(
            (a) => a.subscriptionId === g.subscriptionId && a.resourceGroup.toLowerCase() === g.name.toLowerCase(),
          );
        });
      }
      throw notFound(segments);
    }
    if (rest[0] === 'providers' && rest[1] === 'microsoft.relay' && rest[2] === 'namespaces' && rest.length === 3) {
      return get(RELAY_API_VERSIONS, 'namespaces', (p) => {
        const s = sub(p, 'Microsoft.Relay/namespaces/read');
        list(this.namespacesIn(s.resourceGroups).map(([g, ns]) => namespaceJson(this.context.relay, g, ns, version!)));
      });
    }
    if (rest[0] === 'providers' && rest[1] === 'microsoft.web' && rest[2] === 'sites' && rest.length === 3) {
      return get(WEB_API_VERSIONS, 'sites', (p) => {
        const s = sub(p, 'Microsoft.Web/sites/read');
        list(
          directory()
            .webApps.filter((a) => a.subscriptionId === s.id)
            .map(siteJson),
        );
      });
    }
    throw notFound(segments);
  }

  /** …/resourceGroups/{g}/providers/Microsoft.Relay/namespaces[/{ns}[/…]] */
  private relayRoute(
    req: IncomingMessage,
    path: string[],
    method: string,
    version: string | null,
    answer: (status: number, body: unknown) => void,
    list: (items: unknown[]) => void,
    scope: (p: Principal, action: string) => ResourceGroup,
  ): Route {
    const lower = path.map((s) => s.toLowerCase());
    const relay = this.context.relay;
    const read =
      (fn: Route): Route =>
      (p) => {
        if (method !== 'GET') throw methodNotAllowed(method);
        checkVersion(version, RELAY_API_VERSIONS, 'namespaces');
        return fn(p);
      };
    const post =
      (fn: Route): Route =>
      (p) => {
        if (method !== 'POST') throw methodNotAllowed(method);
        checkVersion(version, RELAY_API_VERSIONS, 'namespaces');
        return fn(p);
      };
    if (path.length === 0) {
      return read((p) => {
        const g = scope(p, 'Microsoft.Relay/namespaces/read');
        list(this.namespacesIn([g]).map(([gg, ns]) => namespaceJson(relay, gg, ns, version!)));
      });
    }
    const nsName = path[0]!;
    const namespace = (p: Principal, action: string): [ResourceGroup, EmulatorNamespace] => {
      const g = scope(p, action);
      const found = this.namespacesIn([g]).find(([, ns]) => ns.name.toLowerCase() === nsName.toLowerCase());
      if (!found) {
        throw new ArmError(
          404,
          'ResourceNotFound',
          `The Resource 'Microsoft.Relay/namespaces/${nsName}' under resource group '${g.name}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
        );
      }
      return found;
    };
    const rules = (p: Principal, action: string, hcName: string | undefined, ruleName: string | undefined) => {
      const [g, ns] = namespace(p, action);
      let hc: EmulatorHybridConnection | undefined;
      if (hcName !== undefined) {
        hc = [...ns.hybridConnections.values()].find((h) => h.name.toLowerCase() === hcName.toLowerCase());
        if (!hc) throw childNotFound(g, `${ns.name}/hybridConnections/${hcName}`);
      }
      const all = hc ? hc.rules : ns.rules;
      const rule = ruleName === undefined ? undefined : all.find((r) => r.name.toLowerCase() === ruleName.toLowerCase());
      if (ruleName !== undefined && !rule)
        throw childNotFound(g, `${ns.name}/${hc ? `hybridConnections/${hc.name}/` : ''}authorizationRules/${ruleName}`);
      const parentId = hc ? hybridConnectionId(g, ns, hc) : namespaceId(g, ns);
      return { g, ns, hc, all, rule, parentId, type: hc ? HYBRID_CONNECTION_RULE_TYPE : NAMESPACE_RULE_TYPE };
    };
    // Rules at path[i] ("authorizationRules"), for the namespace or a Hybrid Connection.
    const ruleRoutes = (i: number, hcName: string | undefined, resource: string): Route | undefined => {
      if (lower[i] !== 'authorizationrules') return undefined;
      const ruleName = path[i + 1];
      if (path.length === i + 1) {
        return read((p) => {
          const r = rules(p, `${resource}/authorizationRules/read`, hcName, undefined);
          list(r.all.map((rule) => ruleJson(r.parentId, r.type, rule)));
        });
      }
      if (path.length === i + 2) {
        return read((p) => {
          const r = rules(p, `${resource}/authorizationRules/read`, hcName, ruleName);
          answer(200, ruleJson(r.parentId, r.type, r.rule!));
        });
      }
      if (path.length === i + 3 && lower[i + 2] === 'listkeys') {
        return post((p) => {
          const r = rules(p, `${resource}/authorizationRules/listkeys/action`, hcName, ruleName);
          answer(200, keysJson(relay, r.ns, r.rule!, r.hc));
        });
      }
      if (path.length === i + 3 && lower[i + 2] === 'regeneratekeys') {
        return post(async (p) => {
          const r = rules(p, `${resource}/authorizationRules/regeneratekeys/action`, hcName, ruleName);
          const body = await this.regenerateBody(req);
          this.regenerate(r.rule!, body.keyType, body.key, `${r.ns.name}${r.hc ? `/${r.hc.name}` : ''}`, p);
          answer(200, keysJson(relay, r.ns, r.rule!, r.hc));
        });
      }
      return undefined;
    };
    if (path.length === 1)
      return read((p) => {
        const [g, ns] = namespace(p, 'Microsoft.Relay/namespaces/read');
        answer(200, namespaceJson(relay, g, ns, version!));
      });
    const nsRules = ruleRoutes(1, undefined, 'Microsoft.Relay/namespaces');
    if (nsRules) return nsRules;
    if (lower[1] === 'wcfrelays' && path.length === 2)
      return read((p) => {
        namespace(p, 'Microsoft.Relay/namespaces/wcfRelays/read');
        list([]);
      });
    if (lower[1] === 'hybridconnections') {
      if (path.length === 2) {
        return read((p) => {
          const [g, ns] = namespace(p, 'Microsoft.Relay/namespaces/hybridConnections/read');
          list([...ns.hybridConnections.values()].map((hc) => hybridConnectionJson(relay, g, ns, hc)));
        });
      }
      const hcName = path[2]!;
      if (path.length === 3) {
        return read((p) => {
          const r = rules(p, 'Microsoft.Relay/namespaces/hybridConnections/read', hcName, undefined);
          answer(200, hybridConnectionJson(relay, r.g, r.ns, r.hc!));
        });
      }
      const hcRules = ruleRoutes(3, hcName, 'Microsoft.Relay/namespaces/hybridConnections');
      if (hcRules) return hcRules;
    }
    throw new ArmError(404, 'NotFound', `The requested resource '${path.join('/')}' does not exist in Microsoft.Relay.`);
  }

  /** …/resourceGroups/{g}/providers/Microsoft.Web/sites[/{app}[/hybridConnectionRelays | /hybridConnectionNamespaces/{ns}/relays/{hc}]] */
  private webRoute(
    path: string[],
    method: string,
    version: string | null,
    answer: (status: number, body: unknown) => void,
    list: (items: unknown[]) => void,
    appsInGroup: (p: Principal) => AzureDirectory['webApps'],
  ): Route {
    const lower = path.map((s) => s.toLowerCase());
    const read =
      (fn: Route): Route =>
      (p) => {
        if (method !== 'GET') throw methodNotAllowed(method);
        checkVersion(version, WEB_API_VERSIONS, 'sites');
        return fn(p);
      };
    if (path.length === 0) return read((p) => list(appsInGroup(p).map(siteJson)));
    const app = (p: Principal) => {
      const found = appsInGroup(p).find((a) => a.name.toLowerCase() === path[0]!.toLowerCase());
      if (!found)
        throw new ArmError(
          404,
          'ResourceNotFound',
          `The Resource 'Microsoft.Web/sites/${path[0]}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
        );
      return found;
    };
    const bindings = (p: Principal) => {
      const a = app(p);
      const config = this.context.relay.config();
      return a.relays.flatMap((r) => {
        const ns = config.namespaces.find((n) => n.name === r.namespace);
        const hc = ns && [...ns.hybridConnections.values()].find((h) => h.name === r.hybridConnection);
        if (!ns || !hc) return [];
        const group = this.namespacesIn(config.azure.subscriptions.flatMap((s) => s.resourceGroups)).find(([, n]) => n === ns)?.[0];
        return [{ ns, hc, json: siteRelayJson(this.context.relay, a, ns, hc, group) }];
      });
    };
    if (path.length === 1) return read((p) => answer(200, siteJson(app(p))));
    if (path.length === 2 && lower[1] === 'hybridconnectionrelays') return read((p) => list(bindings(p).map((b) => b.json)));
    if (path.length === 5 && lower[1] === 'hybridconnectionnamespaces' && lower[3] === 'relays') {
      return read((p) => {
        const b = bindings(p).find((x) => x.ns.name.toLowerCase() === lower[2] && x.hc.name.toLowerCase() === lower[4]);
        if (!b)
          throw new ArmError(404, 'ResourceNotFound', `Hybrid connection '${path[2]}/${path[4]}' was not found on site '${path[0]}'.`);
        answer(200, b.json);
      });
    }
    throw new ArmError(404, 'NotFound', `The requested resource '${path.join('/')}' does not exist in Microsoft.Web.`);
  }

  // ---- keys ----

  private async regenerateBody(req: IncomingMessage): Promise<{ keyType: 'PrimaryKey' | 'SecondaryKey'; key: string | undefined }> {
    const text = (await readBody(req, 64 * 1024)).toString('utf8');
    let body: { keyType?: unknown; key?: unknown };
    try {
      body = JSON.parse(text || '{}') as typeof body;
    } catch {
      throw new ArmError(400, 'InvalidRequestContent', 'The request content was invalid and could not be deserialized.');
    }
    const { keyType, key } = body ?? {};
    if (keyType !== 'PrimaryKey' && keyType !== 'SecondaryKey') {
      throw new ArmError(400, 'BadRequest', "The keyType must be 'PrimaryKey' or 'SecondaryKey'.");
    }
    if (key !== undefined && (typeof key !== 'string' || key.length < 1 || key.length > 256)) {
      throw new ArmError(400, 'BadRequest', 'The key, when given, must be a string of 1 to 256 characters.');
    }
    return { keyType, key };
  }

  private regenerate(
    rule: EmulatorRule,
    keyType: 'PrimaryKey' | 'SecondaryKey',
    key: string | undefined,
    where: string,
    p: Principal,
  ): void {
    const i = keyType === 'PrimaryKey' ? 0 : 1;
    rule.keys[i] = key ?? generateKey();
    // Marked as generated so a reload keeps it, unless the config file names a key itself.
    rule.generated[i] = true;
    this.context.relay.keysChanged();
    this.context.log('info', `arm: ${p.user.username} regenerated the ${keyType} of ${where}/${rule.name}`);
  }

  // ---- helpers ----

  private namespacesIn(groups: ResourceGroup[]): Array<[ResourceGroup, EmulatorNamespace]> {
    const namespaces = this.context.relay.config().namespaces;
    return groups.flatMap((g) =>
      g.namespaces.flatMap((name) => {
        const ns = namespaces.find((n) => n.name.toLowerCase() === name.toLowerCase());
        return ns ? [[g, ns] as [ResourceGroup, EmulatorNamespace]] : [];
      }),
    );
  }

  /** One page of a list, with an absolute nextLink (same query, a $skiptoken) when more follow. */
  private page(items: unknown[], url: URL, origin: string): { value: unknown[]; nextLink?: string } {
    const token = url.searchParams.get('$skiptoken');
    let offset = 0;
    if (token !== null) {
      const decoded = Buffer.from(token, 'base64url');
      const parsed = decoded.toString('base64url') === token ? /^o(\d{1,9})$/.exec(decoded.toString('latin1')) : null;
      if (!parsed) throw new ArmError(400, 'InvalidSkipToken', `The skip token '${token.slice(0, 40)}' is not valid.`);
      offset = Number(parsed[1]);
    }
    const size = this.context.pageSize;
    const value = items.slice(offset, offset + size);
    if (offset + size >= items.length) return { value };
    const next = new URL(`${origin}${url.pathname}`);
    for (const [k, v] of url.searchParams) if (k !== '$skiptoken') next.searchParams.append(k, v);
    next.searchParams.set('$skiptoken', Buffer.from(`o${offset + size}`, 'latin1').toString('base64url'));
    return { value, nextLink: next.href };
  }

  private setThrottle(req: IncomingMessage, url: URL, answer: (status: number, body: unknown) => void): void {
    if (req.method !== 'POST') throw methodNotAllowed(req.method ?? 'GET');
    const requests = Number(url.searchParams.get('requests') ?? '1');
    const retryAfter = Number(url.searchParams.get('retryAfter') ?? '1');
    if (
      !Number.isInteger(requests) ||
      requests < 0 ||
      requests > 1000 ||
      !Number.isInteger(retryAfter) ||
      retryAfter < 0 ||
      retryAfter > 3600
    ) {
      throw new ArmError(400, 'InvalidParameter', 'requests must be 0-1000 and retryAfter 0-3600 (seconds)');
    }
    this.throttle = { remaining: requests, retryAfterSeconds: retryAfter };
    this.context.log('info', `arm: the next ${requests} request(s) answer 429 (Retry-After: ${retryAfter})`);
    answer(200, { throttledRequests: requests, retryAfterSeconds: retryAfter });
  }
}

function armError(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

function armTime(seconds: number): string {
  const d = new Date(seconds * 1000);
  const h = d.getUTCHours();
  return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()} ${h % 12 || 12}:${String(d.getUTCMinutes()).padStart(2, '0')}:${String(d.getUTCSeconds()).padStart(2, '0')} ${h < 12 ? 'AM' : 'PM'}`;
}

function checkVersion(version: string | null, supported: string[], type: string): void {
  if (!version) {
    throw new ArmError(400, 'MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.');
  }
  if (supported.includes(version)) return;
  if (supported === RESOURCES_API_VERSIONS) {
    throw new ArmError(
      400,
      'InvalidApiVersionParameter',
      `The api-version '${version.slice(0, 40)}' is invalid. The supported versions are '${supported.join(',')}'.`,
    );
  }
  throw new ArmError(
    400,
    'NoRegisteredProviderFound',
    `No registered resource provider found for location 'global' and API version '${version.slice(0, 40)}' for type '${type}'. The supported api-versions are '${supported.join(', ')}'.`,
  );
}

function methodNotAllowed(method: string): ArmError {
  return new ArmError(
    405,
    'MethodNotAllowed',
    `The HTTP method '${method.slice(0, 10)}' is not supported here. The Open HCM emulator serves reads, listKeys and regenerateKeys; it does not create, change or delete resources.`,
  );
}

function notFound(segments: string[]): ArmError {
  const provider = segments.findIndex((s) => s.toLowerCase() === 'providers');
  if (provider >= 0 && segments[provider + 1]) {
    return new ArmError(
      404,
      'InvalidResourceType',
      `The resource type '${segments.slice(provider + 2).join('/') || '(none)'}' could not be found in the namespace '${segments[provider + 1]}'.`,
    );
  }
  return new ArmError(404, 'NotFound', `No HTTP resource was found that matches the request URI '/${segments.join('/')}'.`);
}

function childNotFound(g: ResourceGroup, path: string): ArmError {
  return new ArmError(
    404,
    'ResourceNotFound',
    `The Resource 'Microsoft.Relay/namespaces/${path}' under resource group '${g.name}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
  );
}
