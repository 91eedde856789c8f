import { z } from 'zod';
import { DEFAULT_REGION, GUID_PATTERN, generatePassword, regionCode, stableGuid } from './ids.js';

/**
 * The directory behind the Entra ID and ARM parts of the emulator: tenants, users (who may sign
 * in and which subscriptions they see), subscriptions with their resource groups (which hold the
 * relay's namespaces), and App Service apps bound to Hybrid Connections. It comes from the
 * optional top-level parts of the emulator config (config.ts composes the schemas below); what
 * the config leaves out gets defaults: a tenant, a user with a generated password, and a
 * subscription with one resource group holding every namespace.
 */

const guid = z
  .string()
  .regex(GUID_PATTERN, 'a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47')
  .transform((s) => s.toLowerCase());
const domain = z
  .string()
  .max(253)
  .regex(/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$/, 'a domain such as contoso.onmicrosoft.com');
export const regionSchema = z
  .string()
  .max(64)
  .regex(/^[A-Za-z][A-Za-z0-9 ]*$/, 'an Azure region such as "westeurope" or "West Europe"');
const resourceGroupName = z
  .string()
  .regex(/^[-\w.()]{1,90}$/, 'a resource group name: letters, digits, "-", "_", ".", "(", ")", at most 90')
  .refine((n) => !n.endsWith('.'), 'a resource group name cannot end with "."');
const role = z.enum(['Owner', 'Contributor', 'Reader']);

export const tenantSchema = z
  .object({
    id: guid.optional(),
    name: z.string().min(1).max(256).optional(),
    domain: domain.optional(),
  })
  .strict();

export const userSchema = z
  .object({
    username: z
      .string()
      .max(256)
      .regex(/^[^@\s]+@[^@\s]+$/, 'a user principal name such as alice@contoso.onmicrosoft.com'),
    password: z.string().min(1).max(256).optional(),
    displayName: z.string().min(1).max(256).optional(),
    id: guid.optional(),
    /** Home tenant: id or domain (default: the tenant of the username's domain, else the first). */
    tenant: z.string().min(1).optional(),
    /** Subscriptions (id or name) the user may see, Owner unless a role is given; default: all. */
    subscriptions: z
      .array(z.union([z.string().min(1), z.object({ subscription: z.string().min(1), role: role.default('Owner') }).strict()]))
      .optional(),
  })
  .strict();

export const subscriptionSchema = z
  .object({
    id: guid.optional(),
    name: z.string().min(1).max(64),
    tenant: z.string().min(1).optional(),
    state: z.enum(['Enabled', 'Warned', 'PastDue', 'Disabled', 'Deleted']).default('Enabled'),
    resourceGroups: z
      .array(
        z
          .object({
            name: resourceGroupName,
            location: regionSchema.optional(),
            /** Names of the namespaces this resource group holds. */
            namespaces: z.array(z.string().min(1)).default([]),
          })
          .strict(),
      )
      .default([]),
  })
  .strict();

export const webAppSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,59}$/, 'an app name: letters, digits and "-", at most 60'),
    subscription: z.string().min(1).optional(),
    resourceGroup: resourceGroupName.optional(),
    location: regionSchema.optional(),
    /** Hybrid Connections the app uses: a name, or {namespace, name}. */
    hybridConnections: z
      .array(z.union([z.string().min(1), z.object({ namespace: z.string().min(1).optional(), name: z.string().min(1) }).strict()]))
      .default([]),
  })
  .strict();

export const directorySchemas = {
  tenants: z.array(tenantSchema).min(1).optional(),
  users: z.array(userSchema).min(1).optional(),
  subscriptions: z.array(subscriptionSchema).min(1).optional(),
  webApps: z.array(webAppSchema).optional(),
};

export interface DirectoryInput {
  tenants?: z.infer<typeof tenantSchema>[] | undefined;
  users?: z.infer<typeof userSchema>[] | undefined;
  subscriptions?: z.infer<typeof subscriptionSchema>[] | undefined;
  webApps?: z.infer<typeof webAppSchema>[] | undefined;
}

export interface Tenant {
  id: string;
  name: string;
  /** The initial domain (`*.onmicrosoft.com` in Azure). */
  domain: string;
}

export type Role = z.infer<typeof role>;

export interface User {
  /** Object id (oid). */
  id: string;
  username: string;
  password: string;
  /** The password was generated (printed in the ready line; a reload keeps it). */
  generatedPassword: boolean;
  displayName: string;
  /** Home tenant id. */
  tenantId: string;
  /** Subscription id → role. */
  access: Map<string, Role>;
}

export interface ResourceGroup {
  name: string;
  /** Region code, e.g. westeurope. */
  location: string;
  subscriptionId: string;
  /** Namespace names. */
  namespaces: string[];
}

export interface Subscription {
  id: string;
  name: string;
  tenantId: string;
  state: string;
  resourceGroups: ResourceGroup[];
}

export interface WebApp {
  name: string;
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  relays: Array<{ namespace: string; hybridConnection: string }>;
}

export interface AzureDirectory {
  tenants: Tenant[];
  users: User[];
  subscriptions: Subscription[];
  webApps: WebApp[];
}

/** What the directory needs to know of the relay's namespaces. */
export interface NamespaceFacts {
  name: string;
  region: string | undefined;
  hybridConnections: string[];
}

export type Issue = { path: (string | number)[]; message: string };

export const DEFAULT_TENANT_DOMAIN = 'emulator.onmicrosoft.com';
export const DEFAULT_RESOURCE_GROUP = 'relay-emulator';

function sameText(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/**
 * Resolves the directory parts of a parsed config against its namespaces, with defaults for what
 * is missing. Problems (unknown references, a namespace in no or two resource groups) are pushed
 * to `issues`; the result is only meaningful when there are none.
 */
export function resolveDirectory(input: DirectoryInput, namespaces: NamespaceFacts[], issues: Issue[]): AzureDirectory {
  const tenants = resolveTenants(input, issues);
  const findTenant = (ref: string): Tenant | undefined => tenants.find((t) => sameText(t.id, ref) || sameText(t.domain, ref));
  const subscriptions = resolveSubscriptions(input, namespaces, tenants, findTenant, issues);
  const findSubscription = (ref: string): Subscription | undefined =>
    subscriptions.find((s) => sameText(s.id, ref)) ?? subscriptions.find((s) => sameText(s.name, ref));
  const users = resolveUsers(input, tenants, subscriptions, findTenant, findSubscription, issues);
  const webApps = resolveWebApps(input, namespaces, subscriptions, findSubscription, issues);
  return { tenants, users, subscriptions, webApps };
}

function resolveTenants(input: DirectoryInput, issues: Issue[]): Tenant[] {
  const given = input.tenants ?? [{ name: 'Emulator Directory', domain: DEFAULT_TENANT_DOMAIN }];
  const tenants: Tenant[] = [];
  given.forEach((t, i) => {
    if (!t.id && !t.domain && !t.name) {
      issues.push({ path: ['tenants', i], message: 'give the tenant a domain (and optionally an id and a name)' });
      return;
    }
    const domain = (
      t.domain ??
      (t.name
        ? `${t.name.replace(/[^A-Za-z0-9]/g, '').toLowerCase() || 'tenant'}.onmicrosoft.com`
        : `tenant-${t.id!.slice(0, 8)}.onmicrosoft.com`)
    ).toLowerCase();
    const tenant: Tenant = { id: t.id ?? stableGuid(`tenant:${domain}`), name: t.name ?? domain.split('.')[0]!, domain };
    if (tenants.some((o) => o.id === tenant.id || o.domain === tenant.domain)) {
      issues.push({ path: ['tenants', i], message: `tenant ${tenant.domain} (${tenant.id}) is defined twice` });
    }
    tenants.push(tenant);
  });
  return tenants;
}

function resolveSubscriptions(
  input: DirectoryInput,
  namespaces: NamespaceFacts[],
  tenants: Tenant[],
  findTenant: (ref: string) => Tenant | undefined,
  issues: Issue[],
): Subscription[] {
  const firstTenant = tenants[0];
  if (!firstTenant) return [];
  if (!input.subscriptions) {
    // The default: one subscription whose one resource group holds every namespace.
    const location = regionCode(namespaces.find((n) => n.region)?.region ?? DEFAULT_REGION);
    const id = stableGuid(`subscription:${firstTenant.id}:Emulator Subscription`);
    return [
      {
        id,
        name: 'Emulator Subscription',
        tenantId: firstTenant.id,
        state: 'Enabled',
        resourceGroups: [{ name: DEFAULT_RESOURCE_GROUP, location, subscriptionId: id, namespaces: namespaces.map((n) => n.name) }],
      },
    ];
  }
  const placed = new Map<string, string>();
  const subscriptions = input.subscriptions.map((s, i): Subscription => {
    const tenant = s.tenant === undefined ? firstTenant : findTenant(s.tenant);
    if (!tenant) issues.push({ path: ['subscriptions', i, 'tenant'], message: `no tenant "${s.tenant}" (give its id or domain)` });
    const tenantId = (tenant ?? firstTenant).id;
    const id = s.id ?? stableGuid(`subscription:${tenantId}:${s.name}`);
    const resourceGroups = s.resourceGroups.map((g, j): ResourceGroup => {
      for (const [k, nsName] of g.namespaces.entries()) {
        const ns = namespaces.find((n) => sameText(n.name, nsName));
        const path = ['subscriptions', i, 'resourceGroups', j, 'namespaces', k];
        if (!ns) issues.push({ path, message: `no namespace "${nsName}" in "namespaces"` });
        else if (placed.has(ns.name.toLowerCase())) {
          issues.push({ path, message: `namespace "${nsName}" is already in resource group ${placed.get(ns.name.toLowerCase())}` });
        } else placed.set(ns.name.toLowerCase(), `${s.name}/${g.name}`);
      }
      if (s.resourceGroups.findIndex((o) => sameText(o.name, g.name)) !== j) {
        issues.push({ path: ['subscriptions', i, 'resourceGroups', j, 'name'], message: `resource group "${g.name}" is defined twice` });
      }
      return {
        name: g.name,
        location: regionCode(g.location ?? DEFAULT_REGION),
        subscriptionId: id,
        namespaces: g.namespaces.map((n) => namespaces.find((ns) => sameText(ns.name, n))?.name ?? n),
      };
    });
    return { id, name: s.name, tenantId, state: s.state, resourceGroups };
  });
  subscriptions.forEach((s, i) => {
    if (subscriptions.findIndex((o) => o.id === s.id) !== i) {
      issues.push({ path: ['subscriptions', i], message: `subscription ${s.id} is defined twice` });
    }
  });
  for (const ns of namespaces) {
    if (!placed.has(ns.name.toLowerCase())) {
      issues.push({
        path: ['subscriptions'],
        message: `namespace "${ns.name}" is in no resource group: list it under a subscription's resourceGroups[].namespaces`,
      });
    }
  }
  return subscriptions;
}

function resolveUsers(
  input: DirectoryInput,
  tenants: Tenant[],
  subscriptions: Subscription[],
  findTenant: (ref: string) => Tenant | undefined,
  findSubscription: (ref: string) => Subscription | undefined,
  issues: Issue[],
): User[] {
  const firstTenant = tenants[0];
  if (!firstTenant) return [];
  const given = input.users ?? [{ username: `admin@${firstTenant.domain}`, displayName: 'Emulator Admin' }];
  const users = given.map((u, i): User => {
    const username = u.username.toLowerCase();
    let tenant: Tenant | undefined;
    if (u.tenant !== undefined) {
      tenant = findTenant(u.tenant);
      if (!tenant) issues.push({ path: ['users', i, 'tenant'], message: `no tenant "${u.tenant}" (give its id or domain)` });
    } else {
      tenant = tenants.find((t) => username.endsWith(`@${t.domain}`)) ?? firstTenant;
    }
    const access = new Map<string, Role>();
    if (u.subscriptions === undefined) {
      for (const s of subscriptions) access.set(s.id, 'Owner');
    } else {
      u.subscriptions.forEach((entry, j) => {
        const ref = typeof entry === 'string' ? entry : entry.subscription;
        const sub = findSubscription(ref);
        if (!sub) issues.push({ path: ['users', i, 'subscriptions', j], message: `no subscription "${ref}" (give its id or name)` });
        else access.set(sub.id, typeof entry === 'string' ? 'Owner' : entry.role);
      });
    }
    return {
      id: u.id ?? stableGuid(`user:${username}`),
      username,
      password: u.password ?? generatePassword(),
      generatedPassword: u.password === undefined,
      displayName: u.displayName ?? u.username.split('@')[0]!,
      tenantId: (tenant ?? firstTenant).id,
      access,
    };
  });
  users.forEach((u, i) => {
    if (users.findIndex((o) => o.username === u.username) !== i) {
      issues.push({ path: ['users', i, 'username'], message: `user ${u.username} is defined twice` });
    } else if (users.findIndex((o) => o.id === u.id) !== i) {
      issues.push({ path: ['users', i, 'id'], message: `user id ${u.id} is used twice` });
    }
  });
  return users;
}

function resolveWebApps(
  input: DirectoryInput,
  namespaces: NamespaceFacts[],
  subscriptions: Subscription[],
  findSubscription: (ref: string) => Subscription | undefined,
  issues: Issue[],
): WebApp[] {
  const homeOf = (nsName: string) => {
    for (const s of subscriptions) {
      const g = s.resourceGroups.find((rg) => rg.namespaces.some((n) => sameText(n, nsName)));
      if (g) return { subscription: s, group: g };
    }
    return undefined;
  };
  return (input.webApps ?? []).map((app, i): WebApp => {
    const relays: WebApp['relays'] = [];
    app.hybridConnections.forEach((ref, j) => {
      const name = typeof ref === 'string' ? ref : ref.name;
      const nsRef = typeof ref === 'string' ? undefined : ref.namespace;
      const matches = namespaces.filter(
        (ns) => (nsRef === undefined || sameText(ns.name, nsRef)) && ns.hybridConnections.some((hc) => sameText(hc, name)),
      );
      const path = ['webApps', i, 'hybridConnections', j];
      if (matches.length === 0) issues.push({ path, message: `no Hybrid Connection "${name}"${nsRef ? ` in namespace "${nsRef}"` : ''}` });
      else if (matches.length > 1) issues.push({ path, message: `"${name}" is in several namespaces: give {"namespace", "name"}` });
      else {
        const ns = matches[0]!;
        relays.push({ namespace: ns.name, hybridConnection: ns.hybridConnections.find((hc) => sameText(hc, name))! });
      }
    });
    const home = relays[0] ? homeOf(relays[0].namespace) : undefined;
    let subscription = home?.subscription ?? subscriptions[0];
    if (app.subscription !== undefined) {
      subscription = findSubscription(app.subscription);
      if (!subscription) {
        issues.push({ path: ['webApps', i, 'subscription'], message: `no subscription "${app.subscription}" (give its id or name)` });
      }
    }
    const sub = subscription ?? subscriptions[0];
    const groupName =
      app.resourceGroup ?? (home && sub && home.subscription.id === sub.id ? home.group.name : sub?.resourceGroups[0]?.name) ?? 'webapps';
    let group = sub?.resourceGroups.find((g) => sameText(g.name, groupName));
    if (sub && !group) {
      // An app may live in a resource group that holds no namespace: it exists all the same.
      group = { name: groupName, location: regionCode(app.location ?? DEFAULT_REGION), subscriptionId: sub.id, namespaces: [] };
      sub.resourceGroups.push(group);
    }
    const duplicate = (input.webApps ?? []).findIndex((o) => sameText(o.name, app.name)) !== i;
    if (duplicate) issues.push({ path: ['webApps', i, 'name'], message: `app "${app.name}" is defined twice (app names are global)` });
    return {
      name: app.name,
      subscriptionId: sub?.id ?? '',
      resourceGroup: group?.name ?? groupName,
      location: regionCode(app.location ?? group?.location ?? DEFAULT_REGION),
      relays,
    };
  });
}

/** The resource group holding a namespace. */
export function placementOf(directory: AzureDirectory, namespace: string): ResourceGroup | undefined {
  for (const s of directory.subscriptions) {
    const g = s.resourceGroups.find((rg) => rg.namespaces.some((n) => sameText(n, namespace)));
    if (g) return g;
  }
  return undefined;
}

/** Tenants a user belongs to: the home tenant and those of the subscriptions it may see. */
export function tenantsOf(directory: AzureDirectory, user: User): Tenant[] {
  const ids = new Set([user.tenantId, ...[...user.access.keys()].map((id) => directory.subscriptions.find((s) => s.id === id)?.tenantId)]);
  return directory.tenants.filter((t) => ids.has(t.id));
}

export function findUser(directory: AzureDirectory, username: string): User | undefined {
  return directory.users.find((u) => sameText(u.username, username));
}

/**
 * The tenant a path segment names: its id, its domain, or "organizations" / "common" (then the
 * signed-in user's home tenant decides, so undefined is returned with `multi: true`).
 */
export function tenantFromSegment(directory: AzureDirectory, segment: string): { tenant?: Tenant; multi: boolean } | undefined {
  const s = segment.toLowerCase();
  if (s === 'common' || s === 'organizations') return { multi: true };
  const tenant = directory.tenants.find((t) => t.id === s || t.domain === s);
  return tenant ? { tenant, multi: false } : undefined;
}

/** A reload keeps the passwords it generated for users that still exist (they were printed once). */
export function keepGeneratedPasswords(next: AzureDirectory, previous: AzureDirectory): void {
  for (const user of next.users) {
    if (!user.generatedPassword) continue;
    const before = previous.users.find((u) => u.username === user.username && u.generatedPassword);
    if (before) user.password = before.password;
  }
}
