import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DESKTOP_CSP,
  PRIVILEGED_SCHEMES,
  RENDERER_URL,
  isRendererUrl,
  registerRendererProtocol,
  serveRendererFile,
} from '../../src/main/renderer-protocol.js';

/** app://hcm/ serves dist/renderer with the desktop CSP, and nothing else. */

let dir: string;
beforeAll(() => {
  const root = mkdtempSync(join(tmpdir(), 'hcm-app-proto-'));
  dir = join(root, 'renderer');
  mkdirSync(join(dir, 'assets'), { recursive: true });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>x</title>');
  writeFileSync(join(dir, 'assets', 'a.js'), 'export {}');
  writeFileSync(join(root, 'private.txt'), 'secret');
});

describe('app:// protocol', () => {
  it('is registered as a standard, secure scheme', () => {
    expect(PRIVILEGED_SCHEMES).toEqual([{ scheme: 'app', privileges: expect.objectContaining({ standard: true, secure: true }) }]);
    expect(RENDERER_URL).toBe('app://hcm/index.html');
  });

  it('serves the renderer with a CSP that forbids connections and inline code', async () => {
    const res = await serveRendererFile(dir, 'app://hcm/index.html');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<title>x</title>');
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toBe(DESKTOP_CSP);
    expect(DESKTOP_CSP).toContain("connect-src 'none'");
    expect(DESKTOP_CSP).toContain("script-src 'self'");
    expect(DESKTOP_CSP).not.toMatch(/unsafe-(inline|eval)/);
    expect((await serveRendererFile(dir, 'app://hcm/assets/a.js')).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  });

  it('serves nothing outside the renderer folder or for another host', async () => {
    for (const url of [
      'app://hcm/../private.txt',
      'app://hcm/..%2fprivate.txt',
      'app://hcm/assets/..%2f..%2fprivate.txt',
      'app://other/index.html',
      'app://hcm/missing.js',
      'app://hcm/%E0%A4%A',
    ]) {
      const res = await serveRendererFile(dir, url);
      expect(res.status, url).toBe(404);
      expect(await res.text(), url).not.toContain('secret');
    }
    expect((await serveRendererFile(dir, 'app://hcm/index.html', 'POST')).status).toBe(405);
  });

  it('recognises only our origin as the renderer', () => {
    expect(isRendererUrl('app://hcm/index.html')).toBe(true);
    expect(isRendererUrl('app://hcm.evil/index.html')).toBe(false);
    expect(isRendererUrl('https://hcm/index.html')).toBe(false);
    expect(isRendererUrl('not a url')).toBe(false);
  });

  it('hands requests to the handler registered for the scheme', async () => {
    let registered: { scheme: string; handler: (r: Request) => Promise<Response> } | null = null;
    registerRendererProtocol({ handle: (scheme: string, handler: never) => (registered = { scheme, handler }) }, dir);
    expect(registered!.scheme).toBe('app');
    const res = await registered!.handler(new Request('app://hcm/index.html'));
    expect(res.status).toBe(200);
  });
});
