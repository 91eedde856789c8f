import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type UiServer, resolveStaticPath, startUiServer } from '../../src/cli/ui-server.js';
import { HCM_EVENTS, type HcmHost, type HcmEvent, type HcmEvents, type WireEvent, type WireResponse } from '../../src/shared/api.js';
import { aSummary } from '../helpers/summaries.js';

/**
 * The browser host's HTTP and WebSocket surface: who may connect, what it serves, and that
 * calls reach the service only with valid arguments. The service here is a small in-memory
 * implementation of the contract (the full service is exercised by the Playwright tests).
 */

const connection = aSummary({ name: 'orders' });

function memoryBridge() {
  const calls: Array<{ method: string; args: unknown[] }> = [];
  const listeners = new Map<HcmEvent, Set<(p: unknown) => void>>();
  const record = (method: string, args: unknown[]) => calls.push({ method, args });
  const hcm: HcmHost = {
    getAppInfo: async () => (
      record('getAppInfo', []),
      { version: '1.0.0', hostname: 'test-host', host: 'browser', platform: 'linux', configDir: '/c', logDir: '/l' }
    ),
    listConnections: async () => (record('listConnections', []), [connection]),
    getConnection: async (id) => {
      record('getConnection', [id]);
      throw Object.assign(new Error(`no connection with id "${id}"`), { code: 'E_NO_CONNECTION' });
    },
    validateConnectionString: async (s) => (record('validateConnectionString', [s]), { ok: false, stage: 'parse', error: 'nope' }),
    addConnection: async (input) => {
      record('addConnection', [input]);
      throw new Error('not here');
    },
    removeConnection: async (id) => void record('removeConnection', [id]),
    restartConnection: async (id) => void record('restartConnection', [id]),
    testConnection: async (id) => (record('testConnection', [id]), { target: id, ok: true, steps: [] }),
    getLogs: async (o) => (record('getLogs', [o]), []),
    getUpdateState: async () => ({ state: 'idle', currentVersion: '1.0.0' }),
    checkForUpdates: async () => ({ state: 'idle', currentVersion: '1.0.0' }),
    installUpdate: async () => undefined,
    startDemo: async () => {
      throw new Error('no demo in this test');
    },
    stopDemo: async () => undefined,
    replaceConnectionString: async () => {
      throw new Error('not here');
    },
    setEndpoint: async () => {
      throw new Error('not here');
    },
    acceptEndpointChange: async () => {
      throw new Error('not here');
    },
    getLogLevel: async () => 'info',
    setLogLevel: async () => undefined,
    openLogFolder: async () => undefined,
    getProxy: async () => ({ description: 'none', source: 'none', url: null, noProxy: [], username: null, environment: 'none' }),
    setProxy: async () => {
      throw new Error('not here');
    },
    clearProxy: async () => ({ description: 'none', source: 'none', url: null, noProxy: [], username: null, environment: 'none' }),
    getAzureState: async () => {
      throw new Error('not here');
    },
    beginAzureSignIn: async () => ({}),
    signOutOfAzure: async () => undefined,
    listAzureHybridConnections: async () => ({ items: [], problems: [] }),
    addFromAzure: async () => [],
    sendTestTraffic: async (id) => ({ target: id, ok: true, connections: 0, bytesSent: 0, bytesEchoed: 0, ms: 0, detail: '' }),
    listTunnels: async (id) => (record('listTunnels', [id]), { connectionId: id, tunnels: [], total: 0, at: new Date(0).toISOString() }),
    closeTunnel: async (id, tunnelId) => (record('closeTunnel', [id, tunnelId]), false),
    handOver: async () => {
      throw new Error('not here');
    },
    on<E extends HcmEvent>(event: E, listener: (payload: HcmEvents[E]) => void) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener as (p: unknown) => void);
      return () => set.delete(listener as (p: unknown) => void);
    },
  };
  const emit = <E extends HcmEvent>(event: E, payload: HcmEvents[E]) => listeners.get(event)?.forEach((l) => l(payload));
  return { hcm, calls, emit, listenerCount: () => [...listeners.values()].reduce((n, s) => n + s.size, 0) };
}

let staticDir: string;
let memory: ReturnType<typeof memoryBridge>;
let server: UiServer;
let origin: string;

beforeAll(async () => {
  const root = mkdtempSync(join(tmpdir(), 'hcm-ui-static-'));
  staticDir = join(root, 'renderer');
  mkdirSync(join(staticDir, 'assets'), { recursive: true });
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>HCM</title>');
  writeFileSync(join(staticDir, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(root, 'secret.txt'), 'outside the renderer folder');
  memory = memoryBridge();
  server = await startUiServer({ hcm: memory.hcm, staticDir, token: 'test-token-123' });
  origin = `http://127.0.0.1:${server.port}`;
});
afterAll(async () => {
  await server?.close();
});

function get(
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, path, headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Resolves with the open socket, or rejects with the HTTP status of the refused upgrade. */
function openWs(query: string, headers: Record<string, string> = { Origin: `http://127.0.0.1:${server.port}` }): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws${query}`, { headers, perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) =>
      reject(Object.assign(new Error(`refused ${res.statusCode}`), { status: res.statusCode })),
    );
    ws.once('error', reject);
  });
}

function nextMessage(ws: WebSocket): Promise<WireResponse | WireEvent> {
  return new Promise((resolve) => ws.once('message', (d) => resolve(JSON.parse(String(d)) as WireResponse | WireEvent)));
}

async function call(ws: WebSocket, id: number, method: string, args: unknown[]): Promise<WireResponse> {
  const reply = nextMessage(ws);
  ws.send(JSON.stringify({ id, method, args }));
  return (await reply) as WireResponse;
}

describe('listening', () => {
  it('prints a URL on 127.0.0.1 with the token in the fragment', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/#token=test-token-123`);
  });

  it('makes a long random token when none is given', async () => {
    const other = await startUiServer({ hcm: memoryBridge().hcm, staticDir });
    try {
      expect(other.token).toMatch(/^[A-Za-z0-9_-]{40,}$/);
      expect(other.token).not.toBe(server.token);
    } finally {
      await other.close();
    }
  });

  it('does not accept connections on other addresses of this machine', async () => {
    const others = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a && !a.internal && a.family === 'IPv4')
      .map((a) => a!.address);
    for (const address of [...others, '::1']) {
      const outcome = await new Promise<string>((resolve) => {
        const s = net.connect({ host: address, port: server.port }, () => (s.destroy(), resolve('connected')));
        s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      });
      expect(outcome, `connect to ${address}`).not.toBe('connected');
    }
  });
});

describe('static files', () => {
  it('serves the renderer with a strict CSP naming only its own WebSocket', async () => {
    const res = await get('/');
    expect(res.status).toBe(200);
    expect(res.body).toContain('<title>HCM</title>');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain(`connect-src ws://127.0.0.1:${server.port}`);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('serves assets with their content type', async () => {
    const res = await get('/assets/app.js');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
  });

  it('names localhost in the CSP when the page was opened as localhost', async () => {
    const res = await get('/', { Host: `localhost:${server.port}` });
    expect(res.status).toBe(200);
    expect(String(res.headers['content-security-policy'])).toContain(`connect-src ws://localhost:${server.port}`);
  });

  it('refuses other Host names (DNS rebinding)', async () => {
    const res = await get('/', { Host: `attacker.example:${server.port}` });
    expect(res.status).toBe(421);
    expect(res.body).not.toContain('HCM');
  });

  it('never serves files outside the renderer folder', async () => {
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/%00index.html']) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(res.body, path).not.toContain('outside');
    }
    // The URL parser folds plain and %2e dot segments itself; encoded slashes are ours to catch.
    expect(resolveStaticPath('/srv/r', '/a/../../etc/passwd')).toBe('/srv/r/etc/passwd');
    expect(resolveStaticPath('/srv/r', '/%2e%2e/%2e%2e/etc/passwd')).toBe('/srv/r/etc/passwd');
    expect(resolveStaticPath('/srv/r', '/..%2f..%2fetc/passwd')).toBeNull();
    expect(resolveStaticPath('/srv/r', '/x/..%5c..%5c..%5cetc')).not.toMatch(/^\/srv\/etc/);
    expect(resolveStaticPath('/srv/r', '/')).toBe('/srv/r/index.html');
  });

  it('answers 404 for missing files and 405 for other methods', async () => {
    expect((await get('/nope.js')).status).toBe(404);
    const status = await new Promise<number>((resolve) => {
      http.request({ host: '127.0.0.1', port: server.port, path: '/', method: 'POST' }, (res) => resolve(res.statusCode ?? 0)).end();
    });
    expect(status).toBe(405);
  });
});

describe('WebSocket admission', () => {
  it('refuses a missing or wrong token', async () => {
    await expect(openWs('')).rejects.toMatchObject({ status: 401 });
    await expect(openWs('?token=test-token-12')).rejects.toMatchObject({ status: 401 });
    await expect(openWs('?token=test-token-1234')).rejects.toMatchObject({ status: 401 });
  });

  it('refuses another Origin, or none, even with the token', async () => {
    await expect(openWs('?token=test-token-123', { Origin: 'https://evil.example' })).rejects.toMatchObject({ status: 403 });
    await expect(openWs('?token=test-token-123', { Origin: `http://127.0.0.1:${server.port + 1}` })).rejects.toMatchObject({ status: 403 });
    await expect(openWs('?token=test-token-123', {})).rejects.toMatchObject({ status: 403 });
  });

  it('refuses another Host', async () => {
    await expect(openWs('?token=test-token-123', { Origin: origin, Host: 'evil.example' })).rejects.toMatchObject({ status: 421 });
  });

  it('admits our own page with the token', async () => {
    const ws = await openWs('?token=test-token-123');
    ws.close();
  });
});

describe('calls and events', () => {
  let ws: WebSocket;
  beforeAll(async () => {
    ws = await openWs('?token=test-token-123');
  });
  afterAll(() => ws?.close());

  it('passes a valid call to the service and returns its result', async () => {
    const reply = await call(ws, 1, 'listConnections', []);
    expect(reply).toEqual({ id: 1, ok: true, result: [connection] });
  });

  it('returns the service error with its code', async () => {
    const reply = await call(ws, 2, 'getConnection', ['ns/missing']);
    expect(reply).toEqual({ id: 2, ok: false, error: 'no connection with id "ns/missing"', code: 'E_NO_CONNECTION' });
  });

  it('stops bad arguments before the service', async () => {
    const before = memory.calls.length;
    expect(await call(ws, 3, 'getConnection', [42])).toMatchObject({ id: 3, ok: false, code: 'E_ARGS' });
    expect(await call(ws, 4, 'addConnection', [{ connectionString: 'x', extra: 1 }])).toMatchObject({ id: 4, ok: false, code: 'E_ARGS' });
    expect(await call(ws, 5, 'removeConnection', [])).toMatchObject({ id: 5, ok: false, code: 'E_ARGS' });
    expect(await call(ws, 6, 'getLogs', [{ limit: -1 }])).toMatchObject({ id: 6, ok: false, code: 'E_ARGS' });
    expect(await call(ws, 7, 'listConnections', 'not a list' as unknown as unknown[])).toMatchObject({ id: 7, ok: false, code: 'E_ARGS' });
    expect(memory.calls.length).toBe(before);
  });

  it('refuses unknown methods, including ones the object happens to have', async () => {
    expect(await call(ws, 8, 'on', ['connections'])).toMatchObject({ id: 8, ok: false, code: 'E_NO_METHOD' });
    expect(await call(ws, 9, 'constructor', [])).toMatchObject({ id: 9, ok: false, code: 'E_NO_METHOD' });
  });

  it('passes checked arguments through unchanged', async () => {
    await call(ws, 10, 'getLogs', [{ afterSeq: 5, limit: 10 }]);
    expect(memory.calls.at(-1)).toEqual({ method: 'getLogs', args: [{ afterSeq: 5, limit: 10 }] });
  });

  it('pushes service events to every open page', async () => {
    const second = await openWs('?token=test-token-123');
    const a = nextMessage(ws);
    const b = nextMessage(second);
    memory.emit('connections', [connection]);
    expect(await a).toEqual({ event: 'connections', payload: [connection] });
    expect(await b).toEqual({ event: 'connections', payload: [connection] });
    second.close();
  });

  it('answers messages that are not requests with E_BAD_REQUEST under id -1, and stays usable', async () => {
    for (const text of ['garbage', 'null', '[]', '42', JSON.stringify({ method: 'listConnections', args: [] })]) {
      const reply = nextMessage(ws);
      ws.send(text);
      expect(await reply).toMatchObject({ id: -1, ok: false, code: 'E_BAD_REQUEST' });
    }
    expect(await call(ws, 11, 'getAppInfo', [])).toMatchObject({ id: 11, ok: true });
  });
});

describe('closing', () => {
  it('closes open pages and unsubscribes from the service', async () => {
    const m = memoryBridge();
    const s = await startUiServer({ hcm: m.hcm, staticDir, token: 't' });
    expect(m.listenerCount()).toBe(HCM_EVENTS.length);
    const ws = await new Promise<WebSocket>((resolve, reject) => {
      const w = new WebSocket(`ws://127.0.0.1:${s.port}/ws?token=t`, { headers: { Origin: `http://127.0.0.1:${s.port}` } });
      w.once('open', () => resolve(w));
      w.once('error', reject);
    });
    const closed = new Promise((resolve) => ws.once('close', resolve));
    await s.close();
    await closed;
    expect(m.listenerCount()).toBe(0);
  });
});
