import { describe, expect, it } from 'vitest';
import { formatEndpoint, parseEndpoint } from '../../src/relay/endpoint.js';

describe('parseEndpoint', () => {
  it.each([
    ['db.internal:5432', { host: 'db.internal', port: 5432 }],
    ['10.0.0.4:1433', { host: '10.0.0.4', port: 1433 }],
    ['[::1]:5432', { host: '::1', port: 5432 }],
    ['[fe80::1]:80', { host: 'fe80::1', port: 80 }],
  ])('parses %s', (text, expected) => {
    expect(parseEndpoint(text)).toEqual(expected);
    expect(formatEndpoint(parseEndpoint(text))).toBe(text);
  });

  it.each([
    ['', /empty/],
    ['db.internal', /no port/],
    ['::1:5432', /brackets/],
    ['[::1]5432', /no port/],
    ['[zz]:5432', /not an IPv6/],
    ['db:0', /outside 1-65535/],
    ['db:70000', /outside 1-65535/],
    ['db:http', /not a number/],
    [':80', /no host/],
    ['bad host:80', /not a valid host/],
  ])('rejects %j', (text, message) => {
    expect(() => parseEndpoint(text)).toThrow(message);
  });
});

describe('endpoint limits', () => {
  it('refuses a host longer than DNS allows, and quotes a long value shortened', () => {
    const long = `${'a'.repeat(300)}:5432`;
    expect(() => parseEndpoint(long)).toThrow(expect.objectContaining({ code: 'E_ENDPOINT' }));
    const message = (() => {
      try {
        parseEndpoint(`${'b'.repeat(10_000)}:1`);
      } catch (err) {
        return (err as Error).message;
      }
      return '';
    })();
    expect(message).toMatch(/too long; a host name has at most 253 characters/);
    expect(message.length).toBeLessThan(200);
    expect(() => parseEndpoint(`${'c'.repeat(254)}:1`)).toThrow(/longer than 253/);
    expect(parseEndpoint(`${'d'.repeat(253)}:1`).host).toHaveLength(253);
  });

  it('never puts control characters of the value into the message', () => {
    expect(() => parseEndpoint('db\r\nforged:80')).toThrow(/^endpoint "db forged:80": "db forged" is not a valid host name$/);
  });
});
