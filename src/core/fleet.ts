import { hostname } from 'node:os';
import { AZURE_CLOUD_NAMES, type HcmApi } from '../shared/api.js';
import { HcmError } from '../shared/errors.js';
import { type StoredConnection, writeAtomic } from './config-store.js';
import { type Infer, array, boolean, check, literal, nullable, object, oneOf, optional, string } from './json-shape.js';
import { VERSION } from './version.js';

/**
 * The same set of Hybrid Connections on other machines (`hcm export` / `hcm import`): a JSON file
 * listing each connection as it is saved here. Keys (the connection strings) go in only when asked
 * for (`--with-keys`); the file is written with mode 0600 either way. Reading it is checked whole
 * (json-shape.ts) before anything is added, and a problem names the field, never the file's text.
 */

export const FLEET_FORMAT = 'open-hcm/connections';
export const FLEET_VERSION = 1;

const azureOrigin = object({
  cloud: oneOf(...AZURE_CLOUD_NAMES),
  tenantId: string({ min: 1 }),
  subscriptionId: string({ min: 1 }),
  resourceGroup: string({ min: 1 }),
  namespace: string({ min: 1 }),
  hybridConnection: string({ min: 1 }),
  rule: string({ min: 1 }),
  ruleScope: oneOf('hybridConnection', 'namespace'),
});

const entry = object({
  id: string({ min: 1, max: 300 }),
  name: string({ min: 1 }),
  namespace: string({ min: 1 }),
  serviceBusAddress: string({ min: 1 }),
  keyName: nullable(string()),
  endpoint: string({ min: 1, max: 300 }),
  endpointSource: oneOf('metadata', 'manual'),
  azure: optional(azureOrigin),
  /** Only in files exported with --with-keys. */
  connectionString: optional(string({ min: 1, max: 4096 })),
});

const fleetFile = object({
  format: literal(FLEET_FORMAT),
  version: literal(FLEET_VERSION),
  exportedAt: string(),
  exportedFrom: string(),
  hcmVersion: string(),
  withKeys: boolean(),
  connections: array(entry, { max: 10_000 }),
});

export type FleetEntry = Infer<typeof entry>;
export type FleetFile = Infer<typeof fleetFile>;

export function buildFleetFile(connections: StoredConnection[], withKeys: boolean, now = new Date()): FleetFile {
  return {
    format: FLEET_FORMAT,
    version: FLEET_VERSION,
    exportedAt: now.toISOString(),
    exportedFrom: hostname(),
    hcmVersion: VERSION,
    withKeys,
    connections: connections.map((c) => ({
      id: c.id,
      name: c.name,
      namespace: c.namespace,
      serviceBusAddress: c.serviceBusAddress,
      keyName: c.keyName,
      endpoint: c.endpoint,
      endpointSource: c.endpointSource,
      ...(c.azure ? { azure: c.azure } : {}),
      ...(withKeys ? { connectionString: c.connectionString } : {}),
    })),
  };
}

export function fleetFileText(file: FleetFile): string {
  return `${JSON.stringify(file, null, 2)}\n`;
}

/** Written atomically with mode 0600: with keys it holds secrets, without them it still names the endpoints. */
export function writeFleetFile(path: string, file: FleetFile): void {
  writeAtomic(path, fleetFileText(file), 0o600);
}

export function parseFleetFile(text: string, source: string): FleetFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new HcmError('E_INVALID', `${source} is not JSON (${(err as Error).message.replace(/ in JSON.*$/, '')})`);
  }
  if ((json as { format?: unknown })?.format !== FLEET_FORMAT) {
    throw new HcmError('E_INVALID', `${source} is not an HCM export (no "format": "${FLEET_FORMAT}"); make one with hcm export`);
  }
  const version = (json as { version?: unknown }).version;
  if (typeof version === 'number' && version > FLEET_VERSION) {
    throw new HcmError('E_INVALID', `${source} was exported by a newer HCM (format version ${version}; this one reads ${FLEET_VERSION})`);
  }
  const parsed = check(fleetFile, json);
  if (!parsed.ok) throw new HcmError('E_INVALID', `${source} does not match the export format (${parsed.where}: ${parsed.message})`);
  const ids = new Set<string>();
  for (const c of parsed.value.connections) {
    if (ids.has(c.id.toLowerCase())) throw new HcmError('E_INVALID', `${source} lists ${c.id} twice`);
    ids.add(c.id.toLowerCase());
  }
  return parsed.value;
}

export interface ImportOutcome {
  id: string;
  result: 'added' | 'already-here' | 'skipped' | 'failed';
  detail: string;
}

/**
 * Adds each connection of the file through the contract (a running agent listens at once; without
 * one, the saved configuration is changed). A connection already here is left as it is; one without
 * a key is added from Azure when it came from there and an account is signed in, else skipped with
 * what to do. Every connection is checked with the relay as `hcm add` does.
 */
export async function importFleet(
  api: Pick<HcmApi, 'listConnections' | 'addConnection' | 'addFromAzure'>,
  file: FleetFile,
  onOutcome: (o: ImportOutcome) => void = () => undefined,
): Promise<ImportOutcome[]> {
  const here = new Set((await api.listConnections()).map((c) => c.id.toLowerCase()));
  const outcomes: ImportOutcome[] = [];
  const report = (o: ImportOutcome) => {
    outcomes.push(o);
    onOutcome(o);
  };
  for (const c of file.connections) {
    if (here.has(c.id.toLowerCase())) {
      report({ id: c.id, result: 'already-here', detail: 'already added here; left as it is' });
      continue;
    }
    try {
      if (c.connectionString) {
        const added = await api.addConnection({
          connectionString: c.connectionString,
          ...(c.endpointSource === 'manual' ? { endpoint: c.endpoint } : {}),
        });
        report({ id: added.id, result: 'added', detail: `endpoint ${added.endpoint}` });
      } else if (c.azure) {
        const [r] = await api.addFromAzure([
          {
            tenantId: c.azure.tenantId,
            subscriptionId: c.azure.subscriptionId,
            resourceGroup: c.azure.resourceGroup,
            namespace: c.azure.namespace,
            name: c.azure.hybridConnection,
          },
        ]);
        if (r?.ok) report({ id: c.id, result: 'added', detail: 'key fetched from Azure' });
        else report({ id: c.id, result: 'failed', detail: `from Azure: ${r?.error ?? 'no answer'}` });
      } else {
        report({
          id: c.id,
          result: 'skipped',
          detail: 'the file has no key for it: export with --with-keys, or add it here with hcm add',
        });
      }
    } catch (err) {
      report({ id: c.id, result: 'failed', detail: (err as Error).message });
    }
  }
  return outcomes;
}
