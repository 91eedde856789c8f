import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  watch,
  writeSync,
} from './fs-sync.js';
import { dirname, join } from 'node:path';
import { AZURE_CLOUD_NAMES } from '../shared/api.js';
import { HcmError } from '../shared/errors.js';
import { type Infer, type Shape, array, check, literal, nullable, object, oneOf, optional, record, string, unknown } from './json-shape.js';
import { withFileLock } from './file-lock.js';
import { ensurePrivateFolder } from './folders.js';
import type { HcmPaths } from './paths.js';
import { nodeCrypto } from './lazy-crypto.js';

/**
 * The saved configuration: readable settings in config.json, connection strings (which hold
 * the keys) in secrets.json. Both are written atomically with mode 0600. Every change is a
 * locked read-modify-write, so the CLI and a running agent can edit at the same time without
 * losing each other's edits. A file that cannot be read is reported and left as it is.
 */

export const SCHEMA_VERSION = 1;

const connectionSchema = object({
  id: string({ min: 1 }),
  name: string({ min: 1 }),
  namespace: string({ min: 1 }),
  /** sb://host[:port]/ of the namespace, as the portal shows it. */
  serviceBusAddress: string({ min: 1 }),
  keyName: nullable(string()),
  endpoint: string({ min: 1 }),
  endpointSource: oneOf('metadata', 'manual'),
  addedAt: string(),
  /** The endpoint the Hybrid Connection's metadata names now, when it differs from the pinned `endpoint` (not used until accepted). */
  endpointInAzure: optional(object({ endpoint: string(), seenAt: string() })),
  /** Added through Azure: where the key came from (so a rotated key can be fetched again). */
  azure: optional(
    object({
      cloud: oneOf(...AZURE_CLOUD_NAMES),
      tenantId: string(),
      subscriptionId: string(),
      resourceGroup: string(),
      namespace: string(),
      hybridConnection: string(),
      rule: string(),
      ruleScope: oneOf('hybridConnection', 'namespace'),
    }),
  ),
});

const settingsSchema = object({
  /** Sign-in: cloud, tenant and client id (the environment may override them). */
  azure: optional(
    object({
      cloud: optional(oneOf(...AZURE_CLOUD_NAMES)),
      tenant: optional(string()),
      clientId: optional(string()),
      authority: optional(string()),
      armEndpoint: optional(string()),
    }),
  ),
  /**
   * Update checks: `{ url?: string, check?: boolean, prerelease?: boolean }`, read by
   * src/core/updates/settings.ts. Checked there, not here: a mistake in it turns update checks
   * off with the reason, and never keeps the connections from loading.
   */
  updates: optional(unknown()),
  /** Outbound HTTP proxy for relay and Azure connections; its user name and password are in secrets.json. */
  proxy: optional(
    object({
      /** http://host:port, or "direct" to ignore HTTPS_PROXY from the environment. */
      url: string(),
      noProxy: optional(array(string())),
    }),
  ),
});

const configSchema = object({
  schemaVersion: literal(SCHEMA_VERSION),
  settings: optional(settingsSchema),
  connections: array(connectionSchema),
});

const secretSettingsSchema = object({
  proxy: optional(object({ username: string(), password: string() })),
});

const secretsSchema = object({
  schemaVersion: literal(SCHEMA_VERSION),
  connectionStrings: record(string()),
  /** Secrets of settings (the proxy's credentials), kept with the keys. */
  settings: optional(secretSettingsSchema),
});

export type SavedConnection = Infer<typeof connectionSchema>;
export type Settings = Infer<typeof settingsSchema>;
export type SecretSettings = Infer<typeof secretSettingsSchema>;
export type ConfigFile = Infer<typeof configSchema>;
export type SecretsFile = Infer<typeof secretsSchema>;

/** A saved connection together with its connection string. */
export interface StoredConnection extends SavedConnection {
  connectionString: string;
}

export class ConfigError extends HcmError {
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super('E_CONFIG', `${file}: ${problem}. The file was left untouched; fix it or move it aside.`);
    this.name = 'ConfigError';
  }
}

export interface ConfigSnapshot {
  connections: StoredConnection[];
  /** What was repaired on reading (e.g. a removal cut short between the two files). */
  warnings: string[];
  settings: Settings;
  secretSettings: SecretSettings;
}

export class ConfigStore {
  constructor(private readonly paths: Pick<HcmPaths, 'home' | 'configFile' | 'secretsFile'>) {}

  get configFile(): string {
    return this.paths.configFile;
  }

  /**
   * Reads both files; missing files mean an empty configuration. secrets.json is written first
   * (see update), so it is the commit point: a connection in config.json without its connection
   * string is a removal that was cut short, and is finished here with a warning; a connection
   * string without its config entry is an addition that was cut short (never acknowledged), and
   * is ignored. The next change writes both files consistent again.
   */
  load(): ConfigSnapshot {
    const config = readJson(this.paths.configFile, configSchema, { schemaVersion: SCHEMA_VERSION, connections: [] });
    const secrets = readJson(this.paths.secretsFile, secretsSchema, { schemaVersion: SCHEMA_VERSION, connectionStrings: {} });
    const warnings: string[] = [];
    const connections: StoredConnection[] = [];
    for (const c of config.connections) {
      const connectionString = secrets.connectionStrings[c.id];
      if (connectionString === undefined) {
        warnings.push(
          `"${c.id}" is listed in ${this.paths.configFile} but has no connection string in ${this.paths.secretsFile}: ` +
            'a removal was interrupted; it is treated as removed',
        );
        continue;
      }
      connections.push({ ...c, connectionString });
    }
    return { connections, warnings, settings: config.settings ?? {}, secretSettings: secrets.settings ?? {} };
  }

  /** Locked read-modify-write. The mutator may throw to abort without writing. */
  async update<T>(mutate: (connections: StoredConnection[], settings: Settings, secretSettings: SecretSettings) => T): Promise<T> {
    this.ensureHome();
    return withFileLock(join(this.paths.home, 'config.lock'), () => {
      removeLeftovers(this.paths.home);
      const { connections, settings, secretSettings } = this.load();
      const result = mutate(connections, settings, secretSettings);
      const secrets: SecretsFile = {
        schemaVersion: SCHEMA_VERSION,
        connectionStrings: {},
        ...(Object.keys(secretSettings).length ? { settings: secretSettings } : {}),
      };
      const config: ConfigFile = { schemaVersion: SCHEMA_VERSION, ...(Object.keys(settings).length ? { settings } : {}), connections: [] };
      for (const { connectionString, ...saved } of connections) {
        secrets.connectionStrings[saved.id] = connectionString;
        config.connections.push(saved);
      }
      // Secrets first: a config entry must never point at a key that was not written.
      writeAtomic(this.paths.secretsFile, `${JSON.stringify(secrets, null, 2)}\n`);
      writeAtomic(this.paths.configFile, `${JSON.stringify(config, null, 2)}\n`);
      return result;
    });
  }

  private ensureHome(): void {
    ensurePrivateFolder(this.paths.home, 'configuration');
  }

  /**
   * Calls `onChange` after either file changes (debounced). fs.watch on the directory sees the
   * atomic renames; a slow poll covers file systems where watching does not work.
   */
  watch(onChange: () => void): () => void {
    this.ensureHome();
    let timer: NodeJS.Timeout | undefined;
    let last = this.fingerprint();
    const check = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        const now = this.fingerprint();
        if (now !== last) {
          last = now;
          onChange();
        }
      }, 100);
    };
    let watcher: ReturnType<typeof watch> | undefined;
    try {
      watcher = watch(this.paths.home, (_event, file) => {
        if (!file || file === 'config.json' || file === 'secrets.json' || String(file).endsWith('.json')) check();
      });
      watcher.on('error', () => undefined);
    } catch {
      watcher = undefined;
    }
    const poll = setInterval(check, 2000);
    poll.unref();
    return () => {
      watcher?.close();
      clearInterval(poll);
      clearTimeout(timer);
    };
  }

  private fingerprint(): string {
    return [this.paths.configFile, this.paths.secretsFile]
      .map((f) => {
        try {
          const s = statSync(f);
          return `${s.mtimeMs}:${s.size}:${s.ino}`;
        } catch {
          return 'none';
        }
      })
      .join('|');
  }
}

function readJson<T>(file: string, schema: Shape<T>, empty: T): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return empty;
    throw new ConfigError(file, `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (!text.trim()) throw new ConfigError(file, 'is empty');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(file, `is not valid JSON (${(err as Error).message})`);
  }
  const version = (json as { schemaVersion?: unknown })?.schemaVersion;
  if (typeof version === 'number' && version > SCHEMA_VERSION) {
    throw new ConfigError(file, `was written by a newer version of HCM (schema ${version}; this one reads ${SCHEMA_VERSION})`);
  }
  const parsed = check(schema, json);
  if (!parsed.ok) throw new ConfigError(file, `does not match the expected format (${parsed.where}: ${parsed.message})`);
  return parsed.value;
}

/** Temporary files of writers that were killed before their rename (no writer runs: we hold the lock). */
function removeLeftovers(home: string): void {
  for (const name of readdirSync(home)) {
    if (/^(config|secrets)\.json\.\d+\.[0-9a-f]+\.tmp$/.test(name)) {
      try {
        unlinkSync(join(home, name));
      } catch {
        /* gone already */
      }
    }
  }
}

/** Write to a temporary file in the same directory, fsync, rename: readers see old or new, never half. */
export function writeAtomic(file: string, content: string | Buffer, mode = 0o600): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${nodeCrypto().randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, typeof content === 'string' ? Buffer.from(content) : content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, file);
  } catch (err) {
    if (existsSync(tmp)) unlinkSync(tmp);
    throw err;
  }
  syncFolder(dirname(file));
}

/** Makes the rename itself durable: without it a power cut can bring back the old file. */
function syncFolder(dir: string): void {
  if (process.platform === 'win32') return; // folders cannot be opened for fsync there
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    /* some file systems refuse; the data itself is already synced */
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
