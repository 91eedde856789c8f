import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { formatConnectionString } from '../relay/connection-string.js';
import { type Right, type SasRule, parseSasToken, verifySasToken } from '../relay/sas.js';
import { emptyFeed, hybridConnectionEntry } from './atom.js';
import { ensureCertificates } from './certificates.js';
import {
  type EmulatorConfig,
  type EmulatorHybridConnection,
  type EmulatorRule,
  demoEmulatorConfig,
  findHybridConnection,
  keepGeneratedKeys,
  namespaceOf,
} from './config.js';
import { serverCloseFrame } from '../relay/frames.js';
import { adoptPooled } from '../relay/pooled-reads.js';
import { relayFrames } from './frame-relay.js';
import { offeredProtocols, upgradeProblem, writeHttpError, writeSwitchingProtocols } from './handshake.js';

/**
 * A local Azure Relay that speaks the Hybrid Connections protocol (docs/protocol.md §4–6):
 * listeners hold control channels, senders are paired with one listener through a single-use
 * rendezvous, and frames are relayed untouched. Admin hooks under /$emulator/ let tests provoke
 * the failures Azure produces (dropped or frozen listeners, service errors, hostile messages).
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
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

export interface EmulatorReady {
  port: number;
  ca: string | null;
  hybridConnections: Record<string, { listen: string; send: string }>;
}

interface ListenerConnection {
  id: string;
  hcKey: string;
  ws: WebSocket;
  socket: Socket;
  /** host[:port] the listener used, so the accept address is reachable from it. */
  authority: string;
  expiresAt: number;
  expiryTimer?: NodeJS.Timeout;
  idleTimer?: NodeJS.Timeout;
  frozen: boolean;
}

interface Rendezvous {
  id: string;
  hcKey: string;
  listener: ListenerConnection;
  req: IncomingMessage;
  socket: Socket;
  head: Buffer;
  timer: NodeJS.Timeout;
}

const DEFAULTS = {
  rendezvousTimeoutMs: 30_000,
  idleTimeoutMs: 240_000,
  maxListeners: 25,
  tokenGraceSeconds: 0,
};

const CONTROL_MAX_PAYLOAD = 1024 * 1024;

export class RelayEmulator {
  private config: EmulatorConfig;
  private readonly options: Required<Omit<EmulatorOptions, 'config' | 'stateDir' | 'log'>> & Pick<EmulatorOptions, 'stateDir'>;
  private readonly log: NonNullable<EmulatorOptions['log']>;
  private server: http.Server | https.Server | undefined;
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: CONTROL_MAX_PAYLOAD });
  private readonly listeners = new Map<string, Set<ListenerConnection>>();
  private readonly rendezvous = new Map<string, Rendezvous>();
  private readonly openSockets = new Set<Socket>();
  private readonly acceptedTokens = new Map<string, number>();
  private caPath: string | null = null;
  private readonly relays = new Set<[Socket, Socket]>();

  private get activeRelays(): number {
    return this.relays.size;
  }

  constructor(options: EmulatorOptions = {}) {
    this.config = options.config ?? demoEmulatorConfig();
    this.options = {
      port: options.port ?? 0,
      host: options.host ?? '127.0.0.1',
      plain: options.plain ?? false,
      stateDir: options.stateDir,
      tokenGraceSeconds: options.tokenGraceSeconds ?? DEFAULTS.tokenGraceSeconds,
      rendezvousTimeoutMs: options.rendezvousTimeoutMs ?? DEFAULTS.rendezvousTimeoutMs,
      idleTimeoutMs: options.idleTimeoutMs ?? DEFAULTS.idleTimeoutMs,
      maxListeners: options.maxListeners ?? DEFAULTS.maxListeners,
    };
    this.log = options.log ?? (() => undefined);
  }

  async start(): Promise<EmulatorReady> {
    if (this.options.plain) {
      this.server = http.createServer();
    } else {
      if (!this.options.stateDir) throw new Error('stateDir is required for TLS (it holds the emulator CA)');
      const certs = await ensureCertificates(this.options.stateDir, [this.options.host]);
      this.caPath = certs.caPath;
      this.server = https.createServer({ key: certs.key, cert: certs.cert });
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
    return this.readyInfo();
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
    return { port: this.port, ca: this.caPath, hybridConnections };
  }

  /** Prefers an entity rule whose rights are exactly the one asked for, as the agent should. */
  connectionStringFor(hc: EmulatorHybridConnection, right: Right): string {
    const ns = namespaceOf(this.config, hc);
    const rule =
      hc.rules.find((r) => r.rights.length === 1 && r.rights[0] === right) ??
      hc.rules.find((r) => r.rights.includes(right)) ??
      ns.rules.find((r) => r.rights.includes(right) || r.rights.includes('Manage'));
    if (!rule) return '';
    return formatConnectionString(
      {
        host: 'localhost',
        port: this.port,
        sharedAccessKeyName: rule.name,
        sharedAccessKey: rule.keys[0],
        sharedAccessSignature: undefined,
        entityPath: hc.name,
        operationTimeout: undefined,
        authentication: undefined,
        useDevelopmentEmulator: this.options.plain,
      },
      { includeSecrets: true },
    );
  }

  /** Applies a new configuration; deleted Hybrid Connections lose their listeners with 1001. */
  reload(next: EmulatorConfig): void {
    this.acceptedTokens.clear(); // keys may have been rotated
    keepGeneratedKeys(next, this.config);
    for (const ns of next.namespaces) {
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
    this.config = next;
    for (const key of [...this.listeners.keys()]) {
      if (!findHybridConnection(next, key)) this.closeListeners(key, 1001, 'The Hybrid Connection was deleted');
    }
    for (const r of [...this.rendezvous.values()]) {
      if (!findHybridConnection(next, r.hcKey)) this.failRendezvous(r, 404, 'Endpoint does not exist');
    }
    this.log('info', 'configuration reloaded');
  }

  async stop(): Promise<void> {
    for (const key of [...this.listeners.keys()]) this.closeListeners(key, 1001, 'The service is shutting down');
    for (const r of [...this.rendezvous.values()]) this.failRendezvous(r, 503, 'The service is shutting down');
    for (const pair of this.relays) {
      for (const s of pair) if (!s.destroyed) s.end(serverCloseFrame(1001, 'The service is shutting down'));
    }
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

  // ---------------------------------------------------------------- upgrades

  private onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://emulator');
    if (!url.pathname.startsWith('/$hc/')) {
      writeHttpError(socket, 404, `No such path. ${trackingId()}`);
      return;
    }
    const action = url.searchParams.get('sb-hc-action') ?? 'connect';
    const located = this.locate(url.pathname.slice('/$hc/'.length));
    switch (action) {
      case 'listen':
        this.onListen(req, socket, head, url, located?.hc);
        return;
      case 'accept':
        this.onAccept(req, socket, head, url);
        return;
      case 'connect':
        this.onConnect(req, socket, head, url, located?.hc);
        return;
      default:
        writeHttpError(socket, 400, `Unknown sb-hc-action "${action.slice(0, 40)}". ${trackingId()}`);
    }
  }

  /** Entity names may contain '/', so the longest existing prefix of the path wins. */
  private locate(rawPath: string): { hc: EmulatorHybridConnection; suffix: string } | undefined {
    let segments: string[];
    try {
      segments = rawPath.split('/').map(decodeURIComponent);
    } catch {
      return undefined;
    }
    for (let n = segments.length; n > 0; n--) {
      const hc = findHybridConnection(this.config, segments.slice(0, n).join('/'));
      if (hc) return { hc, suffix: segments.slice(n).join('/') };
    }
    return undefined;
  }

  private rulesFor(hc: EmulatorHybridConnection): SasRule[] {
    return [...hc.rules, ...namespaceOf(this.config, hc).rules].map((r: EmulatorRule) => ({
      name: r.name,
      rights: r.rights,
      keys: r.keys,
    }));
  }

  /** undefined when authorized, otherwise the HTTP status and text to answer with. */
  private authorize(
    req: IncomingMessage,
    token: string | null | undefined,
    hc: EmulatorHybridConnection,
    right: Right,
  ): [number, string] | undefined {
    if (!token) return [401, `MissingToken: The request does not contain a token. ${trackingId()}`];
    // Senders reuse a token for many connections; a token already accepted for this entity and
    // right is accepted again until it expires (the cache is dropped when the config changes).
    const cacheKey = `${right}|${hc.name.toLowerCase()}|${hostOf(req)}|${token}`;
    const cachedUntil = this.acceptedTokens.get(cacheKey);
    if (cachedUntil !== undefined && cachedUntil + this.options.tokenGraceSeconds >= Date.now() / 1000) return undefined;
    const result = verifySasToken({
      token,
      host: hostOf(req),
      entityPath: hc.name,
      requiredRight: right,
      rules: this.rulesFor(hc),
      graceSeconds: this.options.tokenGraceSeconds,
    });
    if (result.ok) {
      if (this.acceptedTokens.size >= 1000) this.acceptedTokens.clear();
      this.acceptedTokens.set(cacheKey, result.expiresAt);
      return undefined;
    }
    const status = result.reason === 'insufficient-rights' || result.reason === 'wrong-audience' ? 403 : 401;
    const prefix = status === 403 ? 'Unauthorized access' : 'InvalidSignature';
    return [status, `${prefix}: ${result.message}. ${trackingId()}`];
  }

  private onListen(req: IncomingMessage, socket: Socket, head: Buffer, url: URL, hc: EmulatorHybridConnection | undefined): void {
    const problem = upgradeProblem(req);
    if (problem) return writeHttpError(socket, 400, `${problem}. ${trackingId()}`);
    if (!hc) return writeHttpError(socket, 404, `Endpoint does not exist. ${trackingId()}`);
    const token = tokenFrom(req, url);
    const denied = this.authorize(req, token, hc, 'Listen');
    if (denied) return writeHttpError(socket, denied[0], denied[1]);
    const key = hc.name.toLowerCase();
    const set = this.listeners.get(key) ?? new Set();
    if (set.size >= this.options.maxListeners) {
      return writeHttpError(
        socket,
        403,
        `QuotaExceeded: at most ${this.options.maxListeners} listeners per Hybrid Connection. ${trackingId()}`,
      );
    }
    const expiresAt = verifyExpiry(token!);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const conn: ListenerConnection = {
        id: url.searchParams.get('sb-hc-id') ?? randomUUID(),
        hcKey: key,
        ws,
        socket,
        authority: req.headers.host ?? `localhost:${this.port}`,
        expiresAt,
        frozen: false,
      };
      set.add(conn);
      this.listeners.set(key, set);
      this.scheduleExpiry(conn);
      this.touch(conn);
      this.log('info', `listener ${conn.id} online for ${hc.name} (${set.size} now)`);
      ws.on('message', (data, isBinary) => this.onControlMessage(conn, hc, req, data as Buffer, isBinary));
      ws.on('ping', () => this.touch(conn));
      ws.on('pong', () => this.touch(conn));
      ws.on('error', () => undefined);
      ws.on('close', () => this.removeListener(conn));
    });
  }

  private removeListener(conn: ListenerConnection): void {
    clearTimeout(conn.expiryTimer);
    clearTimeout(conn.idleTimer);
    const set = this.listeners.get(conn.hcKey);
    if (!set?.delete(conn)) return;
    if (set.size === 0) this.listeners.delete(conn.hcKey);
    this.log('info', `listener ${conn.id} offline (${set.size} left)`);
    // Connections it was asked to accept cannot be accepted any more.
    for (const r of [...this.rendezvous.values()]) {
      if (r.listener === conn) this.failRendezvous(r, 502, 'The listener disconnected before accepting the connection');
    }
  }

  private scheduleExpiry(conn: ListenerConnection): void {
    clearTimeout(conn.expiryTimer);
    const ms = (conn.expiresAt + this.options.tokenGraceSeconds) * 1000 - Date.now();
    conn.expiryTimer = setTimeout(
      () => {
        this.log('info', `listener ${conn.id}: token expired`);
        conn.ws.close(1008, 'The token has expired');
      },
      Math.max(0, Math.min(ms, 2 ** 31 - 1)),
    );
  }

  /** Any frame from the listener resets the load balancer's idle clock. */
  private touch(conn: ListenerConnection): void {
    if (!this.options.idleTimeoutMs || conn.frozen) return;
    clearTimeout(conn.idleTimer);
    conn.idleTimer = setTimeout(() => {
      this.log('info', `listener ${conn.id}: idle for ${this.options.idleTimeoutMs} ms, dropped`);
      conn.socket.destroy();
    }, this.options.idleTimeoutMs);
  }

  private onControlMessage(
    conn: ListenerConnection,
    hc: EmulatorHybridConnection,
    req: IncomingMessage,
    data: Buffer,
    isBinary: boolean,
  ): void {
    this.touch(conn);
    let command: unknown;
    try {
      command = isBinary ? undefined : JSON.parse(data.toString('utf8'));
    } catch {
      command = undefined;
    }
    const renew = (command as { renewToken?: { token?: unknown } } | undefined)?.renewToken;
    if (renew) {
      const token = typeof renew.token === 'string' ? renew.token : undefined;
      const current = findHybridConnection(this.config, conn.hcKey) ?? hc;
      const denied = this.authorize(req, token, current, 'Listen');
      if (denied) {
        this.log('warn', `listener ${conn.id}: renewToken refused (${denied[1]})`);
        conn.ws.close(1008, 'The renewed token is not valid');
        return;
      }
      conn.expiresAt = verifyExpiry(token!);
      this.scheduleExpiry(conn);
      this.log('info', `listener ${conn.id}: token renewed until ${new Date(conn.expiresAt * 1000).toISOString()}`);
      return;
    }
    this.log('warn', `listener ${conn.id}: ignored an unknown control message`);
  }

  private onConnect(req: IncomingMessage, socket: Socket, head: Buffer, url: URL, hc: EmulatorHybridConnection | undefined): void {
    const problem = upgradeProblem(req);
    if (problem) return writeHttpError(socket, 400, `${problem}. ${trackingId()}`);
    if (!hc) return writeHttpError(socket, 404, `Endpoint does not exist. ${trackingId()}`);
    if (hc.requiresClientAuthorization) {
      const denied = this.authorize(req, tokenFrom(req, url), hc, 'Send');
      if (denied) return writeHttpError(socket, denied[0], denied[1]);
    }
    const key = hc.name.toLowerCase();
    const candidates = [...(this.listeners.get(key) ?? [])].filter((l) => l.ws.readyState === WebSocket.OPEN);
    if (candidates.length === 0) {
      return writeHttpError(socket, 404, `There are no listeners connected for the endpoint. ${trackingId()}`);
    }
    const listener = candidates[Math.floor(Math.random() * candidates.length)]!;
    const id = randomUUID();
    const scheme = this.options.plain ? 'ws' : 'wss';
    const address = `${scheme}://${listener.authority}/$hc/${encodeURI(hc.name)}?sb-hc-action=accept&sb-hc-id=${id}`;
    const rendezvous: Rendezvous = {
      id,
      hcKey: key,
      listener,
      req,
      socket,
      head,
      timer: setTimeout(
        () => this.failRendezvous(rendezvous, 504, 'The listener did not accept the connection in time'),
        this.options.rendezvousTimeoutMs,
      ),
    };
    this.rendezvous.set(id, rendezvous);
    socket.on('close', () => {
      if (this.rendezvous.get(id) === rendezvous) {
        clearTimeout(rendezvous.timer);
        this.rendezvous.delete(id);
      }
    });
    listener.ws.send(
      JSON.stringify({
        accept: {
          address,
          id,
          connectHeaders: forwardedHeaders(req),
          remoteEndpoint: { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 },
        },
      }),
    );
  }

  private failRendezvous(r: Rendezvous, status: number, description: string): void {
    if (this.rendezvous.get(r.id) !== r) return;
    clearTimeout(r.timer);
    this.rendezvous.delete(r.id);
    writeHttpError(r.socket, status, `${description}. ${trackingId()}`);
  }

  private onAccept(req: IncomingMessage, socket: Socket, head: Buffer, url: URL): void {
    const id = url.searchParams.get('sb-hc-id') ?? '';
    const r = this.rendezvous.get(id);
    if (!r || r.socket.destroyed) {
      return writeHttpError(socket, 404, `The rendezvous does not exist, was used or expired. ${trackingId()}`);
    }
    const statusText = url.searchParams.get('sb-hc-statusCode');
    if (statusText !== null) {
      // Reject: the listener hears 410, the sender gets the listener's status and text.
      const status = Number(statusText);
      if (!/^\d{3}$/.test(statusText) || status < 400 || status > 599) {
        return writeHttpError(socket, 400, `sb-hc-statusCode must be an HTTP status 400-599. ${trackingId()}`);
      }
      const description = url.searchParams.get('sb-hc-statusDescription') ?? '';
      clearTimeout(r.timer);
      this.rendezvous.delete(id);
      writeHttpError(r.socket, status, description || `Rejected by the listener. ${trackingId()}`);
      writeHttpError(socket, 410, `Connection rejected. ${trackingId()}`);
      return;
    }
    const problem = upgradeProblem(req);
    if (problem) return writeHttpError(socket, 400, `${problem}. ${trackingId()}`);
    clearTimeout(r.timer);
    this.rendezvous.delete(id);
    const listenerProtocol = offeredProtocols(req)[0];
    const senderOffered = offeredProtocols(r.req);
    writeSwitchingProtocols(socket, req, listenerProtocol);
    writeSwitchingProtocols(r.socket, r.req, listenerProtocol && senderOffered.includes(listenerProtocol) ? listenerProtocol : undefined);
    // Plain sockets move to pooled reads (the relay is in the path of every benchmark byte).
    const senderSide = adoptPooled(r.socket);
    const listenerSide = adoptPooled(socket);
    const pair: [Socket, Socket] = [senderSide, listenerSide];
    this.relays.add(pair);
    relayFrames(senderSide, listenerSide, r.head, head, () => {
      this.relays.delete(pair);
    });
  }

  // ---------------------------------------------------------------- plain HTTP

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://emulator');
    if (url.pathname.startsWith('/$emulator/')) return this.onAdmin(req, res, url);
    if (url.pathname.startsWith('/$hc/')) {
      // HTTP mode of Hybrid Connections: App Service never uses it and the agent answers 501.
      return sendText(res, 501, 'HTTP requests over Hybrid Connections are not supported by this emulator');
    }
    if (req.method === 'GET' && url.pathname.length > 1) return this.onManagementGet(req, res, url);
    if (req.method === 'GET' && url.pathname === '/') return sendText(res, 200, 'Open HCM Azure Relay emulator');
    sendText(res, 404, `No such resource. ${trackingId()}`);
  }

  /** The runtime-info GET the agent uses to learn the endpoint (Listen is enough). */
  private onManagementGet(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const located = this.locate(url.pathname.slice(1));
    const token = req.headers.authorization ?? req.headers.servicebusauthorization;
    if (!located || located.suffix) {
      res.writeHead(200, { 'Content-Type': 'application/atom+xml;type=feed;charset=utf-8' });
      res.end(emptyFeed());
      return;
    }
    const hc = located.hc;
    const denied = ['Listen', 'Send', 'Manage']
      .map((right) => this.authorize(req, typeof token === 'string' ? token : undefined, hc, right as Right))
      .reduce((acc, d) => (acc === undefined || d === undefined ? undefined : acc));
    if (denied) return sendText(res, denied[0], denied[1]);
    const self = `https://${req.headers.host ?? 'localhost'}/${encodeURI(hc.name)}?api-version=2016-07`;
    res.writeHead(200, { 'Content-Type': 'application/atom+xml;type=entry;charset=utf-8' });
    res.end(hybridConnectionEntry(hc, self, this.listeners.get(hc.name.toLowerCase())?.size ?? 0));
  }

  /**
   * Test hooks, authorized by a Manage token for the Hybrid Connection's namespace:
   *   GET  /$emulator/hybridConnections/{name}                    → {listeners, pendingRendezvous, activeRelays}
   *   POST /$emulator/hybridConnections/{name}/listeners/close?code=1011&reason=…
   *   POST /$emulator/hybridConnections/{name}/listeners/drop     (TCP reset, no Close frame)
   *   POST /$emulator/hybridConnections/{name}/listeners/freeze   (read and discard everything: no pongs, no renewals)
   *   POST /$emulator/hybridConnections/{name}/listeners/send     (body sent as one text frame to each listener)
   */
  private onAdmin(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const match = /^\/\$emulator\/hybridConnections\/(.+?)(?:\/listeners\/(close|drop|freeze|send))?$/.exec(url.pathname);
    const hc = match ? findHybridConnection(this.config, decodeURIComponent(match[1]!)) : undefined;
    if (!match || !hc) return sendText(res, 404, 'No such Hybrid Connection');
    const token = req.headers.authorization ?? req.headers.servicebusauthorization;
    const denied = this.authorize(req, typeof token === 'string' ? token : undefined, hc, 'Manage');
    if (denied) return sendText(res, denied[0], denied[1]);
    const key = hc.name.toLowerCase();
    const operation = match[2];
    if (!operation) {
      if (req.method !== 'GET') return sendText(res, 405, 'Use GET');
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({
          listeners: this.listeners.get(key)?.size ?? 0,
          pendingRendezvous: [...this.rendezvous.values()].filter((r) => r.hcKey === key).length,
          activeRelays: this.activeRelays,
        }),
      );
      return;
    }
    if (req.method !== 'POST') return sendText(res, 405, 'Use POST');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const affected = [...(this.listeners.get(key) ?? [])];
      switch (operation) {
        case 'close': {
          const code = Number(url.searchParams.get('code') ?? 1011);
          this.closeListeners(key, code, url.searchParams.get('reason') ?? 'Closed by the emulator');
          break;
        }
        case 'drop':
          for (const l of affected) l.socket.destroy();
          break;
        case 'freeze':
          // The relay stops answering anything (pings included) but its TCP stack still sees
          // the listener hang up, so a replaced channel leaves the routing table.
          for (const l of affected) {
            l.frozen = true;
            clearTimeout(l.idleTimer);
            l.socket.removeAllListeners('data');
            l.socket.on('data', () => undefined);
          }
          break;
        case 'send':
          for (const l of affected) l.ws.send(Buffer.concat(chunks).toString('utf8'));
          break;
      }
      sendText(res, 200, `${operation}: ${affected.length} listener(s)`);
    });
  }

  private closeListeners(key: string, code: number, reason: string): void {
    for (const l of [...(this.listeners.get(key) ?? [])]) {
      if (
        code === 1000 ||
        (code >= 1001 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
        (code >= 3000 && code <= 4999)
      ) {
        l.ws.close(code, reason);
      } else {
        l.socket.destroy();
      }
    }
  }
}

function trackingId(): string {
  return `TrackingId:${randomUUID()}`;
}

function hostOf(req: IncomingMessage): string {
  const host = req.headers.host ?? 'localhost';
  return host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
}

function tokenFrom(req: IncomingMessage, url: URL): string | undefined {
  const header = req.headers.servicebusauthorization;
  if (typeof header === 'string' && header) return header;
  return url.searchParams.get('sb-hc-token') ?? undefined;
}

/** Only called after verifySasToken accepted the token, so it parses. */
function verifyExpiry(token: string): number {
  return parseSasToken(token).expiresAt;
}

/** The sender's headers go to the listener (docs/protocol.md §5), minus the service's own token. */
function forwardedHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    if (name.toLowerCase() === 'servicebusauthorization') continue;
    out[name] = out[name] !== undefined ? `${out[name]}, ${req.rawHeaders[i + 1]}` : req.rawHeaders[i + 1]!;
  }
  return out;
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, text.replace(/[^\x20-\x7e]/g, ' ').slice(0, 200), { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(`${text}\n`);
}
