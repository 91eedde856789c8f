import https from 'node:https';
import { rootCertificates } from 'node:tls';
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { bypassesProxy } from '../../relay/proxy.js';
import { type TransportOptions, agentFor } from '../../relay/transport.js';
import { HcmError } from '../../shared/errors.js';

/**
 * HTTPS for sign-in and Azure Resource Manager with the agent's own trust settings: the system
 * roots plus any extra CA (a corporate TLS-inspecting proxy's, or the emulator's), and the same
 * proxy agent as the relay connections. MSAL takes it as its network module; the ARM clients
 * take `armTlsOptions`.
 */

const MAX_BODY_BYTES = 4 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 30_000;

export function trustedCas(transport: TransportOptions | undefined): string[] | undefined {
  const ca = transport?.ca;
  if (!ca) return undefined;
  const extra = (Array.isArray(ca) ? ca : [ca]).map((c) => c.toString());
  return [...rootCertificates, ...extra];
}

/** For @azure/core-rest-pipeline clients (RelayAPI, SubscriptionClient): `tlsOptions`. */
export function armTlsOptions(transport: TransportOptions | undefined): { ca: string[] } | undefined {
  const ca = trustedCas(transport);
  return ca ? { ca } : undefined;
}

/** The agent's proxy for an ARM endpoint, as @azure/core-rest-pipeline's `proxyOptions` (none where NO_PROXY exempts it). */
export function armProxyOptions(
  transport: TransportOptions | undefined,
  endpoint: string,
): { host: string; port: number; username?: string; password?: string } | undefined {
  const proxy = transport?.proxy;
  if (!proxy) return undefined;
  const target = new URL(endpoint);
  if (bypassesProxy(target.hostname, Number(target.port || 443), proxy.noProxy)) return undefined;
  const url = new URL(proxy.url);
  return {
    host: `${url.protocol}//${url.hostname}`,
    port: Number(url.port || 80),
    ...(proxy.username !== undefined ? { username: proxy.username, password: proxy.password ?? '' } : {}),
  };
}

export class HttpsNetworkModule implements INetworkModule {
  constructor(private readonly transport: TransportOptions = {}) {}

  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> {
    return this.send<T>('GET', url, options, timeout);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>('POST', url, options);
  }

  private send<T>(method: 'GET' | 'POST', url: string, options: NetworkRequestOptions = {}, timeout?: number): Promise<NetworkResponse<T>> {
    const body = options.body ?? '';
    const headers: Record<string, string | number> = { ...options.headers };
    if (method === 'POST') headers['Content-Length'] = Buffer.byteLength(body);
    const ca = trustedCas(this.transport);
    return new Promise((resolve, reject) => {
      const req = https.request(
        url,
        {
          method,
          headers,
          timeout: timeout ?? this.transport.timeoutMs ?? DEFAULT_TIMEOUT_MS,
          agent: agentFor(this.transport, url),
          ...(ca ? { ca } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_BODY_BYTES)
              req.destroy(new HcmError('E_PROTOCOL', `sign-in answer from ${new URL(url).host} is larger than 4 MiB`));
            else chunks.push(c);
          });
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = text ? JSON.parse(text) : {};
            } catch {
              // MSAL reads error fields from the body; a non-JSON answer (a proxy's page) keeps its status.
              parsed = { error: 'invalid_response', error_description: `not JSON (HTTP ${res.statusCode ?? 0})` };
            }
            const flat: Record<string, string> = {};
            for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(', ') : v;
            resolve({ status: res.statusCode ?? 0, headers: flat, body: parsed as T });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new HcmError('E_TIMEOUT', `no answer from ${new URL(url).host} within the timeout`)));
      req.on('error', (err) =>
        reject(err instanceof HcmError ? err : new HcmError('E_NETWORK', `cannot reach ${new URL(url).host}: ${err.message}`)),
      );
      req.end(method === 'POST' ? body : undefined);
    });
  }
}
