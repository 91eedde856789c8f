import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseEndpoint } from '../relay/endpoint.js';
import type { Right, SasRule } from '../relay/sas.js';
import {
  type AzureDirectory,
  type Issue,
  directorySchemas,
  keepGeneratedPasswords,
  placementOf,
  regionSchema,
  resolveDirectory,
} from './azure/directory.js';
import { regionCode } from './azure/ids.js';

/**
 * Emulator configuration: namespaces, their Hybrid Connections and authorization rules.
 * Hybrid Connection names are unique across the emulator, because every namespace is served on
 * the same port and a request is routed by its entity name. The optional tenants, users,
 * subscriptions and webApps are the directory that Entra ID and ARM serve (azure/directory.ts).
 */

const rightSchema = z.enum(['Listen', 'Send', 'Manage']);

const ruleSchema = z
  .object({
    name: z.string().min(1).max(256),
    rights: z.array(rightSchema).min(1),
    primaryKey: z.string().min(1).max(256).optional(),
    secondaryKey: z.string().min(1).max(256).optional(),
  })
  .strict();

const hybridConnectionSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._\-/]*$/, 'letters, digits, ".", "_", "-", "/"; starting with a letter or digit'),
    /** Shortcut for userMetadata [{"key":"endpoint","value":...}]. */
    endpoint: z.string().optional(),
    /** Raw user metadata string, as the ARM property holds it. */
    userMetadata: z.string().optional(),
    requiresClientAuthorization: z.boolean().default(true),
    rules: z.array(ruleSchema).optional(),
  })
  .strict()
  .superRefine((hc, ctx) => {
    if (hc.endpoint !== undefined && hc.userMetadata !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'give either endpoint or userMetadata, not both' });
    }
    if (hc.endpoint !== undefined) {
      try {
        parseEndpoint(hc.endpoint);
      } catch (err) {
        ctx.addIssue({ code: 'custom', path: ['endpoint'], message: (err as Error).message });
      }
    }
  });

const namespaceSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z][A-Za-z0-9-]{0,49}$/, 'a namespace name: letters, digits and "-", starting with a letter'),
    /** Azure region, as ARM shows it (default: its resource group's location). */
    region: regionSchema.optional(),
    rules: z.array(ruleSchema).optional(),
    hybridConnections: z.array(hybridConnectionSchema).default([]),
  })
  .strict();

export const emulatorConfigSchema = z
  .object({
    namespaces: z.array(namespaceSchema).min(1),
    ...directorySchemas,
  })
  .strict()
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.namespaces.forEach((ns, i) =>
      ns.hybridConnections.forEach((hc, j) => {
        const key = hc.name.toLowerCase();
        if (seen.has(key)) {
          ctx.addIssue({
            code: 'custom',
            path: ['namespaces', i, 'hybridConnections', j, 'name'],
            message: `Hybrid Connection "${hc.name}" is defined twice; names are unique across the emulator`,
          });
        }
        seen.add(key);
      }),
    );
  });

export type EmulatorConfigInput = z.input<typeof emulatorConfigSchema>;

export interface EmulatorRule extends SasRule {
  rights: Right[];
  keys: [string, string];
  /** Which keys the config left out (and were generated), so a reload can keep them. */
  generated: [boolean, boolean];
}

export interface EmulatorHybridConnection {
  name: string;
  namespace: string;
  userMetadata: string | undefined;
  requiresClientAuthorization: boolean;
  rules: EmulatorRule[];
  createdAt: Date;
  updatedAt: Date;
}

export interface EmulatorNamespace {
  name: string;
  /** Region code, e.g. westeurope. */
  region: string;
  rules: EmulatorRule[];
  hybridConnections: Map<string, EmulatorHybridConnection>;
  createdAt: Date;
  updatedAt: Date;
}

export interface EmulatorConfig {
  namespaces: EmulatorNamespace[];
  /** Tenants, users, subscriptions and apps, for Entra ID and ARM. */
  azure: AzureDirectory;
}

/** A key like the portal's: 32 random bytes, base64 (44 characters). */
export function generateKey(): string {
  return randomBytes(32).toString('base64');
}

function resolveRule(rule: z.infer<typeof ruleSchema>): EmulatorRule {
  return {
    name: rule.name,
    rights: [...new Set(rule.rights)],
    keys: [rule.primaryKey ?? generateKey(), rule.secondaryKey ?? generateKey()],
    generated: [rule.primaryKey === undefined, rule.secondaryKey === undefined],
  };
}

/**
 * A reload must not rotate keys the config leaves out: the connection strings printed at start
 * (the only place they appear) would stop working. Generated keys of a rule that exists before
 * and after (same namespace, same entity, same rule name) are taken over from `previous`.
 */
export function keepGeneratedKeys(next: EmulatorConfig, previous: EmulatorConfig): void {
  keepGeneratedPasswords(next.azure, previous.azure);
  for (const ns of next.namespaces) {
    const before = previous.namespaces.find((n) => n.name === ns.name);
    if (!before) continue;
    inheritKeys(ns.rules, before.rules);
    for (const [key, hc] of ns.hybridConnections) {
      const old = before.hybridConnections.get(key);
      if (old) inheritKeys(hc.rules, old.rules);
    }
  }
}

function inheritKeys(rules: EmulatorRule[], oldRules: EmulatorRule[]): void {
  for (const rule of rules) {
    const old = oldRules.find((r) => r.name === rule.name);
    if (!old) continue;
    for (const i of [0, 1] as const) {
      if (rule.generated[i]) {
        rule.keys[i] = old.keys[i];
        rule.generated[i] = old.generated[i];
      }
    }
  }
}

/** Validates a parsed config and fills in generated keys and default rules. */
export function resolveEmulatorConfig(input: unknown, source = 'emulator config'): EmulatorConfig {
  const parsed = emulatorConfigSchema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(top level)'}: ${i.message}`).join('\n');
    throw new Error(`${source} is invalid:\n${issues}`);
  }
  const data = parsed.data;
  const issues: Issue[] = [];
  const azure = resolveDirectory(
    data,
    data.namespaces.map((ns) => ({ name: ns.name, region: ns.region, hybridConnections: ns.hybridConnections.map((hc) => hc.name) })),
    issues,
  );
  if (issues.length > 0) {
    throw new Error(`${source} is invalid:\n${issues.map((i) => `  ${i.path.join('.') || '(top level)'}: ${i.message}`).join('\n')}`);
  }
  const now = new Date();
  return {
    azure,
    namespaces: data.namespaces.map((ns) => ({
      name: ns.name,
      region: regionCode(ns.region ?? placementOf(azure, ns.name)?.location ?? 'westus'),
      createdAt: now,
      updatedAt: now,
      rules: (ns.rules ?? [{ name: 'RootManageSharedAccessKey', rights: ['Listen', 'Send', 'Manage'] }]).map(resolveRule),
      hybridConnections: new Map(
        ns.hybridConnections.map((hc) => [
          hc.name.toLowerCase(),
          {
            name: hc.name,
            namespace: ns.name,
            userMetadata:
              hc.userMetadata ?? (hc.endpoint !== undefined ? JSON.stringify([{ key: 'endpoint', value: hc.endpoint }]) : undefined),
            requiresClientAuthorization: hc.requiresClientAuthorization,
            // App Service creates these two rules on every Hybrid Connection it manages.
            rules: (
              hc.rules ?? [
                { name: 'defaultListener', rights: ['Listen'] },
                { name: 'defaultSender', rights: ['Send'] },
              ]
            ).map(resolveRule),
            createdAt: now,
            updatedAt: now,
          },
        ]),
      ),
    })),
  };
}

export function loadEmulatorConfig(file: string): EmulatorConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read emulator config ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      cause: err,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`emulator config ${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  return resolveEmulatorConfig(json, `emulator config ${file}`);
}

/**
 * With no config: one demo namespace with one Hybrid Connection pointing at localhost:5432, in
 * the default tenant, subscription and resource group, used by one App Service app.
 */
export function demoEmulatorConfig(): EmulatorConfig {
  return resolveEmulatorConfig({
    namespaces: [{ name: 'demo', region: 'westus', hybridConnections: [{ name: 'demo-hc', endpoint: 'localhost:5432' }] }],
    webApps: [{ name: 'demo-app', hybridConnections: ['demo-hc'] }],
  });
}

export function findHybridConnection(config: EmulatorConfig, name: string): EmulatorHybridConnection | undefined {
  const key = name.toLowerCase();
  for (const ns of config.namespaces) {
    const hc = ns.hybridConnections.get(key);
    if (hc) return hc;
  }
  return undefined;
}

export function namespaceOf(config: EmulatorConfig, hc: EmulatorHybridConnection): EmulatorNamespace {
  const ns = config.namespaces.find((n) => n.name === hc.namespace);
  if (!ns) throw new Error(`namespace ${hc.namespace} vanished`);
  return ns;
}

/**
 * Entity names may contain '/', so the longest existing prefix of the path wins; the rest is the
 * suffix. A request to `<namespace>.localhost` finds only that namespace's Hybrid Connections, as
 * Azure's hosts do; plain `localhost` or an address finds any (names are unique across namespaces).
 */
export function locateHybridConnection(
  config: EmulatorConfig,
  rawPath: string,
  hostHeader?: string,
): { hc: EmulatorHybridConnection; suffix: string } | undefined {
  const namespace = /^([a-z0-9-]+)\.localhost(?::\d+)?$/i.exec(hostHeader ?? '')?.[1]?.toLowerCase();
  let segments: string[];
  try {
    segments = rawPath.split('/').map(decodeURIComponent);
  } catch {
    return undefined;
  }
  for (let n = segments.length; n > 0; n--) {
    const hc = findHybridConnection(config, segments.slice(0, n).join('/'));
    if (hc && namespace !== undefined && hc.namespace.toLowerCase() !== namespace) return undefined;
    if (hc) return { hc, suffix: segments.slice(n).join('/') };
  }
  return undefined;
}
