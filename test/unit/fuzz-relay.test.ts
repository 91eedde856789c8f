import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptAddressProblem, MAX_ACCEPT_ADDRESS_LENGTH } from '../../src/relay/accept-address.js';
import { type ConnectionString, formatConnectionString, parseConnectionString } from '../../src/relay/connection-string.js';
import { formatEndpoint, parseEndpoint } from '../../src/relay/endpoint.js';
import { RelayError } from '../../src/relay/errors.js';
import { endpointFromMetadata, parseRuntimeInfo } from '../../src/relay/runtime-info.js';
import { KEY, type LyingRelay, openObserved, sendAndSettle, startLyingRelay } from './lying-relay.js';

/**
 * Property-based tests of everything the relay (or a pasted string) hands the agent (issue 11,
 * item 9): parsers throw nothing but their typed error, their output and messages are bounded,
 * and no key or token comes back out. Each property stops after a few seconds.
 */

const budget = (numRuns: number, ms = 3_000) => ({ numRuns, plugins: [fc.interruptAfterTimeLimit(ms)] });

/** Every 8-character window of the key: a message may hold none of them. */
const KEY_PIECES = Array.from({ length: KEY.length - 7 }, (_, i) => KEY.slice(i, i + 8));
const holdsKey = (text: string) => KEY_PIECES.some((p) => text.includes(p));

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

// ------------------------------------------------------------------ connection strings

const KNOWN_NAMES = [
  'Endpoint',
  'SharedAccessKeyName',
  'SharedAccessKey',
  'SharedAccessSignature',
  'EntityPath',
  'OperationTimeout',
  'Authentication',
  'UseDevelopmentEmulator',
];

const csValue = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(KEY, `sb://${KEY}/`, `sb://ns.servicebus.windows.net/${KEY}`, `sb://a:${KEY}@ns.servicebus.windows.net/`),
  fc.constantFrom('sb://ns.servicebus.windows.net/', 'sb://localhost:9443/', 'sb://[::1]:0/', 'true', '00:01:00', 'hc'),
  fc.string({ maxLength: 20 }).map((s) => `${s}${KEY}${s}`),
);
const csName = fc.oneof(
  fc.mixedCase(fc.constantFrom(...KNOWN_NAMES)),
  fc.string({ maxLength: 30 }),
  fc.constantFrom(`SharedAccessKey${KEY}`, KEY),
);
const csPiece = fc.oneof(
  fc.tuple(csName, csValue).map(([n, v]) => `${n}=${v}`),
  csName,
  csValue,
);
const connectionString = fc
  .tuple(fc.array(csPiece, { maxLength: 8 }), fc.nat(8), fc.constantFrom(';', ';;', ' ; '))
  // The key is always somewhere in the text.
  .map(([pieces, at, separator]) => {
    pieces.splice(Math.min(at, pieces.length), 0, `SharedAccessKey=${KEY}`);
    return pieces.join(separator);
  });

describe('connection strings, fuzzed', () => {
  it('throw nothing but E_CONNECTION_STRING, with a bounded message', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 600 }), connectionString), (text) => {
        const err = thrown(() => parseConnectionString(text, { requireEntityPath: true }));
        if (err === undefined) return;
        expect(err).toBeInstanceOf(RelayError);
        expect((err as RelayError).code).toBe('E_CONNECTION_STRING');
        expect((err as RelayError).message.length).toBeLessThanOrEqual(400);
      }),
      budget(2000),
    );
  });

  it('never echo the key, or a piece of it, in an error or in the printed string', () => {
    fc.assert(
      fc.property(connectionString, (text) => {
        let cs: ConnectionString;
        try {
          cs = parseConnectionString(text);
        } catch (err) {
          expect(holdsKey((err as Error).message)).toBe(false);
          return;
        }
        if (cs.sharedAccessKey === KEY) expect(formatConnectionString(cs)).not.toContain(KEY);
      }),
      budget(2000),
    );
  });
});

// ------------------------------------------------------------------ endpoints and runtime information

const endpointText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc
    .tuple(
      fc.oneof(
        fc.domain(),
        fc.ipV4(),
        fc.ipV6().map((a) => `[${a}]`),
        fc.string(),
      ),
      fc.oneof(fc.integer(), fc.string()),
    )
    .map(([h, p]) => `${h}:${p}`),
  fc.string({ maxLength: 20 }).map((s) => `${'h'.repeat(250)}${s}:80`),
);

const metadataText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc
    .array(
      fc.record({
        key: fc.oneof(fc.mixedCase(fc.constant('endpoint')), fc.string(), fc.integer()),
        value: fc.oneof(endpointText, fc.jsonValue({ maxDepth: 2 })),
      }),
      { maxLength: 4 },
    )
    .map((entries) => JSON.stringify(entries)),
);

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const field = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.nat().map(String),
  fc.constant('x'.repeat(5000)),
);
const runtimeXml = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 400 }),
  fc
    .record({
      title: field,
      metadata: metadataText,
      count: field,
      rca: field,
      created: field,
      raw: fc.constantFrom('', '<x/>', '<!-- c -->', '<![CDATA[<y>]]>', '&amp;&lt;', '&bogus;', '<a><b></a>', '<?pi?>'),
      escape: fc.boolean(),
    })
    .map(
      (r) =>
        `<entry xmlns="http://www.w3.org/2005/Atom"><title type="text">${r.escape ? xmlEscape(r.title) : r.title}</title>` +
        `<content type="application/xml"><HybridConnectionDescription xmlns="http://schemas.microsoft.com/netservices/2010/10/servicebus/connect">` +
        `<CreatedAt>${xmlEscape(r.created)}</CreatedAt><ListenerCount>${xmlEscape(r.count)}</ListenerCount>` +
        `<RequiresClientAuthorization>${xmlEscape(r.rca)}</RequiresClientAuthorization>${r.raw}` +
        `<UserMetadata>${r.escape ? xmlEscape(r.metadata) : r.metadata}</UserMetadata></HybridConnectionDescription></content></entry>`,
    ),
  fc
    .string({ maxLength: 30 })
    .map(
      (s) =>
        `<!DOCTYPE x [<!ENTITY a "${'a'.repeat(100)}"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><entry><title>&b;&b;${s}</title></entry>`,
    ),
);

describe('endpoints and runtime information, fuzzed', () => {
  it('parseEndpoint throws only E_ENDPOINT with a short message, and what it returns round-trips', () => {
    fc.assert(
      fc.property(endpointText, (text) => {
        let e;
        try {
          e = parseEndpoint(text);
        } catch (err) {
          expect(err).toBeInstanceOf(RelayError);
          expect((err as RelayError).code).toBe('E_ENDPOINT');
          expect((err as Error).message.length).toBeLessThanOrEqual(300);
          // eslint-disable-next-line no-control-regex
          expect((err as Error).message).not.toMatch(/[\x00-\x1f\x7f]/);
          return;
        }
        expect(e.host.length).toBeLessThanOrEqual(253);
        expect(e.port).toBeGreaterThanOrEqual(1);
        expect(e.port).toBeLessThanOrEqual(65535);
        expect(parseEndpoint(formatEndpoint(e))).toEqual(e);
      }),
      budget(3000),
    );
  });

  it('endpointFromMetadata never throws and explains in a bounded sentence', () => {
    fc.assert(
      fc.property(fc.option(metadataText, { nil: undefined }), (metadata) => {
        const { endpoint, problem } = endpointFromMetadata(metadata);
        expect(endpoint === undefined).toBe(problem !== undefined);
        if (problem) expect(problem.length).toBeLessThanOrEqual(400);
      }),
      budget(3000),
    );
  });

  it('parseRuntimeInfo throws only its typed errors and returns bounded fields', () => {
    fc.assert(
      fc.property(runtimeXml, (xml) => {
        let info;
        try {
          info = parseRuntimeInfo(xml, 'hyco');
        } catch (err) {
          expect(err).toBeInstanceOf(RelayError);
          expect(['E_RUNTIME_INFO', 'E_NOT_FOUND']).toContain((err as RelayError).code);
          expect((err as Error).message.length).toBeLessThanOrEqual(500);
          return;
        }
        expect(info.name.length).toBeLessThanOrEqual(260);
        expect((info.createdAt ?? '').length).toBeLessThanOrEqual(64);
        expect((info.endpointProblem ?? '').length).toBeLessThanOrEqual(400);
        if (info.listenerCount !== undefined) expect(Number.isSafeInteger(info.listenerCount)).toBe(true);
      }),
      budget(1000),
    );
  });
});

// ------------------------------------------------------------------ accept addresses

const azure = parseConnectionString(
  'Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=l;SharedAccessKey=k;EntityPath=hyco',
);
const local = parseConnectionString(
  'Endpoint=sb://127.0.0.1:5000/;SharedAccessKeyName=l;SharedAccessKey=k;EntityPath=hc;UseDevelopmentEmulator=true',
);

/**
 * The rule, written independently with WHATWG URL parsing: what it says is necessary for an
 * address to be safe to connect to. Whatever acceptAddressProblem lets through must satisfy it.
 */
function oracle(address: string, cs: ConnectionString): boolean {
  if (address.length > MAX_ACCEPT_ADDRESS_LENGTH) return false;
  if ([...address].some((c) => c <= ' ' || c > '~' || ' "<>\\^`{|}#'.includes(c))) return false;
  const scheme = cs.useDevelopmentEmulator ? 'ws' : 'wss';
  if (!address.toLowerCase().startsWith(`${scheme}://`)) return false;
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    return false;
  }
  if (url.protocol !== `${scheme}:` || url.username || url.password) return false;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const labels = cs.host.split('.');
  const parent = labels.length >= 3 && !/^[\d.]+$/.test(cs.host) ? `.${labels.slice(1).join('.')}` : undefined;
  if (host !== cs.host && !(parent && host.endsWith(parent))) return false;
  if (Number(url.port || (scheme === 'wss' ? 443 : 80)) !== (cs.port ?? (scheme === 'wss' ? 443 : 80))) return false;
  const path = decodeURIComponent(url.pathname).toLowerCase();
  const base = `/$hc/${cs.entityPath!.toLowerCase()}`;
  if (path !== base && !path.startsWith(`${base}/`)) return false;
  return url.searchParams.getAll('sb-hc-action').includes('accept');
}

const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?$/);
const validAzure = fc
  .record({
    gateway: fc.oneof(fc.constant('contoso'), label),
    port: fc.constantFrom('', ':443'),
    entity: fc.mixedCase(fc.constant('hyco')),
    // Senders normalise "." and ".." away (and the rule refuses them).
    suffix: fc.oneof(
      fc.constant(''),
      fc
        .webSegment()
        .filter((s) => !/^(\.|%2e){1,2}$/i.test(s))
        .map((s) => `/${s}`),
    ),
    query: fc.webQueryParameters(),
    id: fc.uuid(),
  })
  .map(
    (r) =>
      `wss://${r.gateway}.servicebus.windows.net${r.port}/$hc/${r.entity}${r.suffix}?${r.query ? `${r.query}&` : ''}sb-hc-action=accept&sb-hc-id=${r.id}`,
  );
const urlish = fc.string({
  unit: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...'ws:/.?&=$%@[]#-_ acehlnoprstvwx0123456789'.split('')) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  ),
  maxLength: 120,
});
const mutate = (base: fc.Arbitrary<string>) =>
  fc
    .tuple(base, fc.nat(), fc.nat(5), fc.string({ unit: 'binary', maxLength: 6 }))
    .map(([s, at, cut, insert]) => s.slice(0, at % (s.length + 1)) + insert + s.slice((at % (s.length + 1)) + cut));

describe('accept addresses, fuzzed', () => {
  it('addresses a real relay hands out always pass', () => {
    fc.assert(
      fc.property(validAzure, (address) => {
        expect(acceptAddressProblem(address, azure)).toBeUndefined();
      }),
      budget(2000),
    );
  });

  it('random and mutated strings pass only when they satisfy the rule', () => {
    const emulatorAddress = fc.constantFrom('ws://127.0.0.1:5000/$hc/hc?sb-hc-action=accept&sb-hc-id=1');
    fc.assert(
      fc.property(
        fc.oneof(
          fc.tuple(fc.oneof(urlish, mutate(validAzure), fc.webUrl()), fc.constant(azure)),
          fc.tuple(fc.oneof(urlish, mutate(emulatorAddress)), fc.constant(local)),
        ),
        ([address, cs]) => {
          const problem = acceptAddressProblem(address, cs);
          if (problem === undefined) expect(oracle(address, cs)).toBe(true);
          else {
            expect(problem.length).toBeLessThanOrEqual(300);
            // eslint-disable-next-line no-control-regex
            expect(problem).not.toMatch(/[\x00-\x1f\x7f]/);
          }
        },
      ),
      budget(5000),
    );
  });
});

// ------------------------------------------------------------------ a lying relay on the control channel

const TOKEN = '@@TOKEN@@';
const anyJson = fc.jsonValue({ maxDepth: 3 });
const junkString = fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), fc.constant(TOKEN), fc.constant('x'.repeat(20_000)));
const addressFor = (port: number) =>
  fc.oneof(
    fc.constant(`ws://127.0.0.1:${port}/$hc/hc?sb-hc-action=accept&sb-hc-id=ok`),
    mutate(fc.constant(`ws://127.0.0.1:${port}/$hc/hc?sb-hc-action=accept&sb-hc-id=ok`)),
    fc.constant(`ws://${TOKEN}:${port}/$hc/hc?sb-hc-action=accept`),
    fc.constant(`ws://127.0.0.1:${port}/$hc/hc?sb-hc-action=accept&t=${TOKEN}\r\nX: 1`),
    junkString,
    anyJson,
  );
const controlMessage = (port: number): fc.Arbitrary<string | Buffer> =>
  fc.oneof(
    fc
      .record(
        {
          address: addressFor(port),
          id: fc.oneof(junkString, anyJson),
          connectHeaders: fc.oneof(fc.dictionary(junkString, fc.oneof(junkString, anyJson), { maxKeys: 4 }), anyJson),
          remoteEndpoint: fc.oneof(fc.record({ address: fc.oneof(junkString, anyJson), port: fc.oneof(fc.integer(), anyJson) }), anyJson),
        },
        { requiredKeys: [] },
      )
      .map((accept) => JSON.stringify({ accept })),
    fc.oneof(junkString, anyJson).map((token) => JSON.stringify({ renewToken: { token } })),
    fc.oneof(fc.record({ id: fc.oneof(junkString, anyJson), method: junkString }), anyJson).map((request) => JSON.stringify({ request })),
    fc.dictionary(junkString, anyJson, { minKeys: 1, maxKeys: 8 }).map((m) => JSON.stringify(m)),
    anyJson.map((v) => JSON.stringify(v)),
    junkString,
    fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
  );

describe('the control channel against a lying relay, fuzzed', () => {
  let relay: LyingRelay;
  beforeAll(async () => {
    relay = await startLyingRelay();
  });
  afterAll(async () => {
    await relay.close();
  });

  it('stays up, reacts clearly, logs boundedly and never shows the token or key', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(controlMessage(relay.port), { maxLength: 60 }), fc.boolean(), async (messages, oversized) => {
        const o = await openObserved(relay);
        try {
          const token = relay.tokens.at(-1)!;
          const sig = /sig=([^&]+)/.exec(token)![1]!;
          const sent = messages.map((m) => (typeof m === 'string' ? m.split(TOKEN).join(token) : m));
          if (oversized) sent.push('y'.repeat(300 * 1024));
          await sendAndSettle(o, relay, sent);
          if (oversized) {
            const info = await o.closed;
            expect(info.error?.message).toMatch(/control message larger than 262144 bytes/);
          } else {
            expect(o.channel.isOpen).toBe(true);
          }
          o.channel.close();
          await o.closed;
          const reports = o.events.filter((e) => e.startsWith('unknown: ') || e.startsWith('request: '));
          // The first ten, and at most one summary.
          expect(reports.length).toBeLessThanOrEqual(11);
          for (const e of o.events) {
            expect(e.length).toBeLessThanOrEqual(600);
            expect(e).not.toContain(token);
            expect(e).not.toContain(sig);
            expect(e).not.toContain(decodeURIComponent(sig));
            expect(holdsKey(e)).toBe(false);
            // eslint-disable-next-line no-control-regex
            expect(e).not.toMatch(/[\x00-\x1f\x7f]/);
          }
          for (const address of o.accepts.filter((a) => !a.includes('sb-hc-id=marker-'))) {
            expect(acceptAddressProblem(address, relay.cs)).toBeUndefined();
            expect(sent).toContainEqual(expect.stringContaining(JSON.stringify(address).slice(1, -1)));
          }
        } finally {
          o.channel.close();
        }
      }),
      budget(40, 8_000),
    );
  }, 30_000);
});
