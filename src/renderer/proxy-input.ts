/** The proxy form's checks and what it sends (ProxyInput). Pure functions; the agent checks again. */
import type { ProxyInput, ProxyState } from '../shared/api.js';

export interface ProxyForm {
  url: string;
  /** Comma- or space-separated hosts and domains. */
  noProxy: string;
  username: string;
  password: string;
}

/** What the form starts with: the saved setting (never its password), else empty. */
export function proxyFormOf(state: ProxyState | null): ProxyForm {
  const saved = state?.source === 'setting' && state.url !== null;
  return {
    url: state?.url ?? '',
    noProxy: saved ? state.noProxy.join(', ') : '',
    username: saved ? (state.username ?? '') : '',
    password: '',
  };
}

/** Why the proxy address cannot be used, or null: "direct", or http://host:port. */
export function proxyUrlProblem(text: string): string | null {
  const value = text.trim();
  if (value === '') return 'Enter the proxy address, for example http://proxy.contoso.local:3128, or "direct".';
  if (value === 'direct') return null;
  let url: URL;
  try {
    // As the agent reads it: host:port alone means http://host:port.
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
  } catch {
    return 'Write it as http://host:port, for example http://proxy.contoso.local:3128.';
  }
  if (url.protocol !== 'http:') return `Only http:// proxies are supported (HTTPS goes through them with CONNECT), not ${url.protocol}//.`;
  if (!url.hostname) return 'The address has no host.';
  if (url.username || url.password) return 'Give the user name and password in their own fields, not in the address.';
  if (url.pathname !== '/' || url.search || url.hash) return 'Only host and port: nothing after the port.';
  return null;
}

/** Why the credentials cannot be saved, or null. The password is never shown back, so it is given again with the user name. */
export function proxyCredentialsProblem(form: Pick<ProxyForm, 'username' | 'password'>): string | null {
  if (form.password !== '' && form.username.trim() === '') return 'A password needs a user name.';
  if (form.username.trim() !== '' && form.password === '')
    return 'Enter the password for this user (it is never shown back, so it is entered again to save).';
  return null;
}

export function proxyInputOf(form: ProxyForm): ProxyInput {
  const url = form.url.trim();
  const noProxy = form.noProxy
    .split(/[\s,]+/)
    .map((h) => h.trim())
    .filter(Boolean);
  const username = form.username.trim();
  return {
    url,
    ...(noProxy.length ? { noProxy } : {}),
    ...(username ? { username, password: form.password } : {}),
  };
}

/** Where the proxy in use comes from, for people. */
export function proxySourceText(state: ProxyState): string {
  switch (state.source) {
    case 'setting':
      return 'A setting of this HCM (here, or hcm proxy set)';
    case 'environment':
      return 'The environment (HTTPS_PROXY, NO_PROXY)';
    case 'system':
      return "The system's proxy settings (desktop app)";
    case 'none':
      return 'None: HCM connects directly';
  }
}
