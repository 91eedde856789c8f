import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { parseConnectionString } from '../../src/relay/connection-string.js';
import { endpointFromMetadata, getRuntimeInfo, networkError, parseRuntimeInfo } from '../../src/relay/runtime-info.js';
import { emptyFeed, hybridConnectionEntry } from '../../src/emulator/atom.js';

const hc = (userMetadata: string | undefined) => ({
  name: 'hyco',
  namespace: 'contoso',
  userMetadata,
  requiresClientAuthorization: true,
  rules: [],
  createdAt: new Date('2026-01-02T03:04:05Z'),
  updatedAt: new Date('2026-02-03T04:05:06Z'),
});

describe('runtime info', () => {
  it('reads endpoint, listener count and timestamps from the Atom entry', () => {
    const xml = hybridConnectionEntry(hc('[{"key":"endpoint","value":"db.internal:5432"}]'), 'https://x/hyco', 3);
    expect(parseRuntimeInfo(xml, 'hyco')).toMatchObject({
      name: 'hyco',
      endpoint: { host: 'db.internal', port: 5432 },
      listenerCount: 3,
      requiresClientAuthorization: true,
      createdAt: '2026-01-02T03:04:05.000Z',
      updatedAt: '2026-02-03T04:05:06.000Z',
    });
  });

  it('unescapes metadata and handles IPv6 endpoints', () => {
    const xml = hybridConnectionEntry(
      hc('[{"key":"Endpoint","value":"[::1]:5432"},{"key":"endpoint","value":"other:1"}]'),
      'https://x/hyco',
      0,
    );
    expect(parseRuntimeInfo(xml, 'hyco').endpoint).toEqual({ host: '::1', port: 5432 });
  });

  it('treats an Atom feed as not found', () => {
    expect(() => parseRuntimeInfo(emptyFeed(), 'hyco')).toThrow(expect.objectContaining({ code: 'E_NOT_FOUND' }));
  });

  it('rejects documents that are not a Hybrid Connection', () => {
    expect(() => parseRuntimeInfo('<entry xmlns="http://www.w3.org/2005/Atom"><title>q</title></entry>', 'hyco')).toThrow(
      /HybridConnectionDescription/,
    );
    expect(() => parseRuntimeInfo('<<<', 'hyco')).toThrow(expect.objectContaining({ code: 'E_RUNTIME_INFO' }));
  });

  it.each([
    [undefined, /no user metadata/],
    ['not json', /not JSON/],
    ['{"endpoint":"a:1"}', /not a JSON array/],
    ['[{"key":"other","value":"a:1"}]', /no "endpoint" entry/],
    ['[{"key":"endpoint","value":5432}]', /not a string/],
    ['[{"key":"endpoint","value":"db"}]', /invalid: .*no port/],
  ])('explains bad metadata %j', (metadata, problem) => {
    const result = endpointFromMetadata(metadata);
    expect(result.endpoint).toBeUndefined();
    expect(result.problem).toMatch(problem);
  });
});

describe('network failures reaching the relay', () => {
  const fail = (code: string, message = code) =>
    networkError('wss://ns.servicebus.windows.net/$hc/x', Object.assign(new Error(message), { code })).message;

  it('says what happened, per error code', () => {
    expect(fail('ENOTFOUND')).toBe('cannot resolve ns.servicebus.windows.net');
    expect(fail('ECONNREFUSED')).toBe('connection to ns.servicebus.windows.net refused');
    expect(fail('ETIMEDOUT')).toBe('connection to ns.servicebus.windows.net timed out');
    expect(fail('ECONNRESET', 'read ECONNRESET')).toMatch(/^connection to ns\.servicebus\.windows\.net was reset/);
    expect(fail('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate')).toMatch(
      /certificate of ns\.servicebus\.windows\.net is not trusted/,
    );
    expect(fail('EHOSTUNREACH', 'connect EHOSTUNREACH')).toBe('cannot reach ns.servicebus.windows.net: connect EHOSTUNREACH');
  });

  it('reports the first address of a dual-stack failure', () => {
    const both = new AggregateError([
      Object.assign(new Error('x'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('y'), { code: 'ECONNREFUSED' }),
    ]);
    expect(networkError('ws://localhost:9/', both).message).toBe('connection to localhost:9 refused');
  });
});

describe('the runtime-information GET against a misbehaving relay', () => {
  async function relayAnswering(handler: http.RequestListener) {
    const server = http.createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const cs = parseConnectionString(
      `Endpoint=sb://127.0.0.1:${port}/;SharedAccessKeyName=l;SharedAccessKey=k;EntityPath=hyco;UseDevelopmentEmulator=true`,
    );
    return {
      cs,
      close: () => {
        server.closeAllConnections();
        server.close();
      },
    };
  }

  it('gives up at an overall deadline, even when a byte keeps arriving', async () => {
    const relay = await relayAnswering((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/xml' });
      const drip = setInterval(() => res.write(' '), 50);
      res.on('close', () => clearInterval(drip));
    });
    try {
      const started = Date.now();
      await expect(getRuntimeInfo(relay.cs, { timeoutMs: 500 })).rejects.toMatchObject({ code: 'E_TIMEOUT' });
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      relay.close();
    }
  }, 10_000);

  it('quotes a huge status text cut short', async () => {
    const relay = await relayAnswering((_req, res) => {
      res.writeHead(401, 'z'.repeat(10_000));
      res.end();
    });
    try {
      const err = (await getRuntimeInfo(relay.cs, { timeoutMs: 5_000 }).catch((e: Error) => e)) as Error & { code: string };
      expect(err.code).toBe('E_UNAUTHORIZED');
      expect(err.message.length).toBeLessThan(400);
      expect(err.message).toMatch(/refused the key \(401\): z{300}… \(9700 more characters not shown\)$/);
    } finally {
      relay.close();
    }
  });
});
