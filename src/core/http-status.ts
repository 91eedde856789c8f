import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HcmError } from '../shared/errors.js';
import type { Readiness } from './metrics.js';

/**
 * The agent's HTTP status port (`hcm run --metrics 127.0.0.1:9464`): `/metrics` (Prometheus text
 * format), `/ready` (200 when every configured Hybrid Connection is Connected, else 503 with the
 * reasons) and `/healthz` (200 while the process answers). GET and HEAD only; nothing else is
 * served. Loopback unless an address says otherwise (a container's probes need 0.0.0.0).
 *
 * The port is bound with SO_REUSEPORT (Linux), so an agent taking over (`--takeover`) binds the
 * same address while the old one still drains; the old one closes its port when it hands over.
 */

export interface StatusSources {
  metrics(): Promise<{ contentType: string; body: string }>;
  readiness(): Promise<Readiness>;
}

export interface StatusServer {
  /** host:port actually bound (the port is chosen when 0 was asked for). */
  address: string;
  port: number;
  close(): Promise<void>;
}

export interface StatusAddress {
  host: string;
  port: number;
}

/** `host:port`, `[v6]:port`, or a port alone (loopback). */
export function parseStatusAddress(text: string): StatusAddress {
  const t = text.trim();
  let host = '127.0.0.1';
  let portText = t;
  const v6 = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(t);
  if (v6) {
    host = v6[1]!;
    portText = v6[2]!;
  } else if (t.includes(':')) {
    const i = t.lastIndexOf(':');
    host = t.slice(0, i);
    portText = t.slice(i + 1);
  }
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535 || !host || /\s/.test(host)) {
    throw new HcmError('E_USAGE', `the metrics address must be host:port (e.g. 127.0.0.1:9464), not "${text}"`);
  }
  return { host, port };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

export async function startStatusServer(at: StatusAddress, sources: StatusSources): Promise<StatusServer> {
  const server = http.createServer((req, res) => void answer(req, res, sources));
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new HcmError('E_LISTEN', `cannot serve metrics on ${at.host}:${at.port}: ${err.code ?? err.message}`)),
    );
    server.listen({ host: at.host, port: at.port, reusePort: process.platform === 'linux' }, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  return {
    address: `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`,
    port: bound.port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function answer(req: http.IncomingMessage, res: http.ServerResponse, sources: StatusSources): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  const send = (status: number, type: string, body: string) => {
    res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return send(405, 'text/plain; charset=utf-8', 'method not allowed\n');
  }
  try {
    switch (path) {
      case '/metrics': {
        const m = await sources.metrics();
        return send(200, m.contentType, m.body);
      }
      case '/ready': {
        const r = await sources.readiness();
        return send(r.ready ? 200 : 503, 'application/json; charset=utf-8', `${JSON.stringify(r)}\n`);
      }
      case '/healthz':
        return send(200, 'text/plain; charset=utf-8', 'ok\n');
      default:
        return send(404, 'text/plain; charset=utf-8', 'not found: /metrics, /ready and /healthz are served here\n');
    }
  } catch (err) {
    return send(500, 'text/plain; charset=utf-8', `error: ${(err as Error).message}\n`);
  }
}
