import { type ProxyConfig, describeProxy, parseProxyUrl } from '../relay/proxy.js';
import type { SecretSettings, Settings } from './config-store.js';

/**
 * Which outbound proxy the agent uses: the admin's setting (`hcm proxy set`, or the UI), else
 * HTTPS_PROXY / https_proxy (HTTP_PROXY as a fallback) from the environment, with NO_PROXY.
 * The setting "direct" ignores the environment. Credentials come from secrets.json (or from the
 * variable's URL), never from config.json, and never appear in what is shown or logged.
 */

export interface ResolvedProxy {
  config: ProxyConfig | undefined;
  /** For people: "http://proxy:3128 (setting)", "none", … — never with credentials. */
  description: string;
  source: 'setting' | 'environment' | 'system' | 'none';
}

const DEFAULT_NO_PROXY = ['localhost', '127.0.0.1', '::1'];

/**
 * `systemProxy` is the OS's proxy for the relay (the desktop app asks Electron's session, which
 * reads the system settings and PAC files): used only when neither a setting nor the environment
 * names one.
 */
export function resolveProxy(
  settings: Settings,
  secrets: SecretSettings,
  env: NodeJS.ProcessEnv = process.env,
  systemProxy?: string | null,
): ResolvedProxy {
  const noProxyEnv = splitList(env.NO_PROXY ?? env.no_proxy);
  const setting = settings.proxy;
  if (setting) {
    if (setting.url === 'direct')
      return { config: undefined, description: 'none (direct, the setting ignores HTTPS_PROXY)', source: 'setting' };
    const url = parseProxyUrl(setting.url);
    const config: ProxyConfig = {
      url: `${url.protocol}//${url.host}`,
      noProxy: setting.noProxy ?? noProxyEnv ?? [],
      ...(secrets.proxy ? { username: secrets.proxy.username, password: secrets.proxy.password } : {}),
    };
    return {
      config,
      description: `${describeProxy(config)} (setting${config.username ? `, user ${config.username}` : ''})`,
      source: 'setting',
    };
  }
  const text = env.HTTPS_PROXY || env.https_proxy || env.HTTP_PROXY || env.http_proxy;
  if (!text && systemProxy) {
    const url = parseProxyUrl(systemProxy);
    const config: ProxyConfig = { url: `${url.protocol}//${url.host}`, noProxy: noProxyEnv ?? DEFAULT_NO_PROXY };
    return { config, description: `${describeProxy(config)} (the system's proxy settings)`, source: 'system' };
  }
  if (!text) return { config: undefined, description: 'none', source: 'none' };
  const url = parseProxyUrl(text);
  const config: ProxyConfig = {
    url: `${url.protocol}//${url.host}`,
    noProxy: noProxyEnv ?? DEFAULT_NO_PROXY,
    ...(url.username ? { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) } : {}),
  };
  return {
    config,
    description: `${describeProxy(config)} (from the environment${config.username ? `, user ${config.username}` : ''})`,
    source: 'environment',
  };
}

/**
 * Electron's `session.resolveProxy()` answers in PAC form: "DIRECT", or "PROXY host:port; DIRECT"
 * and the like. The first PROXY (or HTTPS) entry is the proxy; DIRECT or SOCKS means none we use.
 */
export function proxyFromPacAnswer(answer: string): string | null {
  for (const part of answer.split(';')) {
    const m = /^\s*(PROXY|HTTPS)\s+(\S+)\s*$/i.exec(part);
    if (m) return `http://${m[2]}`;
    if (/^\s*DIRECT\s*$/i.test(part)) return null;
  }
  return null;
}

function splitList(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  return text
    .split(/[,\s]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}
