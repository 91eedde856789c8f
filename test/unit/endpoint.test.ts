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
