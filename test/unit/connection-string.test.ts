import { describe, expect, it } from 'vitest';
import { formatConnectionString, parseConnectionString, relayOrigin } from '../../src/relay/connection-string.js';
import { RelayError } from '../../src/relay/errors.js';

const KEY = 'XKv4zZ0b5hd3q8d2mD6e7sVb1FzJQm0kS9cW5Yt3uQ0=';
const GOOD = `Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=defaultListener;SharedAccessKey=${KEY};EntityPath=hyco`;

function errorOf(fn: () => unknown): RelayError {
  try {
    fn();
  } catch (err) {
    return err as RelayError;
  }
  throw new Error('expected an error');
}

describe('parseConnectionString', () => {
  it('parses the portal form, keeping the "=" that ends the key', () => {
    const cs = parseConnectionString(GOOD);
    expect(cs).toMatchObject({
      host: 'contoso.servicebus.windows.net',
      port: undefined,
      sharedAccessKeyName: 'defaultListener',
      sharedAccessKey: KEY,
      entityPath: 'hyco',
    });
    expect(relayOrigin(cs)).toBe('wss://contoso.servicebus.windows.net');
  });

  it('accepts case-insensitive names, a trailing ";", empty pieces and spaces; the last duplicate wins', () => {
    const cs = parseConnectionString(
      ` endpoint=sb://A.servicebus.windows.net/ ;; sharedaccesskeyname=x;SHAREDACCESSKEY=y;EntityPath=one;entitypath=two; `,
    );
    expect(cs).toMatchObject({ host: 'a.servicebus.windows.net', sharedAccessKeyName: 'x', sharedAccessKey: 'y', entityPath: 'two' });
  });

  it('keeps an explicit port and sovereign-cloud hosts', () => {
    const cn = parseConnectionString(
      'Endpoint=sb://ns.servicebus.chinacloudapi.cn:9443/;SharedAccessKeyName=a;SharedAccessKey=b;EntityPath=h',
    );
    expect(relayOrigin(cn)).toBe('wss://ns.servicebus.chinacloudapi.cn:9443');
    const gov = parseConnectionString(
      'Endpoint=sb://ns.servicebus.usgovcloudapi.net/;SharedAccessKeyName=a;SharedAccessKey=b;EntityPath=h',
    );
    expect(gov.host).toBe('ns.servicebus.usgovcloudapi.net');
  });

  it('allows plain ws only for loopback hosts with UseDevelopmentEmulator=true', () => {
    const local = parseConnectionString(
      'Endpoint=sb://localhost:5000/;SharedAccessKeyName=a;SharedAccessKey=b;EntityPath=h;UseDevelopmentEmulator=true',
    );
    expect(relayOrigin(local)).toBe('ws://localhost:5000');
    expect(
      relayOrigin(parseConnectionString('Endpoint=sb://[::1]:5000/;SharedAccessKeyName=a;SharedAccessKey=b;UseDevelopmentEmulator=true')),
    ).toBe('ws://[::1]:5000');
    expect(
      relayOrigin(
        parseConnectionString('Endpoint=sb://127.0.0.2:5000/;SharedAccessKeyName=a;SharedAccessKey=b;UseDevelopmentEmulator=true'),
      ),
    ).toBe('ws://127.0.0.2:5000');
    const err = errorOf(() =>
      parseConnectionString(
        'Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=a;SharedAccessKey=b;UseDevelopmentEmulator=true',
      ),
    );
    expect(err.code).toBe('E_CONNECTION_STRING');
    expect(err.message).toMatch(/only for loopback hosts/);
  });

  it.each([
    ['', /empty/],
    ['Endpoint=sb://x/;Bogus=1', /unknown connection string key "Bogus"/],
    ['Endpoint=sb://x/;SharedAccessKeyName', /has no "="/],
    ['SharedAccessKeyName=a;SharedAccessKey=b', /no Endpoint/],
    ['Endpoint=https://x.servicebus.windows.net/;SharedAccessKeyName=a;SharedAccessKey=b', /sb:\/\/ scheme/],
    ['Endpoint=not a uri;SharedAccessKeyName=a;SharedAccessKey=b', /not a URI/],
    ['Endpoint=sb://x/path;SharedAccessKeyName=a;SharedAccessKey=b', /must not have a path/],
    ['Endpoint=sb://x/;SharedAccessKeyName=a', /SharedAccessKeyName but no SharedAccessKey/],
    ['Endpoint=sb://x/;SharedAccessKey=b', /SharedAccessKey but no SharedAccessKeyName/],
    [`Endpoint=sb://x/;SharedAccessKeyName=${'n'.repeat(257)};SharedAccessKey=b`, /longer than 256/],
    [`Endpoint=sb://x/;SharedAccessKeyName=a;SharedAccessKey=${'k'.repeat(257)}`, /longer than 256/],
    [
      'Endpoint=sb://x/;SharedAccessKeyName=a;SharedAccessKey=b;SharedAccessSignature=SharedAccessSignature sr=x&sig=y&se=1&skn=a',
      /cannot be combined/,
    ],
    ['Endpoint=sb://x/;SharedAccessSignature=abc', /full token/],
    ['Endpoint=sb://x/;SharedAccessKeyName=a;SharedAccessKey=b;EntityPath=', /EntityPath is empty/],
    ['Endpoint=sb://x/;SharedAccessKeyName=a;SharedAccessKey=b;EntityPath=a b', /characters/],
    ['Endpoint=sb://x/;SharedAccessKeyName=a;SharedAccessKey=b;UseDevelopmentEmulator=yes', /true or false/],
    ['Endpoint=sb://x/;SharedAccessKeyName=a;SharedAccessKey=b;OperationTimeout=soon', /time span/],
    [`Endpoint=sb://x/;SharedAccessKeyName=a;SharedAccessKey=b;EntityPath=${'e'.repeat(261)}`, /EntityPath is longer than 260/],
    [`Endpoint=sb://${'h.'.repeat(130)}net/;SharedAccessKeyName=a;SharedAccessKey=b`, /host is longer than 253/],
    ['Endpoint=sb://x:0/;SharedAccessKeyName=a;SharedAccessKey=b', /port 0/],
  ])('rejects %j with a specific message', (text, message) => {
    const err = errorOf(() => parseConnectionString(text));
    expect(err).toBeInstanceOf(RelayError);
    expect(err.code).toBe('E_CONNECTION_STRING');
    expect(err.message).toMatch(message);
  });

  it('requires EntityPath for a listener when asked', () => {
    const text = 'Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=b';
    expect(parseConnectionString(text).entityPath).toBeUndefined();
    expect(errorOf(() => parseConnectionString(text, { requireEntityPath: true })).message).toMatch(/no EntityPath/);
  });

  it('never echoes the key, or a piece of it, in errors', () => {
    // Each of these puts the key where a name or a value is expected; the messages may quote
    // misspelt names but no run of 8 characters from the key.
    const keyPieces = Array.from({ length: KEY.length - 7 }, (_, i) => KEY.slice(i, i + 8));
    const valid = errorOf(() => parseConnectionString(`Endpoint=sb://x/;SharedAccessKeyName=a;SharedAccessKey=${KEY};Unknown=1`)).message;
    for (const piece of keyPieces) expect(valid).not.toContain(piece);
    for (const text of [
      `Endpoint=sb://x/;SharedAccessKey${KEY}`,
      `Endpoint=sb://x/;SharedAccessKeyName=a;${KEY}`,
      `Endpoint=sb://x/;SharedAccessKeyName=a;${KEY.slice(0, -1)}`,
      `Endpoint=sb://x/;SharedAccessKeyName=a;SharedAccessKey=b;UseDevelopmentEmulator=${KEY}`,
      `Endpoint=sb://x/;SharedAccessKeyName=a;SharedAccessKey=b;OperationTimeout=${KEY}`,
      `Endpoint=sb://x/;SharedAccessKeyName=a;SharedAccessKey=b;EntityPath=hc SharedAccessKey=${KEY}`,
      `Endpoint=sb://a:${KEY}@ns.servicebus.windows.net/;SharedAccessKeyName=a;SharedAccessKey=b`,
      `Endpoint=sb://ns.servicebus.windows.net/SharedAccessKey=${KEY};SharedAccessKeyName=a;SharedAccessKey=b`,
      `Endpoint=sb://ns.servicebus.windows.net/${KEY};SharedAccessKeyName=a;SharedAccessKey=b`,
      `Endpoint=${KEY};SharedAccessKeyName=a;SharedAccessKey=b`,
    ]) {
      const message = errorOf(() => parseConnectionString(text)).message;
      expect(message).toMatch(/not shown: it may hold a key/);
      for (const piece of keyPieces) expect(message).not.toContain(piece);
    }
  });

  it('keeps EntityPath up to 260 characters (the Azure limit)', () => {
    const path = `a/${'b'.repeat(258)}`;
    expect(parseConnectionString(`Endpoint=sb://x/;SharedAccessKeyName=a;SharedAccessKey=b;EntityPath=${path}`).entityPath).toBe(path);
  });

  it('quotes a long bad value shortened, and one with control characters not at all', () => {
    const long = errorOf(() =>
      parseConnectionString(`Endpoint=sb://x/;SharedAccessKeyName=a;SharedAccessKey=b;EntityPath=${'a b'.repeat(80)}`),
    );
    expect(long.message).toMatch(/EntityPath "(a b){26}a …" \(240 characters\) has characters/);
    const ctl = errorOf(() => parseConnectionString('Endpoint=sb://x/;SharedAccessKeyName=a;SharedAccessKey=b;EntityPath=a\u001b[2Jb'));
    expect(ctl.message).toMatch(/EntityPath \(6 characters with control characters, not shown\)/);
  });

  it('quotes a misspelt name back so the user can see what is wrong', () => {
    expect(errorOf(() => parseConnectionString('Endpoint=sb://x/;SharedAccesKeyName=a')).message).toMatch(
      /unknown connection string key "SharedAccesKeyName"/,
    );
    expect(errorOf(() => parseConnectionString('Endpoint=sb://x/;EntityPath')).message).toMatch(/part "EntityPath" has no "="/);
    expect(
      errorOf(() => parseConnectionString('Endpoint=https://ns.servicebus.windows.net/;SharedAccessKeyName=a;SharedAccessKey=b')).message,
    ).toMatch(/Endpoint "https:\/\/ns\.servicebus\.windows\.net\/" must use the sb:\/\/ scheme/);
    expect(
      errorOf(() => parseConnectionString('Endpoint=sb://x/;SharedAccessKeyName=a;SharedAccessKey=b;EntityPath=my hc')).message,
    ).toMatch(/EntityPath "my hc" has characters/);
  });

  it('accepts a SharedAccessSignature instead of name and key', () => {
    const cs = parseConnectionString(
      'Endpoint=sb://x.servicebus.windows.net/;SharedAccessSignature=SharedAccessSignature sr=a&sig=b&se=1&skn=c;EntityPath=h',
    );
    expect(cs.sharedAccessSignature).toBe('SharedAccessSignature sr=a&sig=b&se=1&skn=c');
  });
});

describe('formatConnectionString', () => {
  it('prints the canonical order with the key redacted unless asked', () => {
    const cs = parseConnectionString(
      `EntityPath=hyco;SharedAccessKey=${KEY};Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=defaultListener`,
    );
    expect(formatConnectionString(cs)).toBe(
      'Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=defaultListener;SharedAccessKey=<redacted>;EntityPath=hyco',
    );
    expect(formatConnectionString(cs, { includeSecrets: true })).toBe(GOOD);
  });

  it('round-trips ports, IPv6 hosts and the emulator flag', () => {
    const text = 'Endpoint=sb://[::1]:9443/;SharedAccessKeyName=a;SharedAccessKey=b;EntityPath=h;UseDevelopmentEmulator=true';
    expect(formatConnectionString(parseConnectionString(text), { includeSecrets: true })).toBe(text);
  });
});
