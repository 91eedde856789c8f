import { prepareAgentFolders } from '../core/folders.js';
import { type LogFormat, Logger } from '../core/logger.js';
import { type HcmPaths, hcmPaths } from '../core/paths.js';
import { type HcmService, type HcmServiceOptions, createHcmService } from '../core/service.js';
import { cliHostUpdates } from '../core/updates/feed-updates.js';
import { VERSION } from '../core/version.js';
import type { LogLevel } from '../shared/api.js';
import { safeTransport, safeTuning } from './context.js';
import { type StopSignals, catchStopSignals } from './stop-signals.js';

/**
 * What `hcm run`, `hcm ui` and `hcm demo` share: make the folders, start the agent (service +
 * relay engine + control socket), then wait for SIGINT/SIGTERM and stop it, letting open tunnels
 * finish within the grace period (a second signal exits at once).
 */

export interface AgentHost {
  paths: HcmPaths;
  logger: Logger;
  service: HcmService;
  /** SIGINT/SIGTERM, caught from the very start. */
  signals: StopSignals;
}

export interface AgentHostOptions {
  host: 'agent' | 'browser';
  logLevel?: LogLevel;
  /** How log lines look (hcm run --log-format); text by default. */
  logFormat?: LogFormat;
  /** What hcm run adds: the hand-over (--takeover) and the metrics observer. */
  service?: Pick<HcmServiceOptions, 'takeover' | 'onHandedOver' | 'onHandOverStarted' | 'observer'>;
}

export async function startAgentHost(options: AgentHostOptions): Promise<AgentHost> {
  const paths = hcmPaths();
  prepareAgentFolders(paths);
  const logger = new Logger({ level: options.logLevel ?? 'info', stderr: true, dir: paths.logDir, format: options.logFormat });
  // Before anything starts or is printed (see stop-signals.ts).
  const signals = catchStopSignals((signal) => {
    logger.warn(`${signal} again: exiting now`);
    process.exit(1);
  });
  const transport = safeTransport();
  // Update checks run on their own timers once the agent is up; they never hold up or stop relaying.
  const updates = cliHostUpdates({ currentVersion: VERSION, paths, transport, log: (level, message) => logger.log(level, message) });
  const service = createHcmService({
    host: options.host,
    paths,
    logger,
    updates,
    transport,
    tuning: safeTuning(),
    startDemoRelay: (log) => import('../emulator/demo.js').then((m) => m.startDemoRelay(log)),
    ...options.service,
  });
  try {
    await service.start();
  } catch (err) {
    await logger.close();
    throw err;
  }
  updates.start();
  return { paths, logger, service, signals };
}

/**
 * Resolves after the first SIGINT/SIGTERM once `beforeStop` ran and the service stopped.
 * Also resolves (without a signal) when `until` settles, e.g. the UI's agent going away.
 */
export async function serveUntilSignal(
  agent: AgentHost,
  options: { graceMs: number; beforeStop?: () => Promise<void>; what?: string },
): Promise<void> {
  const { logger, service } = agent;
  const signal = await agent.signals.first;
  logger.info(`${signal}: ${options.what ?? 'stopping'}; letting open connections finish (up to ${options.graceMs / 1000} s)`);
  await (options.beforeStop ?? (() => Promise.resolve()))().catch(() => undefined);
  await service.stop({ graceMs: options.graceMs }).catch(() => undefined);
  await logger.close();
}
