import { readFileSync } from './fs-sync.js';
import { HcmError } from '../shared/errors.js';
import type { ListenerTuning } from '../relay/hybrid-connection-listener.js';
import type { TransportOptions } from '../relay/transport.js';

/**
 * Settings read from the environment, shared by every host:
 *   HCM_CA_FILE                 extra CA certificate(s) to trust (PEM), e.g. the emulator's ca.pem
 *   HCM_TOKEN_TTL_SECONDS       lifetime of the SAS tokens the agent makes (default 3600)
 *   HCM_KEEPALIVE_INTERVAL_MS   control-channel ping interval (default 25000)
 *   HCM_KEEPALIVE_TIMEOUT_MS    ping answer deadline (default 20000)
 *   HCM_CONNECT_TIMEOUT_MS      endpoint TCP connect timeout (default 15000)
 *   HCM_SLOW_RETRY_MS           retry delay after 401/403/404 from the relay (default 120000)
 *   HCM_RECONNECT_STEPS_MS      reconnect delays, comma-separated (default 0,1000,2000,5000,10000,30000)
 *   HCM_STABLE_AFTER_MS         how long a channel must stay up before the delays start again from the first (default 30000)
 *   HCM_OPEN_CONCURRENCY        control channels opening at once, across all Hybrid Connections (default 32)
 */
export function transportFromEnv(env: NodeJS.ProcessEnv = process.env, caFile?: string): TransportOptions {
  const file = caFile ?? env.HCM_CA_FILE;
  if (!file) return {};
  try {
    return { ca: readFileSync(file, 'utf8') };
  } catch (err) {
    throw new HcmError('E_CONFIG', `cannot read the CA file ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, {
      cause: err,
    });
  }
}

function intFromEnv(env: NodeJS.ProcessEnv, name: string, min: number, max: number): number | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new HcmError('E_CONFIG', `${name} must be a whole number between ${min} and ${max}, not "${text}"`);
  return n;
}

export function tuningFromEnv(env: NodeJS.ProcessEnv = process.env): ListenerTuning {
  return {
    tokenTtlSeconds: intFromEnv(env, 'HCM_TOKEN_TTL_SECONDS', 5, 7 * 86400),
    keepAliveIntervalMs: intFromEnv(env, 'HCM_KEEPALIVE_INTERVAL_MS', 100, 30_000),
    keepAliveTimeoutMs: intFromEnv(env, 'HCM_KEEPALIVE_TIMEOUT_MS', 100, 60_000),
    connectTimeoutMs: intFromEnv(env, 'HCM_CONNECT_TIMEOUT_MS', 100, 300_000),
    slowRetryMs: intFromEnv(env, 'HCM_SLOW_RETRY_MS', 100, 3_600_000),
    reconnectStepsMs: stepsFromEnv(env, 'HCM_RECONNECT_STEPS_MS'),
    stableAfterMs: intFromEnv(env, 'HCM_STABLE_AFTER_MS', 0, 3_600_000),
    openConcurrency: intFromEnv(env, 'HCM_OPEN_CONCURRENCY', 1, 10_000),
  };
}

/** A comma-separated list of delays (ms): one to twenty whole numbers, each up to an hour. */
function stepsFromEnv(env: NodeJS.ProcessEnv, name: string): number[] | undefined {
  const text = env[name];
  if (text === undefined || text.trim() === '') return undefined;
  const parts = text.split(',').map((p) => p.trim());
  const steps = parts.map(Number);
  if (parts.length > 20 || steps.some((n, i) => parts[i] === '' || !Number.isInteger(n) || n < 0 || n > 3_600_000))
    throw new HcmError('E_CONFIG', `${name} must be up to 20 comma-separated whole numbers of milliseconds (0 to 3600000), not "${text}"`);
  return steps;
}
