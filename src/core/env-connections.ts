import { readFileSync } from 'node:fs';
import { parseConnectionString } from '../relay/connection-string.js';
import { HcmError, errorMessage } from '../shared/errors.js';
import { ConfigStore } from './config-store.js';
import type { Logger } from './logger.js';
import type { HcmPaths } from './paths.js';
import { type HcmService, connectionIdFor } from './service.js';

/**
 * Connection strings given to a container: `HCM_CONNECTION_STRINGS` (the text itself) or
 * `HCM_CONNECTION_STRINGS_FILE` (a file, e.g. a Kubernetes Secret mounted read-only).
 *
 * Format: one connection string per line; blank lines and lines starting with `#` are ignored. A
 * line may end with whitespace and `host:port`, the endpoint for a Hybrid Connection without
 * endpoint metadata (connection strings hold no whitespace, so nothing else is ambiguous).
 *
 * At start the agent adds each one it does not have yet (asking the relay for the endpoint, as
 * `hcm add` does), replaces the key of one it has with another key, and keeps trying those the
 * relay could not be asked about. The variable is removed from the process's environment once
 * read, and neither the strings nor their keys are ever logged: a problem names the line number.
 */

export interface EnvConnection {
  line: number;
  connectionString: string;
  endpoint?: string;
}

export interface EnvConnections {
  /** Where they came from, for log lines: the variable's or the file's name. */
  source: string;
  entries: EnvConnection[];
}

export function parseConnectionStringList(text: string, source: string): EnvConnection[] {
  const out: EnvConnection[] = [];
  const seen = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const [cs, endpoint, extra] = line.split(/\s+/);
    if (extra !== undefined) {
      throw new HcmError('E_CONFIG', `${source}, line ${i + 1}: expected a connection string and at most an endpoint (host:port)`);
    }
    let parsed;
    try {
      parsed = parseConnectionString(cs!, { requireEntityPath: true });
    } catch (err) {
      // The parser's messages never repeat the key; the line's text is not shown either.
      throw new HcmError('E_CONFIG', `${source}, line ${i + 1}: ${errorMessage(err)}`);
    }
    const id = connectionIdFor(parsed);
    const before = seen.get(id);
    if (before !== undefined) throw new HcmError('E_CONFIG', `${source}, lines ${before} and ${i + 1} are both for ${id}`);
    seen.set(id, i + 1);
    out.push({ line: i + 1, connectionString: cs!, ...(endpoint ? { endpoint } : {}) });
  });
  return out;
}

/** Reads (and removes from `env`) the connection strings given by the environment; null when none are. */
export function takeConnectionStringsFromEnv(env: NodeJS.ProcessEnv = process.env): EnvConnections | null {
  const inline = env.HCM_CONNECTION_STRINGS;
  const file = env.HCM_CONNECTION_STRINGS_FILE;
  delete env.HCM_CONNECTION_STRINGS;
  if (inline !== undefined && inline.trim() !== '') {
    if (file) throw new HcmError('E_CONFIG', 'set HCM_CONNECTION_STRINGS or HCM_CONNECTION_STRINGS_FILE, not both');
    return { source: 'HCM_CONNECTION_STRINGS', entries: parseConnectionStringList(inline, 'HCM_CONNECTION_STRINGS') };
  }
  if (!file) return null;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new HcmError('E_CONFIG', `HCM_CONNECTION_STRINGS_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return { source: file, entries: parseConnectionStringList(text, file) };
}

export interface EnvApplyResult {
  added: string[];
  replaced: string[];
  unchanged: string[];
  /** Not added yet (the relay could not be asked, say), with the reason. */
  pending: Array<{ line: number; id: string; error: string }>;
}

/** Makes the saved configuration hold each given connection (see the module comment). */
export async function applyEnvConnections(service: HcmService, given: EnvConnections, paths: HcmPaths): Promise<EnvApplyResult> {
  const result: EnvApplyResult = { added: [], replaced: [], unchanged: [], pending: [] };
  const saved = new Map((await service.listConnections()).map((c) => [c.id, c]));
  const keys = new Map(new ConfigStore(paths).load().connections.map((c) => [c.id, c.connectionString]));
  for (const e of given.entries) {
    const id = connectionIdFor(parseConnectionString(e.connectionString, { requireEntityPath: true }));
    try {
      if (!saved.has(id)) {
        await service.addConnection({ connectionString: e.connectionString, ...(e.endpoint ? { endpoint: e.endpoint } : {}) });
        result.added.push(id);
      } else if (keys.get(id) !== e.connectionString) {
        await service.replaceConnectionString(id, e.connectionString);
        result.replaced.push(id);
      } else {
        result.unchanged.push(id);
      }
    } catch (err) {
      result.pending.push({ line: e.line, id, error: errorMessage(err) });
    }
  }
  return result;
}

/**
 * Applies them now and, while some are pending, again every `retryMs` until all are in. Returns a
 * function that stops the retries.
 */
export function keepApplyingEnvConnections(
  service: HcmService,
  given: EnvConnections,
  paths: HcmPaths,
  logger: Logger,
  retryMs = 30_000,
): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const round = async () => {
    const r = await applyEnvConnections(service, given, paths).catch((err: unknown) => {
      logger.error(`${given.source}: ${errorMessage(err)}`);
      return null;
    });
    if (!r || stopped) return;
    const parts = [
      r.added.length ? `added ${r.added.join(', ')}` : '',
      r.replaced.length ? `new key for ${r.replaced.join(', ')}` : '',
      r.unchanged.length ? `${r.unchanged.length} unchanged` : '',
    ].filter(Boolean);
    if (parts.length) logger.info(`${given.source}: ${parts.join('; ')}`, undefined, { event: 'env.applied', added: r.added.length });
    for (const p of r.pending) {
      logger.warn(
        `${given.source}, line ${p.line} (${p.id}): not added yet: ${p.error}; trying again in ${Math.round(retryMs / 1000)} s`,
        p.id,
        {
          event: 'env.pending',
          line: p.line,
        },
      );
    }
    if (r.pending.length) {
      timer = setTimeout(() => void round(), retryMs);
      timer.unref();
    }
  };
  void round();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
