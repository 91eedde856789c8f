import { type ProxyConfig, RelayProxyAgent, bypassesProxy } from './proxy.js';
import { connectTlsPooled } from './pooled-reads.js';
import dns from 'node:dns';
import type { Agent } from 'node:http';
import type net from 'node:net';
import { type Socket, isIP } from 'node:net';
import tls, { type ConnectionOptions, type SecureContext, rootCertificates } from 'node:tls';

/**
 * How the agent reaches the relay. `ca` adds trust anchors (e.g. the emulator's CA) on top of the
 * system store; verification is never turned off. `agent` carries an outbound HTTP proxy.
 */
export interface TransportOptions {
  ca?: string | Buffer | Array<string | Buffer>;
  agent?: Agent;
  /** An outbound HTTP proxy for every relay connection (CONNECT), with its NO_PROXY exceptions. */
  proxy?: ProxyConfig;
  /** Handshake / request timeout in milliseconds. */
  timeoutMs?: number;
}

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 30_000;

export interface ConnectOptions {
  secureContext?: SecureContext;
  agent?: Agent;
  lookup?: typeof dns.lookup;
  /** Typed as `ws` wants it; it is only ever called with TLS connection options. */
  createConnection?: typeof net.createConnection;
}

/**
 * Building a TLS context from ~150 root certificates costs tens of milliseconds of CPU, and every
 * tunnel opens a TLS connection: build it once per transport and reuse it.
 */
const contexts = new Map<TransportOptions['ca'], SecureContext>();

export function secureContextFor(transport: TransportOptions | undefined): SecureContext | undefined {
  const ca = transport?.ca;
  if (!ca) return undefined;
  let context = contexts.get(ca);
  if (!context) {
    // Node's `ca` replaces the system store; keep the public roots so a proxy or Azure still verifies.
    const extra = Array.isArray(ca) ? ca : [ca];
    context = tls.createSecureContext({ ca: [...rootCertificates, ...extra] });
    if (contexts.size > 16) contexts.clear();
    contexts.set(ca, context);
  }
  return context;
}

/**
 * TLS sessions by host:port, so the many short rendezvous connections to the same relay gateway
 * resume a session instead of doing a full handshake with certificate checks each time.
 */
const MAX_SESSIONS = 256;
const sessions = new Map<string, Buffer>();
// Sessions are kept per trust configuration: one verified under an extra CA must not be resumed
// by a connection that does not trust that CA.
const contextIds = new WeakMap<SecureContext, number>();
let nextContextId = 1;

function contextId(context: SecureContext | undefined): number {
  if (!context) return 0;
  let id = contextIds.get(context);
  if (id === undefined) {
    id = nextContextId++;
    contextIds.set(context, id);
  }
  return id;
}

/** `pooled`: reads into recycled buffers (pooled-reads.ts), for tunnel sockets; the control channel's `ws` reads as usual. */
export function resumingConnect(options: ConnectionOptions, pooled?: boolean): Socket {
  // SNI as ws itself would send it (the relay's front ends need it); none for IP addresses.
  const servername = options.servername || (options.host && !isIP(options.host) ? options.host : undefined);
  const key = `${servername ?? options.host}:${options.port}:${contextId(options.secureContext)}`;
  const settings = { ...options, servername, session: sessions.get(key) };
  // As createConnection, Node's HTTP client passes a callback second: only `true` means pooled.
  const socket = pooled === true ? connectTlsPooled(settings) : tls.connect(settings);
  socket.on('session', (session: Buffer) => {
    sessions.delete(key);
    sessions.set(key, session);
    if (sessions.size > MAX_SESSIONS) sessions.delete(sessions.keys().next().value!);
  });
  return socket;
}

/**
 * Every tunnel connects to the relay by name, and Node asks the resolver each time (in its thread
 * pool). Answers are kept for a short while; failures are not kept.
 */
const DNS_TTL_MS = 30_000;
const dnsCache = new Map<string, { at: number; address: unknown; family: number | undefined }>();

export function isLocalhostName(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return h === 'localhost' || h.endsWith('.localhost');
}

/** The addresses of a relay host as the agent's connections resolve them (for `hcm test`). */
export function lookupRelayHost(host: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    (cachedLookup as unknown as (h: string, o: dns.LookupOptions, cb: (e: Error | null, a: unknown) => void) => void)(
      host,
      { all: true },
      (err, addresses) => (err ? reject(err) : resolve((addresses as dns.LookupAddress[]).map((a) => a.address))),
    );
  });
}

export const cachedLookup = ((
  hostname: string,
  options: dns.LookupOptions | number | ((...a: unknown[]) => void),
  callback?: (...a: unknown[]) => void,
) => {
  const cb = (typeof options === 'function' ? options : callback) as (err: Error | null, address?: unknown, family?: number) => void;
  const opts = typeof options === 'object' ? options : typeof options === 'number' ? { family: options } : {};
  // RFC 6761: names under .localhost are loopback, answered here as browsers do (the emulator
  // serves each namespace as <namespace>.localhost); the system resolver often does not know them.
  if (isLocalhostName(hostname) && opts.family !== 6) {
    const answer = opts.all ? [{ address: '127.0.0.1', family: 4 }] : '127.0.0.1';
    process.nextTick(cb, null, answer, 4);
    return;
  }
  const key = `${hostname}|${opts.family ?? 0}|${opts.all ? 1 : 0}|${opts.hints ?? 0}`;
  const hit = dnsCache.get(key);
  if (hit && Date.now() - hit.at < DNS_TTL_MS) {
    process.nextTick(cb, null, hit.address, hit.family);
    return;
  }
  dns.lookup(hostname, opts as dns.LookupAllOptions, (err, address, family?: number) => {
    if (!err) {
      if (dnsCache.size > 256) dnsCache.clear();
      dnsCache.set(key, { at: Date.now(), address, family });
    }
    cb(err, address, family);
  });
}) as unknown as typeof dns.lookup;

/**
 * Options for `ws` and `https` clients to `url`: trust, the proxy (unless NO_PROXY exempts the
 * host), and (for TLS without a proxy) session reuse. Plain ws:// keeps its plain connection.
 */
export function tlsOptions(transport: TransportOptions | undefined, url: string): ConnectOptions {
  const secure = isSecureUrl(url);
  const out: ConnectOptions = { lookup: cachedLookup };
  const secureContext = secureContextFor(transport);
  if (secureContext) out.secureContext = secureContext;
  const agent = agentFor(transport, url);
  if (agent) out.agent = agent;
  else if (secure) out.createConnection = resumingConnect as unknown as typeof net.createConnection;
  return out;
}

const proxyAgents = new WeakMap<ProxyConfig, RelayProxyAgent>();

/** The agent for a connection to `url`: the proxy's (one per proxy setting), a given one, or none. */
export function agentFor(transport: TransportOptions | undefined, url: string): Agent | undefined {
  const proxy = transport?.proxy;
  if (proxy) {
    const target = new URL(url);
    const port = Number(target.port || (isSecureUrl(url) ? 443 : 80));
    if (!bypassesProxy(target.hostname, port, proxy.noProxy)) {
      let agent = proxyAgents.get(proxy);
      if (!agent) proxyAgents.set(proxy, (agent = new RelayProxyAgent(proxy)));
      return agent;
    }
    return undefined;
  }
  return transport?.agent;
}

export const isSecureUrl = (url: string): boolean => /^(wss|https):/i.test(url);
