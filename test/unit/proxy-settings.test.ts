import { describe, expect, it } from 'vitest';
import { proxyFromPacAnswer, resolveProxy } from '../../src/core/proxy-settings.js';
import { bypassesProxy } from '../../src/relay/proxy.js';

describe('which proxy', () => {
  it('a setting wins over the environment, the environment over the system; credentials never in the description', () => {
    const env = { HTTPS_PROXY: 'http://user:pw@env-proxy:3128', NO_PROXY: 'a.example,.internal' };
    const setting = resolveProxy(
      { proxy: { url: 'http://set-proxy:8080' } },
      { proxy: { username: 'u', password: 'p' } },
      env,
      'http://sys:1',
    );
    expect(setting).toMatchObject({ source: 'setting', config: { url: 'http://set-proxy:8080', username: 'u', password: 'p' } });
    expect(setting.description).toBe('http://set-proxy:8080 (setting, user u)');
    const fromEnv = resolveProxy({}, {}, env, 'http://sys:1');
    expect(fromEnv).toMatchObject({
      source: 'environment',
      config: { url: 'http://env-proxy:3128', username: 'user', password: 'pw', noProxy: ['a.example', '.internal'] },
    });
    expect(fromEnv.description).not.toContain('pw');
    expect(resolveProxy({}, {}, {}, 'http://sys:1')).toMatchObject({ source: 'system', config: { url: 'http://sys:1' } });
    expect(resolveProxy({}, {}, {}, null)).toMatchObject({ source: 'none', config: undefined });
    expect(resolveProxy({ proxy: { url: 'direct' } }, {}, env, 'http://sys:1')).toMatchObject({ source: 'setting', config: undefined });
  });

  it("reads Electron's PAC-form answers", () => {
    expect(proxyFromPacAnswer('DIRECT')).toBeNull();
    expect(proxyFromPacAnswer('PROXY corp-proxy:3128; DIRECT')).toBe('http://corp-proxy:3128');
    expect(proxyFromPacAnswer('HTTPS secure-proxy:443')).toBe('http://secure-proxy:443');
    expect(proxyFromPacAnswer('SOCKS5 s:1080; DIRECT')).toBeNull();
    expect(proxyFromPacAnswer('')).toBeNull();
  });

  it('NO_PROXY: names, .suffixes, *.suffixes, ports and *', () => {
    expect(bypassesProxy('relay.example.com', 443, ['example.com'])).toBe(true);
    expect(bypassesProxy('relay.example.com', 443, ['.example.com'])).toBe(true);
    expect(bypassesProxy('relay.example.com', 443, ['*.example.com'])).toBe(true);
    expect(bypassesProxy('notexample.com', 443, ['example.com'])).toBe(false);
    expect(bypassesProxy('relay.example.com', 443, ['example.com:8443'])).toBe(false);
    expect(bypassesProxy('relay.example.com', 8443, ['example.com:8443'])).toBe(true);
    expect(bypassesProxy('anything', 1, ['*'])).toBe(true);
    expect(bypassesProxy('::1', 443, ['[::1]'])).toBe(true);
  });
});
