import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { formatConnectionString } from '../relay/connection-string.js';
import type { Right } from '../relay/sas.js';
import { serveAdmin } from './admin.js';
import { Authorizer } from './auth.js';
import { AzureEmulator, type AzureReady } from './azure/server.js';
import { type EmulatorCertificates, ensureCertificates } from './certificates.js';
import {
  type EmulatorConfig,
  type EmulatorHybridConnection,
  type EmulatorNamespace,
  type EmulatorRule,
  demoEmulatorConfig,
  findHybridConnection,
  keepGeneratedKeys,
  locateHybridConnection,
  namespaceOf,
} from './config.js';
import type { EmulatorContext, EmulatorLog } from './context.js';
import { dateAnswersBy, httpDate, sendText, trackingId, writeHttpError } from './handshake.js';
import { Listeners } from './listeners.js';
import { serveManagementGet } from './management.js';
import { Rendezvous, gatewayHostName } from './rendezvous.js';

/**
 * A local Azure Relay that speaks the Hybrid Connections protocol (docs/protocol.md §4–6):
 * listeners hold control channels (listeners.ts), senders are paired with one listener through a
 * single-use rendezvous (rendezvous.ts), and frames are relayed untouched (frame-relay.ts). The
 * management GET answers runtime information (management.ts), and admin hooks under /$emulator/
 * let tests provoke the failures Azure produces (admin.ts). `RelayEmulator` owns the HTTP server
 * and the configuration, and routes each request to its part. Next to the relay, on a port of its
 * own, it runs Entra ID and Azure Resource Manager (azure/), which describe and change the same
 * state: namespaces, Hybrid Connections, rules and keys, listeners online.
 */

export interface EmulatorOptions {
  port?: number;
  host?: string;
  /** Plain ws:// (UseDevelopmentEmulator=true) instead of wss:// with a generated certificate. */
  plain?: boolean;
  config?: EmulatorConfig;
  /** Where the CA is kept between runs (required unless plain). */
  stateDir?: string;
  /** Seconds a listener's token may be past its expiry before the control channel is closed. */
  tokenGraceSeconds?: number;
  rendezvousTimeoutMs?: number;
  /** Idle control channels are dropped silently, like Azure's load balancer does (~4 min). 0 = never. */
  idleTimeoutMs?: number;
  maxListeners?: number;
  /** Serve Entra ID and ARM (always TLS with the emulator's CA). Default: when there is a stateDir. */
  azure?: boolean;
  /** Port of Entra ID and ARM; 0 picks a free one. */
  azurePort?: number;
  /** Items per ARM list page (then a nextLink). */
  armPageSize?: number;
  /** The polling interval the device code endpoint asks for. */
  deviceCodeIntervalSeconds?: number;
  accessTokenLifetimeSeconds?: number;
  /**
   * Seconds the relay's clock is ahead of this machine's (negative: behind): its Date headers and
   * the time it judges token expiry by, so an agent whose clock is off meets what Azure would do.
   */
  clockOffsetSeconds?: number;
  /** Hand out rendezvous addresses on this many gateway hosts in turn (g1-<namespace>.localhost, …); 0 = none. */
  gateways?: number;
  log?: EmulatorLog;
}

export interface EmulatorReady {
  port: number;
  ca: string | null;
  hybridConnections: Record<string, { listen: string; send: string }>;
  /** Entra ID and ARM (absent when not served). */
  azure?: AzureReady;
}

const DEFAULTS = {
  rendezvousTimeoutMs: 30_000,
  idleTimeoutMs: 240_000,
  maxListeners: 25,
  tokenGraceSeconds: 0,
  armPageSize: 100,
  deviceCodeIntervalSeconds: 5,
  accessTokenLifetimeSeconds: 3600,
  clockOffsetSeconds: 0,
  gateways: 0,
};

export class RelayEmulator {
  private readonly options: Required<Omit<EmulatorOptions, 'config' | 'stateDir' | 'log'>> & Pick<EmulatorOptions, 'stateDir'>;
  private readonly context: EmulatorContext;
  private readonly listeners: Listeners;
  private readonly rendezvous: Rendezvous;
  private server: http.Server | https.Server | undefined;
  private readonly openSockets = new Set<Socket>();
  private caPath: string | null = null;
  private azure: AzureEmulator | undefined;

  constructor(options: EmulatorOptions = {}) {
    this.options = {
      port: options.port ?? 0,
      host: options.host ?? '127.0.0.1',
      plain: options.plain ?? false,
      stateDir: options.stateDir,
      tokenGraceSeconds: options.tokenGraceSeconds ?? DEFAULTS.tokenGraceSeconds,
      rendezvousTimeoutMs: options.rendezvousTimeoutMs ?? DEFAULTS.rendezvousTimeoutMs,
      idleTimeoutMs: options.idleTimeoutMs ?? DEFAULTS.idleTimeoutMs,
      maxListeners: options.maxListeners ?? DEFAULTS.maxListeners,
      azure: options.azure ?? options.stateDir !== undefined,
      azurePort: options.azurePort ?? 0,
      armPageSize: options.armPageSize ?? DEFAULTS.armPageSize,
      deviceCodeIntervalSeconds: options.deviceCodeIntervalSeconds ?? DEFAULTS.deviceCodeIntervalSeconds,
      accessTokenLifetimeSeconds: options.accessTokenLifetimeSeconds ?? DEFAULTS.accessTokenLifetimeSeconds,
      clockOffsetSeconds: options.clockOffsetSeconds ?? DEFAULTS.clockOffsetSeconds,
      gateways: options.gateways ?? DEFAULTS.gateways,
    };
    const now = () => Date.now() + this.options.clockOffsetSeconds * 1000;
    this.context = {
      config: options.config ?? demoEmulatorConfig(),
      settings: this.options,
      auth: new Authorizer(() => this.context.config, this.options.tokenGraceSeconds, now),
      log: options.log ?? (() => undefined),
      port: () => this.port,
      now,
    };
    this.listeners = new Listeners(this.context, (conn, clean) => this.rendezvous.listenerOffline(conn, clean));
    this.rendezvous = new Rendezvous(this.context, this.listeners);
  }

  private certifiedHosts = new Set<string>();

  private get config(): EmulatorConfig {
    return this.context.config;
  }

  async start(): Promise<EmulatorReady> {
    let certs: EmulatorCertificates | undefined;
    if (!this.options.plain || this.options.azure) {
      if (!this.options.stateDir) throw new Error('stateDir is required for TLS (it holds the emulator CA)');
      certs = await ensureCertificates(this.options.stateDir, this.certificateHosts());
      this.certifiedHosts = new Set(this.certificateHosts());
    }
    if (this.options.plain) {
      this.server = http.createServer();
    } else {
      this.caPath = certs!.caPath;
      this.server = https.createServer({ key: certs!.key, cert: certs!.cert });
    }
    const server = this.server;
    server.on('request', (req, res) => this.onRequest(req, res));
    server.on('upgrade', (req, socket: Socket, head) => this.onUpgrade(req, socket, head));
    server.on('connection', (socket: Socket) => this.track(socket));
    server.on('secureConnection', (socket: Socket) => this.track(socket));
    server.on('clientError', (_err, socket: Socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    if (this.options.azure) await this.startAzure(certs!);
    return this.readyInfo();
  }

  private async startAzure(certs: EmulatorCertificates): Promise<void> {
    this.azure = new AzureEmulator({
      host: this.options.host,
      port: this.options.azurePort,
      stateDir: this.options.stateDir!,
      tls: { key: certs.key, cert: certs.cert, caPath: certs.caPath },
      relay: {
        config: () => this.config,
        listenerCount: (hc) => this.listeners.count(hc.name.toLowerCase()),
        connectionString: (ns, rule, key, hc) => this.formatConnectionString(ns, rule, key, hc),
        serviceBusEndpoint: (ns) => `${this.options.plain ? 'http' : 'https'}://${this.relayHost(ns)}:${this.port}/`,
        keysChanged: () => this.context.auth.forget(),
      },
      pageSize: this.options.armPageSize,
      deviceCodeIntervalSeconds: this.options.deviceCodeIntervalSeconds,
      accessTokenLifetimeSeconds: this.options.accessTokenLifetimeSeconds,
      log: this.context.log,
    });
    try {
      await this.azure.start();
    } catch (err) {
      this.azure = undefined;
      await this.stop();
      throw err;
    }
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  /** Connection strings for every Hybrid Connection, for the ready line. */
  readyInfo(): EmulatorReady {
    const hybridConnections: EmulatorReady['hybridConnections'] = {};
    for (const ns of this.config.namespaces) {
      for (const hc of ns.hybridConnections.values()) {
        hybridConnections[hc.name] = {
          listen: this.connectionStringFor(hc, 'Listen'),
          send: this.connectionStringFor(hc, 'Send'),
        };
      }
    }
    return { port: this.port, ca: this.caPath, hybridConnections, ...(this.azure ? { azure: this.azure.readyInfo() } : {}) };
  }

  /** Prefers an entity rule whose rights are exactly the one asked for, as the agent should. */
  connectionStringFor(hc: EmulatorHybridConnection, right: Right): string {
    const ns = namespaceOf(this.config, hc);
    const rule =
      hc.rules.find((r) => r.rights.length === 1 && r.rights[0] === right) ??
      hc.rules.find((r) => r.rights.includes(right)) ??
      ns.rules.find((r) => r.rights.includes(right) || r.rights.includes('Manage'));
    if (!rule) return '';
    return this.formatConnectionString(ns, rule, 0, hc);
  }

  /** A rule's connection string with its primary (0) or secondary (1) key; with `hc`, for that entity (ARM's listKeys too). */
  formatConnectionString(ns: EmulatorNamespace, rule: EmulatorRule, key: 0 | 1, hc?: EmulatorHybridConnection): string {
    return formatConnectionString(
      {
        host: this.relayHost(ns),
        port: this.port,
        sharedAccessKeyName: rule.name,
        sharedAccessKey: rule.keys[key],
        sharedAccessSignature: undefined,
        entityPath: hc?.name,
        operationTimeout: undefined,
        authentication: undefined,
        useDevelopmentEmulator: this.options.plain,
      },
      { includeSecrets: true },
    );
  }

  /**
   * The host a namespace is reached at on this relay (connection strings and ARM's serviceBusEndpoint):
   * `<namespace>.localhost`, as Azure serves each namespace under its own host. Names under
   * .localhost are loopback (RFC 6761); the agent resolves them so, as browsers do.
   */
  private relayHost(ns: EmulatorNamespace): string {
    return `${ns.name.toLowerCase()}.localhost`;
  }

  /** Every name the relay's certificate must carry: the bind address, each namespace's host and its gateways. */
  private certificateHosts(): string[] {
    const gateways = Array.from({ length: this.options.gateways }, (_, i) => i + 1);
    return [
      this.options.host,
      ...this.config.namespaces.flatMap((ns) => [this.relayHost(ns), ...gateways.map((n) => gatewayHostName(ns.name, n))]),
    ];
  }

  /** A reload that adds namespaces gets a certificate naming them (wildcards under .localhost are not accepted by TLS clients). */
  private async refreshCertificate(): Promise<void> {
    const server = this.server;
    if (!this.options.stateDir || this.options.plain || !(server instanceof https.Server)) return;
    const hosts = this.certificateHosts();
    if (hosts.every((h) => this.certifiedHosts.has(h))) return;
    try {
      const certs = await ensureCertificates(this.options.stateDir, hosts);
      server.setSecureContext({ key: certs.key, cert: certs.cert });
      this.certifiedHosts = new Set(hosts);
    } catch (err) {
      this.context.log('error', `could not make a certificate for the new namespaces: ${(err as Error).message}`);
    }
  }

  /** Applies a new configuration; deleted Hybrid Connections lose their listeners with 1001. */
  reload(next: EmulatorConfig): void {
    this.context.auth.forget(); // keys may have been rotated
    keepGeneratedKeys(next, this.config);
    for (const ns of next.namespaces) {
      const nsBefore = this.config.namespaces.find((n) => n.name === ns.name);
      if (nsBefore) {
        ns.createdAt = nsBefore.createdAt;
        ns.updatedAt = nsBefore.region === ns.region ? nsBefore.updatedAt : new Date();
      }
      for (const [key, hc] of ns.hybridConnections) {
        const before = findHybridConnection(this.config, key);
        if (!before) continue;
        hc.createdAt = before.createdAt;
        const same =
          before.userMetadata === hc.userMetadata &&
          before.requiresClientAuthorization === hc.requiresClientAuthorization &&
          JSON.stringify(before.rules) === JSON.stringify(hc.rules);
        hc.updatedAt = same ? before.updatedAt : new Date();
      }
    }
    this.context.config = next;
    for (const key of this.listeners.hcKeys()) {
      if (!findHybridConnection(next, key)) this.listeners.close(key, 1001, 'The Hybrid Connection was deleted');
    }
    this.rendezvous.dropDeleted(next);
    void this.refreshCertificate();
    this.context.log('info', 'configuration reloaded');
  }

  async stop(): Promise<void> {
    await this.azure?.stop();
    this.azure = undefined;
    for (const key of this.listeners.hcKeys()) this.listeners.close(key, 1001, 'The service is shutting down');
    this.rendezvous.shutDown();
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      setTimeout(() => {
        for (const s of this.openSockets) s.destroy();
      }, 200).unref();
    });
    this.server = undefined;
  }

  private track(socket: Socket): void {
    if (this.openSockets.has(socket)) return;
    this.openSockets.add(socket);
    socket.on('close', () => this.openSockets.delete(socket));
  }

  /** WebSocket upgrades: /$hc/{path}?sb-hc-action=listen|accept|connect (connect by default). */
  private onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    dateAnswersBy(socket, this.context.now);
    const url = new URL(req.url ?? '/', 'http://emulator');
    if (!url.pathname.startsWith('/$hc/')) {
      writeHttpError(socket, 404, `No such path. ${trackingId()}`);
      return;
    }
    const action = url.searchParams.get('sb-hc-action') ?? 'connect';
    const located = locateHybridConnection(this.config, url.pathname.slice('/$hc/'.length), req.headers.host);
    switch (action) {
      case 'listen':
        this.listeners.onListen(req, socket, head, url, located?.hc);
        return;
      case 'accept':
        this.rendezvous.onAccept(req, socket, head, url);
        return;
      case 'connect':
        this.rendezvous.onConnect(req, socket, head, url, located?.hc);
        return;
      default:
        writeHttpError(socket, 400, `Unknown sb-hc-action "${action.slice(0, 40)}". ${trackingId()}`);
    }
  }

  /** Plain HTTP: the admin hooks, the management GET, and a few fixed answers. */
  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    res.setHeader('Date', httpDate(this.context.now())); // the relay's clock, which --clock-offset shifts
    const url = new URL(req.url ?? '/', 'http://emulator');
    if (url.pathname.startsWith('/$emulator/')) return serveAdmin(this.context, this.listeners, this.rendezvous, req, res, url);
    if (url.pathname.startsWith('/$hc/')) {
      // HTTP mode of Hybrid Connections: App Service never uses it and the agent answers 501.
      return sendText(res, 501, 'HTTP requests over Hybrid Connections are not supported by this emulator');
    }
    if (req.method === 'GET' && url.pathname.length > 1) return serveManagementGet(this.context, this.listeners, req, res, url);
    if (req.method === 'GET' && url.pathname === '/') return sendText(res, 200, 'Open HCM Azure Relay emulator');
    sendText(res, 404, `No such resource. ${trackingId()}`);
  }
}
