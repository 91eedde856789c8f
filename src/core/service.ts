import { EventEmitter } from 'node:events';
import { hostname, platform } from 'node:os';
import { type ConnectionString, hostWithPort, namespaceName, parseConnectionString } from '../relay/connection-string.js';
import { type Endpoint, formatEndpoint, parseEndpoint } from '../relay/endpoint.js';
import { RelayError, RelayHandshakeError } from '../relay/errors.js';
import { parseProxyUrl } from '../relay/proxy.js';
import { probeListen } from '../relay/listen-probe.js';
import { RelayEngine } from '../relay/engine.js';
import { clockProblem, clockSampleFor } from '../relay/clock-skew.js';
import { GatewayLog } from '../relay/gateways.js';
import type { ListenerSnapshot, ListenerTuning, ReconnectReason, TunnelSnapshot } from '../relay/hybrid-connection-listener.js';
import { type RuntimeInfo, getRuntimeInfo } from '../relay/runtime-info.js';
import type { TransportOptions } from '../relay/transport.js';
import { type HcmErrorCode, errorCode, errorMessage } from '../shared/errors.js';
import { ServiceError, resolveConnectionId } from './connection-id.js';
import type {
  AddConnectionInput,
  AzureAddResult,
  AzureListing,
  AzureSelection,
  AzureSignInOptions,
  AzureSignInStarted,
  AzureState,
  AppInfo,
  ConnectionDetails,
  ConnectionSummary,
  ErrorInfo,
  HandOverResult,
  HcmHost,
  HcmEvent,
  HcmEvents,
  LogEntry,
  LogLevel,
  ProxyInput,
  ProxyState,
  TestResult,
  TrafficResult,
  TunnelInfo,
  TunnelList,
  UpdateState,
  ValidationResult,
} from '../shared/api.js';
import type { AzureSession } from './azure/azure-session.js';
import { azureSettings, resolveCloud } from './azure/clouds.js';
import type { CacheEncryption } from './azure/token-cache.js';
import { ConfigStore, type SecretSettings, type Settings, type StoredConnection } from './config-store.js';
import { savedSummary } from './saved-connections.js';
import { type ResolvedProxy, resolveProxy } from './proxy-settings.js';
import { resolveGroupId } from './admin-group.js';
import { AgentAlreadyRunningError, ControlClient, type ControlServer, startControlServer } from './control-socket.js';
import { type DemoRelayHandle, type DemoRelayStarter, demoConnection } from './demo.js';
import { sendEchoTraffic } from './demo-traffic.js';
import { testEndpoint, testGateways, testRelay } from './diagnostics.js';
import { prepareAgentFolders } from './folders.js';
import { Logger } from './logger.js';
import { type HcmPaths, hcmPaths } from './paths.js';
import { type UpdateProvider, unsupportedUpdates } from './updates.js';
import { VERSION } from './version.js';

/**
 * The one object behind every face of HCM: the desktop app, the browser UI, `hcm run` and the
 * CLI's offline edits all call this. It owns the config store and (when it runs the agent) the
 * relay engine and the local control socket.
 */

export interface HcmServiceOptions {
  host: 'electron' | 'browser' | 'agent';
  paths?: HcmPaths;
  transport?: TransportOptions;
  /** Run the relay engine and the control socket (false = edit the saved config only). */
  runAgent?: boolean;
  logger?: Logger;
  tuning?: ListenerTuning;
  updates?: UpdateProvider;
  /** Encrypts the Azure token cache (the desktop app passes Electron's safeStorage). */
  azureTokenEncryption?: CacheEncryption;
  /** Opens Azure's sign-in page in the system browser (desktop); elsewhere the UI or CLI opens the URL it gets. */
  openBrowser?: (url: string) => Promise<void>;
  /** The OS's proxy for the relay, where the host can ask (the desktop app: Electron's session); settings and HTTPS_PROXY win over it. */
  systemProxy?: string | null;
  /** Opens a folder in the system's file manager (the desktop app passes Electron's shell). */
  openFolder?: (path: string) => Promise<void>;
  /** Starts the demo's local relay (the faces pass the emulator's; absent = no demo on this host). */
  startDemoRelay?: DemoRelayStarter;
  /**
   * Restart without dropping a connection: when another agent holds the control socket, listen on
   * every Hybrid Connection first, then ask that agent (handOver) to stop listening and drain within
   * `graceMs`, then take the socket. `waitMs`: how long to wait for our listeners before giving up.
   */
  takeover?: { graceMs: number; waitMs?: number };
  /**
   * Called once this agent has handed over to a successor and its tunnels are drained: the host
   * exits. Without it the host cannot hand over (handOver is refused).
   */
  onHandedOver?: () => void;
  /** Called when a hand-over starts (the host closes what a successor must bind, e.g. the metrics port). */
  onHandOverStarted?: () => void;
  /** Told about tunnels and reconnects as they happen (metrics). */
  observer?: AgentObserver;
}

/** What metrics need beyond the contract's counters: per-event facts as they happen. */
export interface AgentObserver {
  tunnelOpened?(connectionId: string, setupMs: number): void;
  tunnelFailed?(connectionId: string): void;
  tunnelClosed?(connectionId: string, tunnel: TunnelSnapshot): void;
  reconnect?(connectionId: string, reason: ReconnectReason): void;
}

export interface HcmService extends HcmHost {
  start(): Promise<void>;
  stop(options?: { graceMs?: number }): Promise<void>;
  readonly logger: Logger;
  /** Resolves a name or `namespace/name` to a connection id (the CLI accepts either). */
  resolveId(nameOrId: string): Promise<string>;
  /** Listeners online for a connection, as the relay last said (null when not known yet). */
  listenerCount(id: string): number | null;
  /** True once this agent has started handing over to a successor (it no longer listens). */
  readonly handingOverNow: boolean;
}

interface RuntimeDetails {
  createdAt: string | null;
  updatedAt: string | null;
  listenerCount: number | null;
  requiresClientAuthorization: boolean | null;
}

const COUNTER_EVENT_INTERVAL_MS = 250;
/** `tunnels` events: at most one per connection this often, with at most this many tunnels. */
const TUNNEL_EVENT_INTERVAL_MS = 1000;
const TUNNEL_EVENT_LIMIT = 200;
/** How often a connected Hybrid Connection's metadata is read again (endpoint pinning). */
const METADATA_CHECK_MS = 10 * 60_000;

export function connectionIdFor(cs: ConnectionString): string {
  return `${namespaceName(cs)}/${cs.entityPath}`;
}

export { ServiceError, resolveConnectionId };

export function createHcmService(options: HcmServiceOptions): HcmService {
  return new Service(options);
}

class Service implements HcmService {
  readonly logger: Logger;
  private readonly paths: HcmPaths;
  private readonly store: ConfigStore;
  private readonly events = new EventEmitter<{ [E in HcmEvent]: [HcmEvents[E]] }>();
  private readonly engine: RelayEngine | undefined;
  private readonly runtime = new Map<string, RuntimeDetails>();
  private readonly loggedStatus = new Map<string, string>();
  private readonly updates: UpdateProvider;
  private connections: StoredConnection[] = [];
  /** Saved connections that cannot run, with the reason (shown as their status). */
  private configProblems = new Map<string, ErrorInfo>();
  private readonly loggedWarnings = new Set<string>();
  private settings: Settings = {};
  private proxy: ResolvedProxy = { config: undefined, description: 'none', source: 'none' };
  /** Made on first use: the Azure SDKs behind it were most of the start-up time of `hcm list`. */
  private azureSession: Promise<AzureSession> | undefined;
  /** Each Azure-added connection's last attempt to fetch its key again: for which refused string, and when. */
  private readonly keyRefreshes = new Map<string, { refused: string; at: number }>();
  /** The demo lives in memory only: it is never written next to the admin's real connections. */
  private demo: { connection: StoredConnection; relay: DemoRelayHandle } | undefined;
  private demoStarting: Promise<ConnectionDetails> | undefined;
  private control: ControlServer | undefined;
  private unwatch: (() => void) | undefined;
  private counterTimer: NodeJS.Timeout | undefined;
  private metadataTimer: NodeJS.Timeout | undefined;
  private emitScheduled = false;
  private started = false;
  /** Connections whose tunnels changed since the last `tunnels` event. */
  private readonly tunnelsChanged = new Set<string>();
  private tunnelTimer: NodeJS.Timeout | undefined;
  private handingOver = false;
  /** The relay hosts each connection's listener connected to (namespace host, rendezvous gateways). */
  private readonly gateways = new GatewayLog();

  constructor(private readonly options: HcmServiceOptions) {
    this.paths = options.paths ?? hcmPaths();
    this.store = new ConfigStore(this.paths);
    this.logger = options.logger ?? new Logger();
    this.events.setMaxListeners(0);
    this.updates = options.updates ?? unsupportedUpdates();
    this.updates.onChange((state) => this.events.emit('update', state));
    this.logger.on('entry', (entry) => this.events.emit('log', entry));
    if (options.runAgent !== false) {
      this.engine = new RelayEngine({ ...options.tuning, transport: options.transport, gateways: this.gateways });
      this.engine.on('status', (s) => this.onStatus(s));
      this.engine.on('counters', () => this.scheduleCounterEvent());
      // Queued with the channels still opening: 1,000 of these GETs at start slowed the openings.
      this.engine.on('connected', (id) => void this.refreshRuntime(id, true));
      this.engine.on('log', (level, message, id, fields) => this.logger.log(level, message, id, fields));
      this.watchTunnels(this.engine, options.observer ?? {});
    }
  }

  // ------------------------------------------------------------ lifecycle

  async start(): Promise<void> {
    if (this.started) return;
    this.connections = this.loadConfig();
    this.started = true;
    if (!this.engine) return;
    prepareAgentFolders(this.paths);
    try {
      this.control = await this.openControlSocket();
    } catch (err) {
      await this.engine.stop(0); // a failed take-over may have started listening
      throw err;
    }
    this.unwatch = this.store.watch(() => this.reloadConfig());
    // Metadata is read at every connect; this also catches a change made while connected. Queued
    // like the openings: with 1,000 Hybrid Connections these are 1,000 TLS connections at once.
    this.metadataTimer = setInterval(() => {
      for (const c of this.connections) if (this.engine?.snapshot(c.id)?.status === 'Connected') void this.refreshRuntime(c.id, true);
    }, METADATA_CHECK_MS);
    this.metadataTimer.unref();
    this.logger.info(`agent started (${this.connections.length} connection(s), config ${this.store.configFile})`, undefined, {
      event: 'agent.started',
      connections: this.connections.length,
      pid: process.pid,
    });
    this.applyToEngine();
  }

  async stop(options: { graceMs?: number } = {}): Promise<void> {
    this.unwatch?.();
    clearTimeout(this.counterTimer);
    clearInterval(this.tunnelTimer);
    clearInterval(this.metadataTimer);
    await this.control?.close();
    this.control = undefined;
    if (this.engine) {
      this.logger.info('stopping: no new connections are accepted');
      await this.engine.stop(options.graceMs ?? 0);
      await this.demo?.relay.stop();
      this.demo = undefined;
      this.logger.info('agent stopped');
    }
  }

  /** How the relay and Azure are reached: the host's trust settings, and the proxy in use. */
  private transport(): TransportOptions {
    this.ensureLoaded(); // the proxy comes from the saved settings
    return { ...this.options.transport, ...(this.proxy.config ? { proxy: this.proxy.config } : {}) };
  }

  /** Picks up a changed proxy (setting or credentials); running listeners reconnect through it. */
  private applyProxy(settings: Settings, secrets: SecretSettings): void {
    let next: ResolvedProxy;
    try {
      next = resolveProxy(settings, secrets, process.env, this.options.systemProxy);
    } catch (err) {
      this.logger.error(`the proxy setting cannot be used, connecting directly: ${errorMessage(err)}`);
      next = { config: undefined, description: 'none (the setting is not valid)', source: 'none' };
    }
    if (JSON.stringify(next) === JSON.stringify(this.proxy)) return;
    this.proxy = next;
    if (this.started || next.config) this.logger.info(`outbound proxy: ${next.description}`);
    this.engine?.setTransport(this.transport());
  }

  /** Saved connections, then the demo when it runs. */
  private all(): StoredConnection[] {
    return this.demo ? [...this.connections, this.demo.connection] : this.connections;
  }

  private reloadConfig(): void {
    try {
      this.connections = this.loadConfig();
    } catch (err) {
      this.logger.error(`configuration changed but cannot be read, keeping the running one: ${(err as Error).message}`);
      return;
    }
    this.applyToEngine();
    this.emitConnections();
  }

  /** Reads the saved configuration; what it repaired on the way is logged once. */
  private loadConfig(): StoredConnection[] {
    const { connections, warnings, settings, secretSettings } = this.store.load();
    this.settings = settings;
    this.applyProxy(settings, secretSettings);
    for (const w of warnings) {
      if (this.loggedWarnings.has(w)) continue;
      this.loggedWarnings.add(w);
      this.logger.warn(w);
    }
    return connections;
  }

  /**
   * Hands the engine every connection it can run. One that cannot run (a broken connection string
   * or endpoint in the saved files) is marked with the reason and skipped; the others run normally.
   */
  private applyToEngine(): void {
    if (!this.engine) return;
    const specs = [];
    const problems = new Map<string, ErrorInfo>();
    for (const c of this.all()) {
      try {
        parseConnectionString(c.connectionString, { requireEntityPath: true });
        specs.push({ id: c.id, connectionString: c.connectionString, endpoint: parseEndpoint(c.endpoint) });
      } catch (err) {
        const message = `cannot run: the saved configuration is not valid (${errorMessage(err)}); fix ${this.store.configFile} and secrets.json, or remove and add it again`;
        const before = this.configProblems.get(c.id);
        problems.set(c.id, before?.message === message ? before : { message, at: new Date().toISOString() });
        if (before?.message !== message) this.logger.error(message, c.id);
      }
    }
    this.configProblems = problems;
    this.engine.apply(specs);
  }

  // ------------------------------------------------------------ events

  on<E extends HcmEvent>(event: E, listener: (payload: HcmEvents[E]) => void): () => void {
    const l = listener as (payload: HcmEvents[HcmEvent]) => void;
    this.events.on(event, l as never);
    return () => this.events.off(event, l as never);
  }

  private onStatus(s: ListenerSnapshot): void {
    // Log transitions only; the listener already logs each error as it happens. A connection
    // just removed goes down because it was asked to: that is logged as its removal.
    if (!this.all().some((c) => c.id === s.id)) {
      this.loggedStatus.delete(s.id);
    } else if (this.loggedStatus.get(s.id) !== s.status) {
      if (s.status === 'Unauthorized') void this.fetchRotatedKey(s.id);
      this.loggedStatus.set(s.id, s.status);
      this.logger.log(s.status === 'Connected' || s.status === 'Connecting' ? 'info' : 'warn', `status ${s.status}`, s.id, {
        event: 'status',
        status: s.status,
        lastError: s.lastError?.message ?? null,
      });
    }
    this.emitConnections();
  }

  private scheduleCounterEvent(): void {
    if (this.counterTimer) return;
    this.counterTimer = setTimeout(() => {
      this.counterTimer = undefined;
      this.emitConnections();
    }, COUNTER_EVENT_INTERVAL_MS);
  }

  private emitConnections(): void {
    if (this.emitScheduled) return;
    this.emitScheduled = true;
    queueMicrotask(() => {
      this.emitScheduled = false;
      this.events.emit('connections', this.summaries());
    });
  }

  // ------------------------------------------------------------ queries

  async getAppInfo(): Promise<AppInfo> {
    return {
      version: VERSION,
      hostname: hostname(),
      host: this.options.host,
      platform: platform(),
      configDir: this.paths.home,
      logDir: this.paths.logDir,
    };
  }

  async listConnections(): Promise<ConnectionSummary[]> {
    this.ensureLoaded();
    return this.summaries();
  }

  private ensureLoaded(): void {
    if (!this.started) this.connections = this.loadConfig();
  }

  private summaries(): ConnectionSummary[] {
    return this.all().map((c) => this.summary(c));
  }

  private summary(c: StoredConnection): ConnectionSummary {
    const snap = this.engine?.snapshot(c.id);
    const problem = this.configProblems.get(c.id);
    const saved = savedSummary(c);
    return {
      ...saved,
      status: snap?.status ?? saved.status,
      statusSince: snap ? snap.statusSince.toISOString() : saved.statusSince,
      lastError:
        problem ??
        (snap?.lastError ? { message: this.withHint(c, snap.status, snap.lastError.message), at: snap.lastError.at.toISOString() } : null),
      retryAt: problem ? null : (snap?.retryAt?.toISOString() ?? null),
      counters: snap ? { ...snap.counters, lastConnectionAt: snap.counters.lastConnectionAt?.toISOString() ?? null } : saved.counters,
      ...(c === this.demo?.connection ? { demo: true } : {}),
    };
  }

  async resolveId(nameOrId: string): Promise<string> {
    this.ensureLoaded();
    return resolveConnectionId(this.all(), nameOrId);
  }

  private find(id: string): StoredConnection {
    this.ensureLoaded();
    const c = this.all().find((x) => x.id === id);
    if (!c) throw new ServiceError('E_NO_CONNECTION', `no connection with id "${id}"`);
    return c;
  }

  async getConnection(id: string): Promise<ConnectionDetails> {
    const c = this.find(id);
    await this.refreshRuntime(id).catch(() => undefined);
    const rt = this.runtime.get(id);
    return {
      ...this.summary(c),
      serviceBusAddress: c.serviceBusAddress,
      keyName: c.keyName,
      createdAt: rt?.createdAt ?? null,
      updatedAt: rt?.updatedAt ?? null,
      listenerCount: rt?.listenerCount ?? null,
      requiresClientAuthorization: rt?.requiresClientAuthorization ?? null,
      addedAt: c.addedAt,
      endpointSource: c.endpointSource,
      azure: c.azure ? { ...c.azure, portalUrl: this.portalUrl(c.azure) } : null,
      ...this.networkDetails(c),
    };
  }

  /** What a firewall and the clock need: the relay hosts used (when the agent runs here) and the clock against the relay's. */
  private networkDetails(c: StoredConnection): Pick<ConnectionDetails, 'gatewayHosts' | 'gateways' | 'clockSkewSeconds' | 'clockProblem'> {
    const used = this.gateways.list(c.id);
    let host: string | undefined;
    try {
      host = parseConnectionString(c.connectionString).host;
    } catch {
      host = undefined;
    }
    const sample = host ? clockSampleFor(host) : undefined;
    return {
      gatewayHosts: [...new Set(used.map((g) => g.host))],
      gateways: used.map((g) => ({ host: g.host, port: g.port, role: g.role, lastSeen: new Date(g.lastSeen).toISOString() })),
      clockSkewSeconds: sample?.skewSeconds ?? null,
      clockProblem: clockProblem(sample) ?? null,
    };
  }

  /**
   * Asks the relay for the Hybrid Connection's metadata. When the endpoint came from metadata and
   * the admin changed it in Azure, the saved endpoint follows (new connections use the new one).
   */
  private async refreshRuntime(id: string, queued = false): Promise<void> {
    const c = this.all().find((x) => x.id === id);
    if (!c) return;
    const fetch = () => getRuntimeInfo(parseConnectionString(c.connectionString), { ...this.transport(), timeoutMs: 10_000 });
    let info: RuntimeInfo;
    try {
      info = await (queued && this.engine ? this.engine.throughOpenGate(fetch) : fetch());
    } catch (err) {
      this.logger.debug(`runtime information not available: ${(err as Error).message}`, id);
      return;
    }
    this.runtime.set(id, {
      createdAt: info.createdAt ?? null,
      updatedAt: info.updatedAt ?? null,
      listenerCount: info.listenerCount ?? null,
      requiresClientAuthorization: info.requiresClientAuthorization ?? null,
    });
    if (c.endpointSource !== 'metadata' || c === this.demo?.connection) return;
    // The endpoint is pinned: a change in Azure is recorded and shown, never followed silently (an
    // admin must not find the database behind a connection swapped without their say).
    const named = info.endpoint ? formatEndpoint(info.endpoint) : null;
    const recorded = c.endpointInAzure?.endpoint ?? null;
    const next = named && named !== c.endpoint ? named : null;
    if (next === recorded) return;
    await this.store.update((list) => {
      const entry = list.find((x) => x.id === id);
      if (!entry) return;
      if (next) entry.endpointInAzure = { endpoint: next, seenAt: new Date().toISOString() };
      else delete entry.endpointInAzure;
    });
    if (next) {
      this.logger.warn(
        `endpoint changed in Azure: ${c.endpoint} → ${next}; still using ${c.endpoint} until you accept the change (hcm endpoint accept ${c.name}, or Accept in the app)`,
        id,
      );
    } else {
      this.logger.info(`the Hybrid Connection's metadata names ${c.endpoint} again; no change pending`, id);
    }
    this.reloadConfig();
  }

  async acceptEndpointChange(id: string): Promise<ConnectionDetails> {
    const c = this.find(String(id));
    const to = c.endpointInAzure?.endpoint;
    if (!to) throw new ServiceError('E_INVALID', `no endpoint change is pending for ${c.id}; it uses ${c.endpoint}`);
    await this.store.update((list) => {
      const entry = list.find((x) => x.id === c.id);
      if (!entry) throw new ServiceError('E_NO_CONNECTION', `no connection with id "${c.id}"`);
      entry.endpoint = to;
      delete entry.endpointInAzure;
    });
    this.logger.info(`endpoint change accepted: ${c.endpoint} → ${to} (new connections use it)`, c.id);
    this.reloadConfig();
    return this.getConnection(c.id);
  }

  async validateConnectionString(connectionString: string): Promise<ValidationResult> {
    let cs: ConnectionString;
    try {
      cs = parseConnectionString(String(connectionString ?? ''), { requireEntityPath: true });
      if (!cs.sharedAccessKeyName && !cs.sharedAccessSignature) {
        throw new RelayError('E_CONNECTION_STRING', 'connection string has no SharedAccessKeyName/SharedAccessKey');
      }
    } catch (err) {
      return { ok: false, stage: 'parse', error: (err as Error).message };
    }
    let info: RuntimeInfo;
    try {
      info = await getRuntimeInfo(cs, { ...this.transport(), timeoutMs: 15_000 });
    } catch (err) {
      return { ok: false, stage: 'relay', error: errorMessage(err), code: errorCode(err) };
    }
    const rights = await this.listenRightProblem(cs, info);
    if (rights) return { ok: false, stage: 'rights', error: rights.message, code: rights.code };
    const id = connectionIdFor(cs);
    this.ensureLoaded();
    const warnings: string[] = [];
    if (cs.sharedAccessSignature)
      warnings.push('uses a fixed SharedAccessSignature: it cannot be renewed, and the connection stops when it expires');
    if (cs.sharedAccessKeyName && /manage/i.test(cs.sharedAccessKeyName)) {
      warnings.push(
        `uses the rule "${cs.sharedAccessKeyName}", which can probably manage the namespace; a Listen-only rule (defaultListener) is safer`,
      );
    }
    if (info.listenerCount !== undefined && info.listenerCount >= 25)
      warnings.push('already has 25 listeners, the most Azure allows; this agent will be refused');
    return {
      ok: true,
      id,
      name: cs.entityPath!,
      namespace: namespaceName(cs),
      serviceBusAddress: `sb://${hostWithPort(cs)}/`,
      keyName: cs.sharedAccessKeyName ?? null,
      endpoint: info.endpoint ? formatEndpoint(info.endpoint) : null,
      endpointProblem: info.endpointProblem ?? null,
      listenerCount: info.listenerCount ?? null,
      alreadyAdded: this.connections.some((c) => c.id === id),
      warnings,
    };
  }

  /**
   * A rule without Listen (defaultSender, typically) passes the runtime-information GET but can
   * never serve. Where no listener is online the relay is asked with a listen handshake (nothing
   * can be taken from another agent then); where others listen, the rule's name decides.
   */
  private async listenRightProblem(cs: ConnectionString, info: RuntimeInfo): Promise<{ message: string; code: HcmErrorCode } | null> {
    const rule = cs.sharedAccessKeyName ?? 'this SharedAccessSignature';
    const sendOnly = (how: string) => ({
      message: `This policy can only send: copy the defaultListener connection string instead (Shared access policies → defaultListener). ${how}`,
      code: 'E_FORBIDDEN' as const,
    });
    if (info.listenerCount !== undefined && info.listenerCount > 0) {
      const name = cs.sharedAccessKeyName ?? '';
      return /send/i.test(name) && !/listen|manage|root/i.test(name)
        ? sendOnly(`(Judged from the rule's name "${name}": other agents are listening, so the relay was not asked.)`)
        : null;
    }
    try {
      await probeListen(cs, { ...this.transport(), timeoutMs: 15_000 });
      return null;
    } catch (err) {
      if (err instanceof RelayHandshakeError && err.status === 403) {
        return sendOnly(`(The relay refused to let "${rule}" listen: ${err.description})`);
      }
      if (err instanceof RelayHandshakeError && err.status === 401) {
        return { message: `the relay refused the key of "${rule}" for listening: ${err.description}`, code: 'E_UNAUTHORIZED' };
      }
      // The GET worked, so the network is fine: anything else here is left to the agent to report.
      this.logger.debug(`listen rights not checked: ${errorMessage(err)}`);
      return null;
    }
  }

  // ------------------------------------------------------------ changes

  async addConnection(input: AddConnectionInput): Promise<ConnectionDetails> {
    return this.add(input);
  }

  private async add(input: AddConnectionInput, azure?: StoredConnection['azure']): Promise<ConnectionDetails> {
    const text = String(input?.connectionString ?? '').trim();
    const v = await this.validateConnectionString(text);
    if (!v.ok) throw new ServiceError(v.code ?? 'E_INVALID', v.error);
    let endpoint: Endpoint;
    let source: 'metadata' | 'manual';
    if (input.endpoint !== undefined && input.endpoint !== '') {
      if (v.endpoint) {
        throw new ServiceError(
          'E_INVALID',
          `the Hybrid Connection already defines its endpoint (${v.endpoint}); an explicit endpoint is only for Hybrid Connections without one`,
        );
      }
      try {
        endpoint = parseEndpoint(String(input.endpoint));
      } catch (err) {
        throw new ServiceError('E_INVALID', (err as Error).message);
      }
      source = 'manual';
    } else {
      if (!v.endpoint)
        throw new ServiceError('E_INVALID', `${v.endpointProblem ?? 'no endpoint metadata'}; give the endpoint explicitly as host:port`);
      endpoint = parseEndpoint(v.endpoint);
      source = 'metadata';
    }
    const cs = parseConnectionString(text, { requireEntityPath: true });
    await this.store.update((list) => {
      if (list.some((c) => c.id === v.id))
        throw new ServiceError('E_DUPLICATE', `"${v.id}" is already added; remove it first to replace it (e.g. after a key rotation)`);
      list.push({
        id: v.id,
        name: v.name,
        namespace: v.namespace,
        serviceBusAddress: v.serviceBusAddress,
        keyName: cs.sharedAccessKeyName ?? null,
        endpoint: formatEndpoint(endpoint),
        endpointSource: source,
        addedAt: new Date().toISOString(),
        connectionString: text,
        ...(azure ? { azure } : {}),
      });
    });
    this.logger.info(
      `added, endpoint ${formatEndpoint(endpoint)} (${source === 'metadata' ? 'from the Hybrid Connection metadata' : 'given by hand'})`,
      v.id,
    );
    this.reloadConfig();
    return this.getConnection(v.id);
  }

  async removeConnection(id: string): Promise<void> {
    this.find(String(id));
    if (id === this.demo?.connection.id) return this.stopDemo();
    await this.store.update((list) => {
      const i = list.findIndex((c) => c.id === id);
      if (i < 0) throw new ServiceError('E_NO_CONNECTION', `no connection with id "${id}"`);
      list.splice(i, 1);
    });
    this.runtime.delete(id);
    this.gateways.forget(id);
    this.logger.info('removed', id);
    this.reloadConfig();
  }

  async replaceConnectionString(id: string, connectionString: string): Promise<ConnectionDetails> {
    const c = this.find(String(id));
    if (c === this.demo?.connection) throw new ServiceError('E_UNSUPPORTED', 'the demo has no key to replace');
    const text = String(connectionString ?? '').trim();
    const v = await this.validateConnectionString(text);
    if (!v.ok) throw new ServiceError(v.code ?? 'E_INVALID', v.error);
    if (v.id !== c.id) {
      throw new ServiceError('E_INVALID', `this connection string is for ${v.id}, not ${c.id}; add it as a new connection instead`);
    }
    const cs = parseConnectionString(text, { requireEntityPath: true });
    await this.store.update((list) => {
      const entry = list.find((x) => x.id === c.id);
      if (!entry) throw new ServiceError('E_NO_CONNECTION', `no connection with id "${c.id}"`);
      entry.connectionString = text;
      entry.keyName = cs.sharedAccessKeyName ?? null;
    });
    this.logger.info(`connection string replaced (rule ${cs.sharedAccessKeyName ?? 'SharedAccessSignature'}); reconnecting with it`, c.id);
    this.reloadConfig();
    return this.getConnection(c.id);
  }

  async setEndpoint(id: string, endpoint: string): Promise<ConnectionDetails> {
    const c = this.find(String(id));
    if (c.endpointSource !== 'manual') {
      throw new ServiceError(
        'E_INVALID',
        `the endpoint of ${c.id} comes from the Hybrid Connection's metadata in Azure (${c.endpoint}); change it there, not here`,
      );
    }
    let parsed: Endpoint;
    try {
      parsed = parseEndpoint(String(endpoint));
    } catch (err) {
      throw new ServiceError('E_INVALID', errorMessage(err));
    }
    const next = formatEndpoint(parsed);
    await this.store.update((list) => {
      const entry = list.find((x) => x.id === c.id);
      if (!entry) throw new ServiceError('E_NO_CONNECTION', `no connection with id "${c.id}"`);
      entry.endpoint = next;
    });
    this.logger.info(`endpoint changed by hand: ${c.endpoint} -> ${next} (new connections use it)`, c.id);
    this.reloadConfig();
    return this.getConnection(c.id);
  }

  async restartConnection(id: string): Promise<void> {
    this.find(String(id));
    if (!this.engine) throw new ServiceError('E_NO_AGENT', 'no agent is running here; start one with "hcm run"');
    this.logger.info('restart requested', id);
    await this.engine.restart(id);
  }

  async testConnection(id: string): Promise<TestResult> {
    const c = this.find(String(id));
    const cs = parseConnectionString(c.connectionString);
    const transport = this.transport();
    const [endpoint, relay] = await Promise.all([testEndpoint(parseEndpoint(c.endpoint)), testRelay(cs, transport)]);
    // Every other relay host this agent connected to for it: the rendezvous gateways a firewall must let through too.
    const relayPort = cs.port ?? (cs.useDevelopmentEmulator ? 80 : 443);
    const others = this.gateways
      .list(c.id)
      .filter((g) => !(g.host === cs.host.toLowerCase() && g.port === relayPort))
      .filter((g, i, all) => all.findIndex((x) => x.host === g.host && x.port === g.port) === i);
    const steps = [...endpoint, ...relay, ...(await testGateways(others, !cs.useDevelopmentEmulator, transport))];
    return { target: c.id, ok: steps.every((s) => s.ok), steps };
  }

  async getLogs(options: { afterSeq?: number; limit?: number } = {}): Promise<LogEntry[]> {
    const after = Number.isFinite(options?.afterSeq) ? Number(options.afterSeq) : 0;
    const limit = Number.isFinite(options?.limit) ? Math.max(1, Math.min(5000, Number(options.limit))) : 500;
    return this.logger.entries(after, limit);
  }

  // ------------------------------------------------------------ demo

  async startDemo(): Promise<ConnectionDetails> {
    if (this.demo) return this.getConnection(this.demo.connection.id);
    if (!this.engine) throw new ServiceError('E_NO_AGENT', 'no agent is running here; start the demo with "hcm demo"');
    if (!this.options.startDemoRelay) throw new ServiceError('E_UNSUPPORTED', 'this host has no demo');
    const startRelay = this.options.startDemoRelay;
    this.demoStarting ??= (async () => {
      // The relay's own chatter (listeners coming and going) is detail; its problems are not.
      const relay = await startRelay((level, message) => this.logger.log(level === 'info' ? 'debug' : level, `demo relay: ${message}`));
      const connection = demoConnection(relay);
      if (this.connections.some((c) => c.id === connection.id)) {
        await relay.stop();
        throw new ServiceError('E_DUPLICATE', `a saved connection is called "${connection.id}" too; the demo cannot start next to it`);
      }
      this.demo = { connection, relay };
      this.logger.info(
        `demo started: a local relay at ${relay.relayAddress} (nothing leaves this machine), endpoint ${relay.endpoint} (a built-in echo service)`,
        connection.id,
      );
      this.applyToEngine();
      this.emitConnections();
      return this.getConnection(connection.id);
    })().finally(() => {
      this.demoStarting = undefined;
    });
    return this.demoStarting;
  }

  async stopDemo(): Promise<void> {
    await this.demoStarting?.catch(() => undefined);
    const demo = this.demo;
    if (!demo) return;
    this.demo = undefined;
    this.applyToEngine();
    this.runtime.delete(demo.connection.id);
    await demo.relay.stop();
    this.logger.info('demo removed', demo.connection.id);
    this.emitConnections();
  }

  async sendTestTraffic(id: string): Promise<TrafficResult> {
    const c = this.find(String(id));
    const demo = this.demo;
    if (!demo || c !== demo.connection) {
      throw new ServiceError(
        'E_UNSUPPORTED',
        'test traffic needs a Send key, which only the demo has; use "hcm connect" with a Send connection string',
      );
    }
    const result = await sendEchoTraffic(parseConnectionString(demo.relay.send), { transport: this.transport() });
    const detail = result.ok
      ? `${result.connections} connections through the relay, ${result.bytesEchoed} bytes echoed back intact in ${result.ms} ms`
      : `${result.failures.length} of ${result.connections} connections failed: ${result.failures[0]}`;
    this.logger.log(result.ok ? 'info' : 'warn', `test traffic: ${detail}`, c.id);
    return { target: c.id, ...result, detail };
  }

  async getLogLevel(): Promise<LogLevel> {
    return this.logger.getLevel();
  }

  async setLogLevel(level: LogLevel): Promise<void> {
    if (this.logger.getLevel() === level) return;
    this.logger.setLevel(level);
    this.logger.log(level === 'debug' ? 'debug' : 'warn', `log level set to ${level}`);
  }

  async openLogFolder(): Promise<void> {
    if (!this.options.openFolder) throw new ServiceError('E_UNSUPPORTED', `open it yourself: ${this.paths.logDir}`);
    await this.options.openFolder(this.paths.logDir);
  }

  // ------------------------------------------------------------ Azure

  async getAzureState(): Promise<AzureState> {
    return (await this.azure()).state();
  }

  async beginAzureSignIn(options: AzureSignInOptions): Promise<AzureSignInStarted> {
    return (await this.azure()).beginSignIn(options);
  }

  async signOutOfAzure(): Promise<void> {
    return (await this.azure()).signOut();
  }

  private azure(): Promise<AzureSession> {
    this.azureSession ??= import('./azure/azure-session.js').then(
      ({ AzureSession }) =>
        new AzureSession({
          configDir: this.paths.home,
          transport: () => this.transport(),
          encryption: this.options.azureTokenEncryption,
          openBrowser: this.options.openBrowser,
          savedSettings: () => {
            this.ensureLoaded();
            return this.settings.azure;
          },
          saveSettings: async (azure) => {
            await this.store.update((_list, settings) => {
              settings.azure = azure;
            });
            this.reloadConfig();
          },
          onState: (state) => this.events.emit('azure', state),
          log: (level, message) => this.logger.log(level, message),
        }),
    );
    return this.azureSession;
  }

  async listAzureHybridConnections(): Promise<AzureListing> {
    const inventory = await (await this.azure()).list((p) => this.events.emit('azureProgress', p));
    this.ensureLoaded();
    const added = new Set(this.all().map((c) => c.id.toLowerCase()));
    return {
      problems: inventory.problems,
      items: inventory.hybridConnections.map((h) => {
        const connectionId = `${h.namespace}/${h.name}`;
        const disabledReason = added.has(connectionId.toLowerCase())
          ? 'Already added'
          : !h.endpoint
            ? `No endpoint configured (${h.endpointProblem ?? 'no endpoint metadata'})`
            : null;
        return {
          armId: h.id,
          connectionId,
          tenantId: h.tenantId,
          subscriptionId: h.subscriptionId,
          subscriptionName: h.subscriptionName,
          resourceGroup: h.resourceGroup,
          namespace: h.namespace,
          region: h.region,
          name: h.name,
          endpoint: h.endpoint,
          listenerCount: h.listenerCount,
          apps: h.apps,
          disabledReason,
        };
      }),
    };
  }

  async addFromAzure(selections: AzureSelection[]): Promise<AzureAddResult[]> {
    const auth = await (await this.azure()).signedIn();
    const results: AzureAddResult[] = [];
    for (const selection of selections) {
      try {
        const { connectionString, origin } = await (
          await import('./azure/listen-key.js')
        ).fetchListenConnectionString(auth, selection, { transport: this.transport() });
        const added = await this.add(
          { connectionString },
          {
            cloud: origin.cloud,
            tenantId: origin.tenantId,
            subscriptionId: origin.subscriptionId,
            resourceGroup: origin.resourceGroup,
            namespace: origin.namespace,
            hybridConnection: origin.name,
            rule: origin.rule,
            ruleScope: origin.ruleScope,
          },
        );
        this.logger.info(`added from Azure (subscription ${selection.subscriptionId}, rule ${origin.rule})`, added.id);
        results.push({ selection, ok: true, id: added.id });
      } catch (err) {
        results.push({ selection, ok: false, error: errorMessage(err) });
      }
    }
    return results;
  }

  /** A refused key on a connection added through Azure: say how it gets fixed. */
  private withHint(c: StoredConnection, status: string, message: string): string {
    if (status !== 'Unauthorized' || !c.azure) return message;
    return `${message}. Added from Azure: while you are signed in to Azure, HCM fetches a rotated key by itself; otherwise sign in (hcm login) or replace it (hcm set-key)`;
  }

  private portalUrl(origin: NonNullable<StoredConnection['azure']>): string {
    let portal: string;
    try {
      this.ensureLoaded();
      portal = resolveCloud(azureSettings(this.settings.azure)).cloud.portal;
    } catch {
      portal = 'https://portal.azure.com';
    }
    const id = `/subscriptions/${origin.subscriptionId}/resourceGroups/${origin.resourceGroup}/providers/Microsoft.Relay/namespaces/${origin.namespace}/hybridConnections/${origin.hybridConnection}`;
    return `${portal}/#@${origin.tenantId}/resource${id}/overview`;
  }

  /**
   * A connection added through Azure whose key is refused was probably rotated there: with an
   * account signed in, fetch the key again (same rule) and reconnect; without, say how to fix it.
   * A key Azure still gives is not fetched again for two minutes, so a rule without Listen is not hammered.
   */
  private async fetchRotatedKey(id: string): Promise<void> {
    const c = this.connections.find((x) => x.id === id);
    if (!c?.azure) return;
    // Once per refused key every two minutes: a key that Azure itself still gives is not hammered.
    const last = this.keyRefreshes.get(id);
    if (last?.refused === c.connectionString && Date.now() - last.at < 120_000) return;
    this.keyRefreshes.set(id, { refused: c.connectionString, at: Date.now() });
    let auth;
    try {
      auth = await (await this.azure()).signedIn();
    } catch {
      this.logger.warn(
        'the key was refused, probably rotated in Azure: sign in to Azure (hcm login, or Sign in in the app) so HCM fetches the new one by itself, or give it with hcm set-key',
        id,
      );
      return;
    }
    const o = c.azure;
    try {
      const { connectionString } = await (
        await import('./azure/listen-key.js')
      ).fetchListenConnectionString(
        auth,
        {
          tenantId: o.tenantId,
          subscriptionId: o.subscriptionId,
          resourceGroup: o.resourceGroup,
          namespace: o.namespace,
          name: o.hybridConnection,
        },
        { transport: this.transport(), rule: { rule: o.rule, ruleScope: o.ruleScope } },
      );
      if (connectionString === c.connectionString) {
        this.logger.warn(`the key was refused, but Azure still has the same key for the rule ${o.rule}; check the rule's rights`, id);
        return;
      }
      await this.store.update((list) => {
        const entry = list.find((x) => x.id === id);
        if (entry) entry.connectionString = connectionString;
      });
      this.logger.info(`the key was rotated in Azure: fetched the new key of rule ${o.rule} and reconnecting`, id);
      this.reloadConfig();
    } catch (err) {
      this.logger.warn(`the key was refused, and fetching it again from Azure failed: ${errorMessage(err)}`, id);
    }
  }

  // ------------------------------------------------------------ proxy

  async getProxy(): Promise<ProxyState> {
    this.ensureLoaded();
    const env = (() => {
      try {
        return resolveProxy({}, {}).description;
      } catch (err) {
        return `not usable: ${errorMessage(err)}`;
      }
    })();
    return {
      description: this.proxy.description,
      source: this.proxy.source,
      url: this.settings.proxy?.url ?? null,
      noProxy: this.proxy.config?.noProxy ?? [],
      username: this.proxy.config?.username ?? null,
      environment: env,
    };
  }

  async setProxy(input: ProxyInput): Promise<ProxyState> {
    const url = input.url.trim();
    if (url !== 'direct') {
      try {
        parseProxyUrl(url);
      } catch (err) {
        throw new ServiceError('E_INVALID', errorMessage(err));
      }
    }
    if (input.password !== undefined && input.username === undefined) {
      throw new ServiceError('E_INVALID', 'a proxy password needs a user name');
    }
    await this.store.update((_list, settings, secrets) => {
      settings.proxy = { url, ...(input.noProxy ? { noProxy: input.noProxy } : {}) };
      if (input.username !== undefined) secrets.proxy = { username: input.username, password: input.password ?? '' };
      else delete secrets.proxy;
    });
    this.reloadConfig();
    return this.getProxy();
  }

  async clearProxy(): Promise<ProxyState> {
    await this.store.update((_list, settings, secrets) => {
      delete settings.proxy;
      delete secrets.proxy;
    });
    this.reloadConfig();
    return this.getProxy();
  }

  getUpdateState(): Promise<UpdateState> {
    return Promise.resolve(this.updates.getState());
  }

  checkForUpdates(): Promise<UpdateState> {
    return this.updates.check();
  }

  installUpdate(): Promise<void> {
    return this.updates.install();
  }

  // ------------------------------------------------------------ operations: inspector, hand-over

  listenerCount(id: string): number | null {
    return this.runtime.get(id)?.listenerCount ?? null;
  }

  get handingOverNow(): boolean {
    return this.handingOver;
  }

  async listTunnels(id: string, options: { limit?: number } = {}): Promise<TunnelList> {
    const c = this.find(String(id));
    return this.tunnelList(c.id, options.limit ?? 500);
  }

  async closeTunnel(id: string, tunnelId: string): Promise<boolean> {
    const c = this.find(String(id));
    if (!this.engine) throw new ServiceError('E_NO_AGENT', 'no agent is running here, so no tunnel is open');
    return this.engine.closeTunnel(c.id, String(tunnelId));
  }

  private tunnelList(id: string, limit: number): TunnelList {
    const all = this.engine?.tunnels(id) ?? [];
    const tunnels: TunnelInfo[] = all.slice(0, limit).map((t) => ({
      id: t.id,
      connectionId: id,
      sender: t.sender,
      openedAt: t.openedAt.toISOString(),
      bytesToEndpoint: t.bytesToEndpoint,
      bytesFromEndpoint: t.bytesFromEndpoint,
      endpoint: t.endpoint,
      endpointAddress: t.endpointAddress,
    }));
    return { connectionId: id, tunnels, total: all.length, at: new Date().toISOString() };
  }

  /** Tunnel facts to the observer at once; `tunnels` events at most once a second per connection, and only when someone listens. */
  private watchTunnels(engine: RelayEngine, observer: AgentObserver): void {
    const changed = (id: string) => {
      if (this.events.listenerCount('tunnels') === 0) return;
      this.tunnelsChanged.add(id);
      this.tunnelTimer ??= setTimeout(() => {
        this.tunnelTimer = undefined;
        const ids = [...this.tunnelsChanged];
        this.tunnelsChanged.clear();
        for (const c of ids) this.events.emit('tunnels', this.tunnelList(c, TUNNEL_EVENT_LIMIT));
      }, TUNNEL_EVENT_INTERVAL_MS);
    };
    engine.on('counters', changed);
    engine.on('tunnelOpened', (id, _t, setupMs) => observer.tunnelOpened?.(id, setupMs));
    engine.on('tunnelFailed', (id) => observer.tunnelFailed?.(id));
    engine.on('tunnelClosed', (id, t) => observer.tunnelClosed?.(id, t));
    engine.on('reconnect', (id, reason) => observer.reconnect?.(id, reason));
  }

  /** The control socket: ours, or, with `takeover`, the running agent's once it handed it over. */
  private async openControlSocket(): Promise<ControlServer> {
    const group = this.paths.adminGroup ? resolveGroupId(this.paths.adminGroup) : undefined;
    const open = () => startControlServer(this.paths.controlSocket, this, { group });
    try {
      return await open();
    } catch (err) {
      if (!(err instanceof AgentAlreadyRunningError) || !this.options.takeover) throw err;
    }
    await this.takeOverFromRunningAgent(this.options.takeover);
    // The old agent frees the path right after answering; bind it as soon as it is free.
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        return await open();
      } catch (err) {
        if (!(err instanceof AgentAlreadyRunningError) || Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 25));
      }
    }
  }

  /**
   * `hcm run --takeover`: listen on every Hybrid Connection next to the running agent (the relay
   * spreads new connections over both), and only once each one that agent has Connected is
   * Connected here too, ask it to stop listening and drain. Nothing changes for the running agent
   * when this fails.
   */
  private async takeOverFromRunningAgent(takeover: { graceMs: number; waitMs?: number }): Promise<void> {
    const engine = this.engine!;
    const running = await ControlClient.connect(this.paths.controlSocket);
    if (!running) return; // it went away meanwhile: the socket is free
    try {
      const theirs = (await running.call('listConnections')).filter((c) => c.status === 'Connected' && !c.demo).map((c) => c.id);
      const ours = new Set(this.connections.map((c) => c.id));
      const wanted = theirs.filter((id) => ours.has(id));
      this.logger.info(`taking over from the running agent: listening on ${wanted.length} Hybrid Connection(s) first`, undefined, {
        event: 'takeover.start',
        connections: wanted.length,
      });
      this.applyToEngine();
      const waitMs = takeover.waitMs ?? 60_000;
      const deadline = Date.now() + waitMs;
      for (;;) {
        const missing = wanted.filter((id) => engine.snapshot(id)?.status !== 'Connected');
        if (missing.length === 0) break;
        if (Date.now() > deadline) {
          throw new ServiceError(
            'E_AGENT_RUNNING',
            `cannot take over: ${missing.join(', ')} did not connect here within ${Math.round(waitMs / 1000)} s; the running agent keeps serving`,
          );
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      const result = await running.call('handOver', { graceMs: takeover.graceMs });
      this.logger.info(
        `took over from agent pid ${result.pid}: it stopped listening, and its ${result.openTunnels} open connection(s) get up to ${Math.round(result.graceMs / 1000)} s`,
        undefined,
        { event: 'takeover.done', previousPid: result.pid, draining: result.openTunnels },
      );
    } finally {
      running.close();
    }
  }

  async handOver(options: { graceMs: number }): Promise<HandOverResult> {
    if (!this.engine || !this.control) throw new ServiceError('E_NO_AGENT', 'no agent is running here');
    if (!this.options.onHandedOver)
      throw new ServiceError('E_UNSUPPORTED', `this host (${this.options.host}) cannot hand over its connections`);
    if (this.handingOver) throw new ServiceError('E_REFUSED', 'this agent is already handing over');
    this.handingOver = true;
    const graceMs = Math.max(0, Number(options?.graceMs) || 0);
    const openTunnels = this.engine.snapshots().reduce((n, s) => n + s.counters.activeConnections, 0);
    this.logger.info(
      `handing over to a new agent: it listens already; stopping listening here, ${openTunnels} open connection(s) get up to ${Math.round(graceMs / 1000)} s`,
      undefined,
      { event: 'handover', openTunnels, graceMs },
    );
    this.options.onHandOverStarted?.();
    // After this answer is written: free the socket path for the successor, then drain.
    setTimeout(() => {
      const control = this.control;
      this.control = undefined;
      void control?.release();
      void this.stop({ graceMs }).then(() => this.options.onHandedOver?.());
    }, 0);
    return { pid: process.pid, openTunnels, graceMs };
  }
}
