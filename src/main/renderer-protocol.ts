/**
 * The desktop window loads the renderer from `app://hcm/`, a privileged custom scheme served
 * from dist/renderer, instead of file://: the page gets a real origin (so the IPC sender check
 * can name it), every response carries our CSP header, and nothing outside the renderer folder
 * can be read through it.
 */
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { CustomScheme, Protocol } from 'electron';
import { uiContentSecurityPolicy } from '../shared/csp.js';

export const APP_SCHEME = 'app';
export const APP_HOST = 'hcm';
export const RENDERER_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

/** Must be registered before the app is ready. */
export const PRIVILEGED_SCHEMES: CustomScheme[] = [
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
];

/** The renderer talks to main through IPC only, so it may connect nowhere. */
export const DESKTOP_CSP = uiContentSecurityPolicy("'none'");

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

/** True for URLs of our own renderer, the only pages the window may show. */
export function isRendererUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST;
  } catch {
    return false;
  }
}

export function registerRendererProtocol(protocol: Pick<Protocol, 'handle'>, rendererDir: string): void {
  protocol.handle(APP_SCHEME, (request) => serveRendererFile(rendererDir, request.url, request.method));
}

export async function serveRendererFile(rendererDir: string, url: string, method = 'GET'): Promise<Response> {
  if (method !== 'GET' && method !== 'HEAD') return notFound(405);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return notFound();
  }
  if (!isRendererUrl(url)) return notFound();
  let pathname: string;
  try {
    pathname = decodeURIComponent(u.pathname);
  } catch {
    return notFound();
  }
  if (pathname.includes('\0')) return notFound();
  if (pathname.endsWith('/')) pathname += 'index.html';
  const root = normalize(rendererDir.endsWith(sep) ? rendererDir : rendererDir + sep);
  const file = normalize(join(root, pathname));
  if (!file.startsWith(root)) return notFound();
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch {
    return notFound();
  }
  return new Response(method === 'HEAD' ? null : new Uint8Array(body), {
    status: 200,
    headers: {
      'Content-Type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'Content-Security-Policy': DESKTOP_CSP,
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-cache',
    },
  });
}

function notFound(status = 404): Response {
  return new Response(null, { status, headers: { 'Content-Security-Policy': DESKTOP_CSP } });
}
