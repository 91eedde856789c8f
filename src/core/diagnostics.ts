import { lookup } from 'node:dns/promises';
import net, { isIP } from 'node:net';
import tls from 'node:tls';
import { connectEndpoint } from '../relay/accept-handler.js';
import { CLOCK_SKEW_FAILURE_SECONDS, CLOCK_SKEW_TOLERANCE_SECONDS, describeClockSkew, noteRelayDate } from '../relay/clock-skew.js';
import { type ConnectionString, hostWithPort, relayOrigin } from '../relay/connection-string.js';
import { type Endpoint, formatEndpoint } from '../relay/endpoint.js';
import { type ProxyConfig, bypassesProxy, connectThroughProxy, describeProxy } from '../relay/proxy.js';
import { httpGet } from '../relay/runtime-info.js';
import { type TransportOptions, lookupRelayHost, secureContextFor } from '../relay/transport.js';
import { errorMessage } from '../shared/errors.js';
import type { TestStep } from '../shared/api.js';

/**
 * Reachability checks behind `hcm test` and the UI's Test button: DNS, then TCP, then TLS; the
 * clock against the relay's; and TCP and TLS to every gateway the agent connected to.
 */

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
  const steps: TestStep[] = [];
  // Through a proxy the proxy resolves the name: no DNS step of our own then.
  if (!proxy || bypassesProxy(cs.host, port, proxy.noProxy)) {
    const dns = await resolveStep('relay', cs.host);
    if (!dns.ok) return [dns];
    steps.push(dns);
  }
  steps.push(...(await reachRelayHost('relay', cs.host, port, !cs.useDevelopmentEmulator, transport, timeoutMs)));
  if (steps.every((s) => s.ok)) steps.push(await testClock(cs, transport, timeoutMs));
  return steps;
}

/** A relay host the agent connected to, as `hcm test` checks it (the service's gateway log). */
export interface GatewayTarget {
  host: string;
  port: number;
}

/**
 * TCP and TLS to each rendezvous gateway the agent used (through the proxy when the agent would
 * use it): a firewall that lets the namespace host through but not the gateways fails here.
 */
export async function testGateways(
  gateways: readonly GatewayTarget[],
  secure: boolean,
  transport?: TransportOptions,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<TestStep[]> {
  const results = await Promise.all(gateways.map((g) => reachRelayHost('gateway', g.host, g.port, secure, transport, timeoutMs)));
  return results.flat();
}

/**
 * TCP (or a CONNECT through the proxy), then TLS unless the relay is plain (the development
 * emulator): as the agent reaches `host:port`, resolving it the agent's way (names under
 * .localhost are loopback) and naming it for TLS.
 */
async function reachRelayHost(
  label: 'relay' | 'gateway',
  host: string,
  port: number,
  secure: boolean,
  transport: TransportOptions | undefined,
  timeoutMs: number,
): Promise<TestStep[]> {
  const proxy = transport?.proxy;
  if (proxy && !bypassesProxy(host, port, proxy.noProxy)) return reachThroughProxy(label, host, port, secure, proxy, transport, timeoutMs);
  const address = isIP(host) ? host : ((await lookupRelayHost(host).catch(() => []))[0] ?? host);
  const tcp = await step(`TCP ${label} ${hostWithPort({ host, port })}`, async () => {
    const socket = await connectEndpoint({ host: address, port }, timeoutMs);
    socket.destroy();
    return label === 'gateway' && address !== host ? `connected (${address})` : 'connected';
  });
  if (!tcp.ok || !secure) return [tcp];
  const handshake = await step(`TLS ${label} ${host}`, () => tlsHandshake(host, address, port, transport, timeoutMs));
  return [tcp, handshake];
}

/** Through a proxy the relay is reached as the agent reaches it: a CONNECT tunnel, then TLS inside. */
async function reachThroughProxy(
  label: 'relay' | 'gateway',
  host: string,
  port: number,
  secure: boolean,
  proxy: ProxyConfig,
  transport: TransportOptions | undefined,
  timeoutMs: number,
): Promise<TestStep[]> {
  let tunnel: net.Socket | undefined;
  const connect = await step(`Proxy ${describeProxy(proxy)}: CONNECT ${hostWithPort({ host, port })}`, async () => {
    tunnel = await connectThroughProxy(proxy, host, port, timeoutMs);
    return 'tunnel open';
  });
  if (!connect.ok || !secure) {
    tunnel?.destroy();
    return [connect];
  }
  const handshake = await step(
    `TLS ${label} ${host} (through the proxy)`,
    () =>
      new Promise<string>((resolve, reject) => {
        const socket = tls.connect({
          socket: tunnel!,
          servername: isIP(host) ? undefined : host,
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

/**
 * This machine's clock against the relay's: the Date header of a plain GET to the namespace host
 * (any answer has one). SAS tokens carry their expiry in this machine's time, so a clock far
 * enough behind makes every token look expired (a 401 no key fixes). Within a minute: fine; up to
 * five minutes: a warning (tokens still work); beyond: failed.
 */
export async function testClock(cs: ConnectionString, transport?: TransportOptions, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<TestStep> {
  const started = performance.now();
  const done = (ok: boolean, detail: string, warning = false): TestStep => ({
    name: `Clock relay ${cs.host}`,
    ok,
    detail,
    ms: Math.round(performance.now() - started),
    ...(warning ? { warning } : {}),
  });
  let date: string | undefined;
  try {
    ({ date } = await httpGet(`${relayOrigin(cs, 'http')}/`, {}, { ...transport, timeoutMs }));
  } catch (err) {
    return done(false, `could not ask the relay for its time: ${errorMessage(err)}`);
  }
  const sample = noteRelayDate(cs.host, date);
  if (!sample) return done(true, 'the relay sent no Date header; the clocks could not be compared', true);
  const off = Math.abs(sample.skewSeconds);
  if (off <= CLOCK_SKEW_TOLERANCE_SECONDS) {
    const relayTime = sample.relayTime.toISOString().replace(/\.000Z$/, 'Z');
    return done(true, `relay time ${relayTime}; this machine is within ${Math.max(1, off)} s of it`);
  }
  const problem = describeClockSkew(sample);
  if (off <= CLOCK_SKEW_FAILURE_SECONDS) return done(true, `${problem}; tokens still work, but set the clock right (NTP)`, true);
  return done(
    false,
    `${problem}; SAS tokens ${sample.skewSeconds < 0 ? 'look expired to the relay' : 'are judged by the wrong time'}: set the clock right (NTP)`,
  );
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
