/**
 * The browser host of the HCM UI (`hcm ui`): serves the built renderer and carries the API
 * contract over one WebSocket. Reachable from this machine only, and only by a page that
 * holds the random token printed in the URL:
 *  - bound to 127.0.0.1, never another interface;
 *  - the Host header must name 127.0.0.1 or localhost on our port (stops DNS rebinding);
 *  - the WebSocket's Origin must be our own page (stops other websites in the same browser);
 *  - the WebSocket URL must carry the token (stops other local programs and users);
 *  - every call's arguments are checked before the service sees them.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { extname, join, normalize, sep } from 'node:path';
import { type WebSocket, WebSocketServer } from 'ws';
import { HCM_EVENTS, type HcmHost, type WireEvent } from '../shared/api.js';
import { answerWireMessage } from '../shared/dispatch.js';
import { uiContentSecurityPolicy } from '../shared/csp.js';

export const UI_HOST = '127.0.0.1';
const WS_PATH = '/ws';
const MAX_MESSAGE_BYTES = 1 << 20;
/** A browser tab that stops reading should not make us buffer without end. */
const MAX_BUFFERED_BYTES = 16 << 20;

export interface UiServerOptions {
  hcm: HcmHost;
  /** Folder of the built renderer (dist/renderer). */
  staticDir: string;
  /** 0 or absent picks a free port. */
  port?: number;
  /** For tests; normally a fresh random one. */
  token?: string;
  log?: (level: 'info' | 'warn', message: string) => void;
}

export interface UiServer {
  /** The address to open, token included (in the fragment, so it is never sent in an HTTP request line). */
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

export function contentSecurityPolicy(host: string): string {
  return uiContentSecurityPolicy(`ws://${host}`);
}

export async function startUiServer(options: UiServerOptions): Promise<UiServer> {
  const { hcm, staticDir } = options;
  const token = options.token ?? randomBytes(32).toString('base64url');
  const tokenDigest = digest(token);
  const log = options.log ?? (() => undefined);
  let port = 0;

  const allowedHost = (req: IncomingMessage): string | null => {
    const host = req.headers.host ?? '';
    return host === `${UI_HOST}:${port}` || host === `localhost:${port}` ? host : null;
  };

  const server = createServer((req, res) => {
    const host = allowedHost(req);
    if (!host) return plain(res, 421, 'This address is not served here. Open the address "hcm ui" printed.');
    serveStatic(staticDir, req, res, host).catch(() => plain(res, 500, 'Internal error'));
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refusal = refuseUpgrade(req, allowedHost(req), tokenDigest);
    if (refusal) {
      log('warn', `refused a WebSocket from ${req.socket.remoteAddress}: ${refusal.reason}`);
      socket.end(`HTTP/1.1 ${refusal.status} ${refusal.reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  const clients = new Set<WebSocket>();
  wss.on('connection', (ws: WebSocket) => {
    clients.add(ws);
    ws.on('close', () => clients.delete(ws));
    ws.on('error', () => ws.terminate());
    ws.on('message', (data, isBinary) => {
      if (isBinary) return ws.close(1003, 'text messages only');
      void answerWireMessage(hcm, String(data), {
        onInternalError: (method, err) => log('warn', `${method} failed unexpectedly: ${err instanceof Error ? err.stack : String(err)}`),
      }).then((reply) => send(ws, JSON.stringify(reply)));
    });
  });

  const unsubscribe = HCM_EVENTS.map((event) =>
    hcm.on(event, (payload) => {
      const message: WireEvent = { event, payload };
      const text = JSON.stringify(message);
      for (const ws of clients) send(ws, text);
    }),
  );

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, UI_HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  log('info', `UI served on http://${UI_HOST}:${port}/`);

  return {
    url: `http://${UI_HOST}:${port}/#token=${token}`,
    port,
    token,
    close: async () => {
      for (const off of unsubscribe) off();
      for (const ws of clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function refuseUpgrade(req: IncomingMessage, host: string | null, tokenDigest: Buffer): { status: number; reason: string } | null {
  if (!host) return { status: 421, reason: 'Misdirected Request' };
  const url = new URL(req.url ?? '/', `http://${host}`);
  if (url.pathname !== WS_PATH) return { status: 404, reason: 'Not Found' };
  if (req.headers.origin !== `http://${host}`) return { status: 403, reason: 'Forbidden' };
  // Compare digests so the comparison takes the same time whatever the length of the guess.
  if (!timingSafeEqual(digest(url.searchParams.get('token') ?? ''), tokenDigest)) return { status: 401, reason: 'Unauthorized' };
  return null;
}

function send(ws: WebSocket, text: string): void {
  if (ws.readyState !== ws.OPEN) return;
  if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
    ws.terminate();
    return;
  }
  ws.send(text);
}

async function serveStatic(root: string, req: IncomingMessage, res: ServerResponse, host: string): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return plain(res, 405, 'Method Not Allowed', { Allow: 'GET, HEAD' });
  const file = resolveStaticPath(root, req.url ?? '/');
  if (!file) return plain(res, 404, 'Not Found');
  const info = await stat(file).catch(() => null);
  if (!info?.isFile()) return plain(res, 404, 'Not Found');
  const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
  res.writeHead(200, {
    'Content-Type': type,
    'Content-Length': info.size,
    'Cache-Control': type.startsWith('text/html') ? 'no-store' : 'no-cache',
    ...securityHeaders(host),
  });
  if (req.method === 'HEAD') return void res.end();
  createReadStream(file)
    .on('error', () => res.destroy())
    .pipe(res);
}

/** Maps a request path to a file inside `root`, or null for anything that would leave it. */
export function resolveStaticPath(root: string, requestUrl: string): string | null {
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(requestUrl, 'http://x').pathname);
  } catch {
    return null;
  }
  if (pathname.includes('\0')) return null;
  if (pathname.endsWith('/')) pathname += 'index.html';
  const rootDir = normalize(root.endsWith(sep) ? root : root + sep);
  const file = normalize(join(rootDir, pathname));
  return file.startsWith(rootDir) ? file : null;
}

function securityHeaders(host: string): Record<string, string> {
  return {
    'Content-Security-Policy': contentSecurityPolicy(host),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  };
}

function plain(res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', ...extra });
  res.end(text);
}
