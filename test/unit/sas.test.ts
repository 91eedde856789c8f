import { describe, expect, it } from 'vitest';
import { audienceCovers, createSasToken, parseSasToken, sasAudience, signSas, verifySasToken, type SasRule } from '../../src/relay/sas.js';

// docs/protocol.md §3 (test vectors)
const KEY_NAME = 'RootManageSharedAccessKey';
const KEY = 'XKv4zZ0b5hd3q8d2mD6e7sVb1FzJQm0kS9cW5Yt3uQ0=';
const SE = 1700000000;
const VECTORS: Array<[string, string]> = [
  ['http%3A%2F%2Fcontoso.servicebus.windows.net%2Fhyco%2F', 'xVzLSivsoLzNhP8eLV8k8c60Qk74PBip81CEduq41zE='],
  ['http%3A%2F%2Fcontoso.servicebus.windows.net%2Fhyco', 'EsG9JBwRhVpwTkhK5zaEOhFC4BSVIeIDRcek9Usvvis='],
  ['http%3A%2F%2Fcontoso.servicebus.windows.net%2F', 'kNxIFHbcIU+mU1TYoRadOI4VWjP3kSl+tuEOwDOu940='],
  ['http%3a%2f%2fcontoso.servicebus.windows.net%2fhyco%2f', 'utNa3jMcDPH/6l74CHNfkocSXj8BVQzaIBvLcb2WTxo='],
];
const DECODED_KEY_SIG = '5JvPTDQtcSmGQ3nsGt9ojQIVLFIQ753/txiBUWabo2o=';

const rules: SasRule[] = [
  { name: KEY_NAME, rights: ['Listen', 'Send', 'Manage'], keys: [KEY, 'secondary'] },
  { name: 'sendOnly', rights: ['Send'], keys: ['send-key'] },
];

function token(sr: string, sig: string, skn = KEY_NAME, se = SE): string {
  return `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${se}&skn=${skn}`;
}

const verifyAt = (t: string, entityPath = 'hyco', extra: Partial<Parameters<typeof verifySasToken>[0]> = {}) =>
  verifySasToken({
    token: t,
    host: 'contoso.servicebus.windows.net',
    entityPath,
    requiredRight: 'Listen',
    rules,
    nowSeconds: SE - 60,
    ...extra,
  });

describe('SAS vectors', () => {
  it.each(VECTORS)('signs %s', (sr, sig) => {
    expect(signSas(sr, SE, KEY)).toBe(sig);
  });

  it('builds the .NET audience and token for row 1', () => {
    expect(encodeURIComponent(sasAudience('Contoso.servicebus.windows.net', 'hyco'))).toBe(VECTORS[0]![0]);
    const t = createSasToken({
      audience: sasAudience('contoso.servicebus.windows.net', 'hyco'),
      keyName: KEY_NAME,
      key: KEY,
      expiresAt: SE,
    });
    expect(t).toBe(token(VECTORS[0]![0], VECTORS[0]![1]));
    expect(parseSasToken(t)).toMatchObject({
      encodedResource: VECTORS[0]![0],
      signature: VECTORS[0]![1],
      expiresAt: SE,
      keyName: KEY_NAME,
    });
  });

  it.each(VECTORS)('verifies %s (entity or parent, either hex case, with or without slash)', (sr, sig) => {
    expect(verifyAt(token(sr, sig))).toMatchObject({ ok: true, keyName: KEY_NAME });
  });

  it('rejects the signature made with the base64-decoded key', () => {
    expect(signSas(VECTORS[0]![0], SE, KEY)).not.toBe(DECODED_KEY_SIG);
    expect(verifyAt(token(VECTORS[0]![0], DECODED_KEY_SIG))).toMatchObject({ ok: false, reason: 'bad-signature' });
  });
});

describe('verifySasToken', () => {
  const good = token(VECTORS[0]![0], VECTORS[0]![1]);

  it('accepts the secondary key', () => {
    const t = createSasToken({
      audience: sasAudience('contoso.servicebus.windows.net', 'hyco'),
      keyName: KEY_NAME,
      key: 'secondary',
      expiresAt: SE,
    });
    expect(verifyAt(t).ok).toBe(true);
  });

  it('rejects expired tokens, honouring a grace period', () => {
    expect(verifyAt(good, 'hyco', { nowSeconds: SE + 10 })).toMatchObject({ ok: false, reason: 'expired' });
    expect(verifyAt(good, 'hyco', { nowSeconds: SE + 10, graceSeconds: 30 }).ok).toBe(true);
  });

  it('rejects a wrong key, an unknown key name, missing rights and a wrong audience, each with its reason', () => {
    const wrongKey = createSasToken({
      audience: sasAudience('contoso.servicebus.windows.net', 'hyco'),
      keyName: KEY_NAME,
      key: 'nope',
      expiresAt: SE,
    });
    expect(verifyAt(wrongKey)).toMatchObject({ ok: false, reason: 'bad-signature' });
    const unknown = createSasToken({
      audience: sasAudience('contoso.servicebus.windows.net', 'hyco'),
      keyName: 'ghost',
      key: KEY,
      expiresAt: SE,
    });
    expect(verifyAt(unknown)).toMatchObject({ ok: false, reason: 'unknown-key-name' });
    const sendOnly = createSasToken({
      audience: sasAudience('contoso.servicebus.windows.net', 'hyco'),
      keyName: 'sendOnly',
      key: 'send-key',
      expiresAt: SE,
    });
    expect(verifyAt(sendOnly)).toMatchObject({ ok: false, reason: 'insufficient-rights' });
    expect(verifyAt(sendOnly, 'hyco', { requiredRight: 'Send' }).ok).toBe(true);
    expect(verifyAt(good, 'other')).toMatchObject({ ok: false, reason: 'wrong-audience' });
    expect(verifyAt(good, 'hyco', { host: 'fabrikam.servicebus.windows.net' })).toMatchObject({ ok: false, reason: 'wrong-audience' });
    expect(verifyAt('Bearer abc')).toMatchObject({ ok: false, reason: 'malformed' });
    expect(verifyAt('SharedAccessSignature sr=a&sig=b')).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('treats a path-prefix that is not a parent as a different entity', () => {
    expect(audienceCovers('http://contoso.servicebus.windows.net/hy', 'contoso.servicebus.windows.net', 'hyco')).toBe(false);
    expect(audienceCovers('http://contoso.servicebus.windows.net/a', 'contoso.servicebus.windows.net', 'a/b')).toBe(true);
    expect(audienceCovers('sb://CONTOSO.servicebus.windows.net:443/hyco/', 'contoso.servicebus.windows.net', 'hyco')).toBe(true);
  });
});
