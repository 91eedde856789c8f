import type { ClientRequest } from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { Agent, type AgentConnectOpts } from 'agent-base';
import { RelayError, quoteRelayText } from './errors.js';

/**
 * An outbound HTTP proxy (HTTPS_PROXY, or the admin's setting) for every connection to the relay:
 * a CONNECT tunnel, then TLS to the relay inside it. Written here rather than taken from a proxy
 * agent package so a wrong, refusing or authentication-demanding proxy is reported as what it is,
 * naming the proxy, instead of surfacing as the relay's answer.
 */

export interface ProxyConfig {
  /** http://host:port of the proxy (its credentials are kept apart, never in this URL). */
  url: string;
  username?: string;
  password?: string;
  /** NO_PROXY entries: host names, .domain suffixes, *.domain, IPs, host:port, or *. */
  noProxy: string[];
}

const CONNECT_TIMEOUT_MS = 20_000;
const MAX_PROXY_ANSWER = 16 * 1024;

export function parseProxyUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`);
  } catch {
    throw new RelayError('E_NETWORK', `the proxy address "${quoteRelayText(text, 80)}" is not host:port or http://host:port`);
  }
  if (url.protocol !== 'http:') {
    throw new RelayError('E_NETWORK', `only http:// proxies (CONNECT) are supported, not ${url.protocol}//`);
  }
  if (!url.hostname) throw new RelayError('E_NETWORK', 'the proxy address has no host');
  return url;
}

/** The proxy as people should see it: no credentials. */
export function describeProxy(proxy: Pick<ProxyConfig, 'url'>): string {
  const u = parseProxyUrl(proxy.url);
  return `${u.protocol}//${u.host}`;
}

/** Whether `host[:port]` bypasses the proxy (NO_PROXY rules as curl and most tools read them). */
export function bypassesProxy(host: string, port: number, noProxy: readonly string[]): boolean {
  const h = host
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  for (const raw of noProxy) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    const [name, entryPort] = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(entry)?.slice(1) ?? [];
    if (!name || (entryPort && Number(entryPort) !== port)) continue;
    const suffix = name.replace(/^\*?\./, '');
    if (h === suffix || h.endsWith(`.${suffix}`)) return true;
  }
  return false;
}

/** Opens a CONNECT tunnel through the proxy to host:port; rejects with a message that names the proxy. */
export function connectThroughProxy(proxy: ProxyConfig, host: string, port: number, timeoutMs = CONNECT_TIMEOUT_MS): Promise<net.Socket> {
  const proxyUrl = parseProxyUrl(proxy.url);
  const shown = describeProxy(proxy);
  const target = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: proxyUrl.hostname.replace(/^\[|\]$/g, ''), port: Number(proxyUrl.port || 80) });
    let answer = Buffer.alloc(0);
    const fail = (message: string) => {
      socket.destroy();
      reject(new RelayError('E_NETWORK', message));
    };
    const timer = setTimeout(() => fail(`the proxy ${shown} did not answer within ${Math.round(timeoutMs / 1000)} s`), timeoutMs);
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const why =
        err.code === 'ECONNREFUSED'
          ? 'connection refused'
          : err.code === 'ENOTFOUND'
            ? 'its name cannot be resolved'
            : (err.code ?? err.message);
      fail(`cannot reach the proxy ${shown} (${why}); check the proxy setting (hcm proxy show) or HTTPS_PROXY`);
    });
    socket.once('connect', () => {
      const auth =
        proxy.username !== undefined
          ? `Proxy-Authorization: Basic ${Buffer.from(`${proxy.username}:${proxy.password ?? ''}`).toString('base64')}\r\n`
          : '';
      socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${auth}\r\n`);
    });
    const onData = (chunk: Buffer) => {
      answer = Buffer.concat([answer, chunk]);
      const end = answer.indexOf('\r\n\r\n');
      if (end < 0) {
        if (answer.length > MAX_PROXY_ANSWER) fail(`the proxy ${shown} sent an answer that is not HTTP`);
        return;
      }
      clearTimeout(timer);
      socket.off('data', onData);
      const status = /^HTTP\/1\.[01] (\d{3})([^\r\n]*)/.exec(answer.subarray(0, end).toString('latin1'));
      const code = Number(status?.[1] ?? 0);
      const reason = quoteRelayText((status?.[2] ?? '').trim(), 100);
      if (code === 200) {
        const rest = answer.subarray(end + 4);
        if (rest.length) socket.unshift(rest);
        socket.removeAllListeners('error');
        resolve(socket);
        return;
      }
      if (code === 407) {
        fail(
          proxy.username === undefined
            ? `the proxy ${shown} wants a user name and password (407 ${reason}); set them with: hcm proxy set ${shown} --user <name>`
            : `the proxy ${shown} refused the user name and password (407 ${reason})`,
        );
        return;
      }
      fail(
        code
          ? `the proxy ${shown} refused to connect to ${target} (${code} ${reason})`
          : `the proxy ${shown} sent an answer that is not HTTP`,
      );
    };
    socket.on('data', onData);
  });
}

/** An http.Agent for ws / https clients: CONNECT through the proxy, then TLS to the relay. */
export class RelayProxyAgent extends Agent {
  constructor(private readonly proxy: ProxyConfig) {
    super();
  }

  async connect(_req: ClientRequest, options: AgentConnectOpts): Promise<net.Socket> {
    const host = String(options.host ?? 'localhost');
    const port = Number(options.port ?? (options.secureEndpoint ? 443 : 80));
    const tunnel = await connectThroughProxy(this.proxy, host, port);
    if (!options.secureEndpoint) return tunnel;
    const { host: _h, port: _p, path: _path, ...tlsOptions } = options as tls.ConnectionOptions & { path?: string };
    return tls.connect({ ...tlsOptions, socket: tunnel, servername: net.isIP(host) ? undefined : host });
  }
}
