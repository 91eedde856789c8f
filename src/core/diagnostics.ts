import { lookup } from 'node:dns/promises';
import net, { isIP } from 'node:net';
import tls from 'node:tls';
import { connectEndpoint } from '../relay/accept-handler.js';
import { type ConnectionString, hostWithPort } from '../relay/connection-string.js';
import { type Endpoint, formatEndpoint } from '../relay/endpoint.js';
import { type ProxyConfig, bypassesProxy, connectThroughProxy, describeProxy } from '../relay/proxy.js';
import { type TransportOptions, lookupRelayHost, secureContextFor } from '../relay/transport.js';
import type { TestStep } from '../shared/api.js';

/** Reachability checks behind `hcm test` and the UI's Test button: DNS, then TCP, then TLS. */

const DEFAULT_TIMEOUT_MS = 10_000;

async function step(name: string, run: () => Promise<string>): Promise<TestStep> {
  const started = performance.now();
  try {
    const detail = await run();
    return { name, ok: true, detail, ms: Math.round(performance.now() - started) };
  } catch (err) {
    return { name, ok: false, detail: (err as Error).message, ms: Math.round(performance.now() - started) };
  }
}

async function resolveStep(label: 'endpoint' | 'relay', host: string): Promise<TestStep> {
  return step(`DNS ${label} ${host}`, async () => {
    if (isIP(host)) return `${host} is an IP address`;
    try {
      // The relay is resolved as the agent's own connections resolve it (names under .localhost are loopback).
      const addresses = label === 'relay' ? await lookupRelayHost(host) : (await lookup(host, { all: true })).map((a) => a.address);
      return addresses.join(', ');
    } catch (err) {
      throw new Error(`cannot resolve ${host} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
    }
  });
}

export async function testEndpoint(endpoint: Endpoint, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<TestStep[]> {
  const dns = await resolveStep('endpoint', endpoint.host);
  if (!dns.ok) return [dns];
  const tcp = await step(`TCP endpoint ${formatEndpoint(endpoint)}`, async () => {
    const socket = await connectEndpoint(endpoint, timeoutMs);
    const detail = `connected (local ${socket.localAddress}:${socket.localPort})`;
    socket.destroy();
    return detail;
  });
  return [dns, tcp];
}

export async function testRelay(cs: ConnectionString, transport?: TransportOptions, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<TestStep[]> {
  const port = cs.port ?? (cs.useDevelopmentEmulator ? 80 : 443);
  const proxy = transport?.proxy;
  if (proxy && !bypassesProxy(cs.host, port, proxy.noProxy)) return testRelayThroughProxy(cs, port, proxy, transport, timeoutMs);
  const dns = await resolveStep('relay', cs.host);
  if (!dns.ok) return [dns];
  // Connect to what the agent's own resolution gives (the DNS step above), naming the host for TLS.
  const address = isIP(cs.host) ? cs.host : ((await lookupRelayHost(cs.host).catch(() => []))[0] ?? cs.host);
  const tcp = await step(`TCP relay ${hostWithPort({ host: cs.host, port })}`, async () => {
    const socket = await connectEndpoint({ host: address, port }, timeoutMs);
    socket.destroy();
    return 'connected';
  });
  if (!tcp.ok || cs.useDevelopmentEmulator) return [dns, tcp];
  const handshake = await step(`TLS relay ${cs.host}`, () => tlsHandshake(cs.host, address, port, transport, timeoutMs));
  return [dns, tcp, handshake];
}

/** Through a proxy the relay is reached as the agent reaches it: a CONNECT tunnel, then TLS inside. */
async function testRelayThroughProxy(
  cs: ConnectionString,
  port: number,
  proxy: ProxyConfig,
  transport: TransportOptions | undefined,
  timeoutMs: number,
): Promise<TestStep[]> {
  let tunnel: net.Socket | undefined;
  const connect = await step(`Proxy ${describeProxy(proxy)}: CONNECT ${hostWithPort({ host: cs.host, port })}`, async () => {
    tunnel = await connectThroughProxy(proxy, cs.host, port, timeoutMs);
    return 'tunnel open';
  });
  if (!connect.ok || cs.useDevelopmentEmulator) {
    tunnel?.destroy();
    return [connect];
  }
  const handshake = await step(
    `TLS relay ${cs.host} (through the proxy)`,
    () =>
      new Promise<string>((resolve, reject) => {
        const socket = tls.connect({
          socket: tunnel!,
          servername: isIP(cs.host) ? undefined : cs.host,
          secureContext: secureContextFor(transport),
        });
        const timer = setTimeout(() => {
          socket.destroy();
          reject(new Error(`no TLS answer within ${Math.round(timeoutMs / 1000)} s`));
        }, timeoutMs);
        socket.once('secureConnect', () => {
          clearTimeout(timer);
          const cert = socket.getPeerCertificate();
          resolve(`${socket.getProtocol()}, certificate for ${cert.subject?.CN ?? '?'} valid until ${cert.valid_to}`);
          socket.destroy();
        });
        socket.once('error', (err: NodeJS.ErrnoException) => {
          clearTimeout(timer);
          reject(new Error(`TLS failed: ${err.code ?? ''} ${err.message}`.trim()));
        });
      }),
  );
  return [connect, handshake];
}

function tlsHandshake(
  host: string,
  address: string,
  port: number,
  transport: TransportOptions | undefined,
  timeoutMs: number,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: address,
      port,
      servername: isIP(host) ? undefined : host,
      secureContext: secureContextFor(transport),
      timeout: timeoutMs,
    });
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      const detail = `${socket.getProtocol()}, certificate for ${cert.subject?.CN ?? '?'} valid until ${cert.valid_to}`;
      socket.destroy();
      resolve(detail);
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error(`no TLS answer within ${Math.round(timeoutMs / 1000)} s`));
    });
    socket.once('error', (err: NodeJS.ErrnoException) => reject(new Error(`TLS failed: ${err.code ?? ''} ${err.message}`.trim())));
  });
}
