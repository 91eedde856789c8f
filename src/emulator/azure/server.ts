import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { EmulatorLog } from '../context.js';
import { Arm } from './arm.js';
import { Entra } from './entra.js';
import { sendJson } from './http.js';
import type { SigningKey } from './jwt.js';
import type { RelayFacts } from './relay-facts.js';
import { loadSigningKey } from './signing-key.js';
import { TokenIssuer } from './tokens.js';

/**
 * Entra ID and Azure Resource Manager for the relay emulator: one HTTPS server (always TLS, with
 * the emulator's CA) on its own port, in the same process as the relay and reading the same state
 * (relay-facts.ts). Requests for Entra ID paths go to entra.ts, the rest to arm.ts. Only the
 * loopback names the server certificate carries are accepted as Host, so a page on another
 * origin cannot reach it by DNS rebinding.
 */

export interface AzureEmulatorOptions {
  host: string;
  port: number;
  stateDir: string;
  tls: { key: string; cert: string; caPath: string };
  relay: RelayFacts;
  pageSize: number;
  deviceCodeIntervalSeconds: number;
  accessTokenLifetimeSeconds: number;
  log: EmulatorLog;
}

/** The `azure` part of the ready line. */
export interface AzureReady {
  /** https://127.0.0.1:N/<tenant id>: MSAL's authority. */
  authority: string;
  /** https://127.0.0.1:N/: the ARM endpoint; tokens are for the scope `<arm>/.default`. */
  arm: string;
  tenantId: string;
  users: Array<{ username: string; password: string }>;
  /** host:port for MSAL's knownAuthorities (no instance discovery against login.microsoftonline.com). */
  knownAuthority: string;
  /** The client id to use; any GUID is accepted (this one and Azure PowerShell's need no consent). */
  clientId: string;
  /** The CA that signs the server certificate (trust it, never turn verification off). */
  ca: string;
  tenants: Array<{ id: string; domain: string; name: string }>;
}

export const DEFAULT_CLIENT_ID = '04b07795-8ddb-461a-bbee-02f9e1bf7b46';

export class AzureEmulator {
  private server: https.Server | undefined;
  private readonly sockets = new Set<Socket>();
  private keyPromise: Promise<SigningKey> | undefined;
  private readonly entra: Entra;
  private readonly arm: Arm;

  constructor(private readonly options: AzureEmulatorOptions) {
    const signingKey = () => this.signingKey();
    this.entra = new Entra({
      directory: () => options.relay.config().azure,
      issuer: new TokenIssuer(signingKey, options.accessTokenLifetimeSeconds),
      signingKey,
      isKnownResource: (resource) => this.origins().includes(resource.replace(/\/$/, '')),
      deviceCodeIntervalSeconds: options.deviceCodeIntervalSeconds,
      log: options.log,
    });
    this.arm = new Arm({ relay: options.relay, signingKey, origins: () => this.origins(), pageSize: options.pageSize, log: options.log });
  }

  async start(): Promise<void> {
    const server = https.createServer({ key: this.options.tls.key, cert: this.options.tls.cert });
    this.server = server;
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.onRequest(req, res).catch((err: unknown) => {
        this.options.log('error', `azure: ${req.method} ${req.url?.split('?')[0]} failed: ${(err as Error).message}`);
        if (!res.headersSent) sendJson(res, 500, { error: { code: 'InternalServerError', message: 'The emulator failed to answer.' } });
        else res.destroy();
      });
    });
    server.on('secureConnection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    server.on('clientError', (_err, socket: Socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  readyInfo(): AzureReady {
    const directory = this.options.relay.config().azure;
    const origin = this.origins()[0]!;
    const tenant = directory.tenants[0]!;
    return {
      authority: `${origin}/${tenant.id}`,
      arm: `${origin}/`,
      tenantId: tenant.id,
      users: directory.users.map((u) => ({ username: u.username, password: u.password })),
      knownAuthority: new URL(origin).host,
      clientId: DEFAULT_CLIENT_ID,
      ca: this.options.tls.caPath,
      tenants: directory.tenants.map((t) => ({ id: t.id, domain: t.domain, name: t.name })),
    };
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
      setTimeout(() => {
        for (const s of this.sockets) s.destroy();
      }, 200).unref();
    });
  }

  /** The origins clients may use: the bind address's loopback names, first the one the ready line shows. */
  private origins(): string[] {
    const port = this.port;
    const bind = this.options.host;
    const names = ['127.0.0.1', 'localhost', '[::1]'];
    if (!['0.0.0.0', '::', '127.0.0.1', 'localhost', '::1'].includes(bind)) names.unshift(bind.includes(':') ? `[${bind}]` : bind);
    return names.map((n) => `https://${n}:${port}`);
  }

  private signingKey(): Promise<SigningKey> {
    this.keyPromise ??= loadSigningKey(this.options.stateDir).catch((err: unknown) => {
      this.keyPromise = undefined;
      throw err;
    });
    return this.keyPromise;
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const origin = `https://${(req.headers.host ?? '').toLowerCase()}`;
    if (!this.origins().includes(origin)) {
      req.resume();
      return sendJson(res, 421, {
        error: { code: 'MisdirectedRequest', message: 'Unknown Host: use one of the names in the ready line.' },
      });
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '/', origin);
    } catch {
      return sendJson(res, 400, { error: { code: 'InvalidRequestUri', message: 'The request URI is not valid.' } });
    }
    if (url.pathname === '/' && req.method === 'GET') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Open HCM emulator: Microsoft Entra ID and Azure Resource Manager\n');
      return;
    }
    if (Entra.handles(url.pathname)) return this.entra.serve(req, res, url, origin);
    return this.arm.serve(req, res, url, origin);
  }
}
