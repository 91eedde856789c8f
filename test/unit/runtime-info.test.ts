import { describe, expect, it } from 'vitest';
import { endpointFromMetadata, networkError, parseRuntimeInfo } from '../../src/relay/runtime-info.js';
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
