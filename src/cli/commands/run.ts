import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { type EnvConnections, keepApplyingEnvConnections, takeConnectionStringsFromEnv } from '../../core/env-connections.js';
import { isLoopback, parseStatusAddress, type StatusServer, startStatusServer } from '../../core/http-status.js';
import { type Logger, defaultLogFormat } from '../../core/logger.js';
import { AgentMetrics, readiness } from '../../core/metrics.js';
import type { HcmService } from '../../core/service.js';
import { errorMessage } from '../../shared/errors.js';
import { startAgentHost } from '../agent-host.js';
import { CliError } from '../exit.js';
import type { StopSignals } from '../stop-signals.js';
import { parseIntOption, parseLogFormat, parseLogLevel } from '../options.js';

interface RunOptions {
  grace: string;
  logLevel: string;
  logFormat?: string;
  metrics?: string;
  takeover?: boolean;
  takeoverWait: string;
  hupTakeover?: boolean;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run the agent in the foreground for every configured Hybrid Connection')
    .option('--grace <seconds>', 'on SIGINT/SIGTERM or a hand-over, how long open connections may finish', '30')
    .option('--log-level <level>', 'debug, info, warn or error', 'info')
    .option(
      '--log-format <format>',
      'text, json (one object per line) or journald (default: journald when stderr is the journal, else text)',
    )
    .option(
      '--metrics <host:port>',
      'serve /metrics (Prometheus), /ready and /healthz there (loopback unless a host is given; or set HCM_METRICS)',
    )
    .option('--takeover', 'restart without dropping a connection: listen next to the running agent, then have it stop listening and drain')
    .option('--takeover-wait <seconds>', 'with --takeover: how long to wait for every Hybrid Connection to be Connected here', '60')
    .option(
      '--hup-takeover',
      'on SIGHUP, start a new agent (from the files on disk) that takes over this one: what "systemctl reload" does',
    )
    .addHelpText(
      'after',
      '\nLogs go to stderr and to rotating files in the log directory (see "hcm version"). Config edits apply without a restart.\n' +
        'HCM_CONNECTION_STRINGS (one per line) or HCM_CONNECTION_STRINGS_FILE adds the Hybrid Connections they name at start (containers).',
    )
    .action(async (opts: RunOptions) => runAgent(opts));
}

async function runAgent(opts: RunOptions): Promise<void> {
  const graceMs = parseIntOption(opts.grace, '--grace', 0, 3600) * 1000;
  const waitMs = parseIntOption(opts.takeoverWait, '--takeover-wait', 1, 3600) * 1000;
  const level = parseLogLevel(opts.logLevel);
  const format = opts.logFormat === undefined ? defaultLogFormat() : parseLogFormat(opts.logFormat);
  const metricsAt = opts.metrics ?? process.env.HCM_METRICS;
  const statusAddress = metricsAt ? parseStatusAddress(metricsAt) : undefined;
  let given: EnvConnections | null;
  try {
    given = takeConnectionStringsFromEnv();
  } catch (err) {
    throw new CliError(errorMessage(err), 'E_CONFIG');
  }
  const metrics = statusAddress ? new AgentMetrics() : undefined;
  let status: StatusServer | undefined;
  let handedOver!: () => void;
  const whenHandedOver = new Promise<void>((resolve) => (handedOver = resolve));
  const { service, logger, paths, signals } = await startAgentHost({
    host: 'agent',
    logLevel: level,
    logFormat: format,
    service: {
      takeover: opts.takeover ? { graceMs, waitMs } : undefined,
      onHandOverStarted: () => void status?.close(),
      onHandedOver: () => handedOver(),
      observer: metrics,
    },
  });
  metrics?.attach(service);
  if (statusAddress) {
    try {
      status = await startStatusServer(statusAddress, {
        metrics: async () => ({ contentType: metrics!.contentType, body: await metrics!.render() }),
        readiness: async () => readiness(await service.listConnections(), service.handingOverNow),
      });
    } catch (err) {
      await service.stop().catch(() => undefined);
      await logger.close();
      throw err;
    }
    logger.info(`metrics on http://${status.address}/metrics (and /ready, /healthz)`, undefined, {
      event: 'metrics.listening',
      address: status.address,
    });
    if (!isLoopback(statusAddress.host)) {
      logger.warn(`the metrics port listens beyond this machine (${status.address}): it shows connection names and counts, no keys`);
    }
  }
  if (opts.takeover) tellSystemdWeAreMain(logger);
  const stopEnv = given ? keepApplyingEnvConnections(service, given, paths, logger) : undefined;
  if (!given && (await service.listConnections()).length === 0) {
    logger.warn('no Hybrid Connections are configured yet; add one with "hcm add" (this agent picks it up at once), or try "hcm demo"');
  }
  await serve(service, logger, { signals, graceMs, whenHandedOver, hupTakeover: opts.hupTakeover === true });
  stopEnv?.();
  await status?.close();
  await logger.close();
}

/** Until SIGINT/SIGTERM (stop, letting tunnels finish; a second one exits at once) or a hand-over is done. */
async function serve(
  service: HcmService,
  logger: Logger,
  options: { signals: StopSignals; graceMs: number; whenHandedOver: Promise<void>; hupTakeover: boolean },
): Promise<void> {
  await new Promise<void>((resolve) => {
    // The handlers were installed before the agent started (stop-signals.ts); a second signal exits at once.
    void options.signals.first.then((signal) => {
      logger.info(`${signal}: stopping; letting open connections finish (up to ${options.graceMs / 1000} s)`);
      service.stop({ graceMs: options.graceMs }).then(resolve, resolve);
    });
    void options.whenHandedOver.then(() => {
      logger.info('handed over: this agent exits', undefined, { event: 'handover.done' });
      resolve();
    });
    if (options.hupTakeover) process.on('SIGHUP', () => startSuccessor(logger, service));
  });
}

/**
 * SIGHUP with --hup-takeover: a new `hcm run --takeover` from the files on disk (an upgrade's),
 * with this one's arguments and environment and stdio (the journal). It listens, then asks this
 * agent to hand over; if it fails, this one keeps serving.
 */
function startSuccessor(logger: Logger, service: HcmService): void {
  if (service.handingOverNow) return;
  const args = [...process.execArgv, process.argv[1]!, ...process.argv.slice(2).filter((a) => a !== '--takeover'), '--takeover'];
  logger.info('SIGHUP: starting a new agent that takes over from this one', undefined, { event: 'handover.successor' });
  const child = spawn(process.execPath, args, { stdio: 'inherit', env: process.env });
  child.on('error', (err) => logger.error(`the new agent could not be started: ${err.message}; this one keeps serving`));
  child.on('exit', (code) => {
    if (!service.handingOverNow) logger.warn(`the new agent exited (code ${code}) before taking over; this one keeps serving`);
  });
  child.unref();
}

/**
 * Under systemd (NOTIFY_SOCKET set, NotifyAccess=all), a successor started by `systemctl reload`
 * tells systemd it is now the service's main process, so the old one's exit does not end the
 * service. Node cannot send the datagram itself; systemd-notify does and waits until it is read.
 */
function tellSystemdWeAreMain(logger: Logger): void {
  if (!process.env.NOTIFY_SOCKET) return;
  const n = spawn('systemd-notify', [`--pid=${process.pid}`, '--status=took over without dropping a connection'], { stdio: 'ignore' });
  n.on('error', (err) => logger.warn(`could not tell systemd the new main PID (${err.message}); a stop may miss this agent`));
  n.on('exit', (code) => {
    if (code !== 0) logger.warn(`systemd-notify --pid=${process.pid} exited with ${code}`);
  });
}
