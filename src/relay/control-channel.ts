import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { type Clock, type TimerHandle, systemClock } from './clock.js';
import { type ConnectionString, relayOrigin } from './connection-string.js';
import { RelayError } from './errors.js';
import { networkError } from './runtime-info.js';
import { splitAddress } from './raw-upgrade.js';
import { readHandshakeFailure } from './sender.js';
import { tokenSecondsLeft } from './sas.js';
import type { TokenProvider } from './token-provider.js';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, type TransportOptions, isSecureUrl, tlsOptions } from './transport.js';

/**
 * The listener's control channel (docs/protocol.md §4): one WebSocket on which the relay announces
 * connections. It keeps itself alive (ping with a deadline, because load balancers silently drop
 * idle sockets and a half-open socket never reports an error) and renews its token before expiry.
 */

export interface AcceptCommand {
  address: string;
  id: string;
  connectHeaders: Record<string, string>;
  remoteEndpoint: { address: string; port: number } | undefined;
}

export interface ControlChannelOptions {
  cs: ConnectionString;
  tokens: TokenProvider;
  transport?: TransportOptions;
  tokenTtlSeconds?: number;
  /** Ping interval; the relay's load balancer drops sockets idle for ~4 minutes. */
  keepAliveIntervalMs?: number;
  /** A ping unanswered this long means the channel is dead. */
  keepAliveTimeoutMs?: number;
  /** Time source of the keep-alive and renewal timers (the real one unless a test injects another). */
  clock?: Clock;
}

export interface ChannelClosed {
  code: number;
  reason: string;
  /** Set when the agent itself ended the channel because it looked dead. */
  error?: RelayError;
}

export const DEFAULT_KEEPALIVE_INTERVAL_MS = 25_000;
export const DEFAULT_KEEPALIVE_TIMEOUT_MS = 20_000;
const CONTROL_MAX_PAYLOAD = 256 * 1024;
const MAX_ADDRESS_LENGTH = 4096;

export interface ControlChannelEvents {
  accept: [AcceptCommand];
  /** An HTTP-mode request (App Service never sends these); already answered with 501. */
  request: [string];
  /** Something the relay sent that this agent does not understand; ignored. */
  unknown: [string];
  renewed: [number];
  closed: [ChannelClosed];
}

export class ControlChannel extends EventEmitter<ControlChannelEvents> {
  private ws: WebSocket | undefined;
  private keepAliveTimer: TimerHandle | undefined;
  private pongDeadline: TimerHandle | undefined;
  private renewTimer: TimerHandle | undefined;
  private closedEmitted = false;
  private deadError: RelayError | undefined;
  readonly listenerId = randomUUID();
  private readonly clock: Clock;

  constructor(private readonly options: ControlChannelOptions) {
    super();
    this.clock = options.clock ?? systemClock;
  }

  url(): string {
    const { cs } = this.options;
    return `${relayOrigin(cs)}/$hc/${encodeURI(cs.entityPath ?? '')}?sb-hc-action=listen&sb-hc-id=${this.listenerId}`;
  }

  /** Resolves when the relay accepted the listener; rejects with the relay's answer otherwise. */
  open(): Promise<void> {
    const { cs, tokens, transport } = this.options;
    const token = tokens.getToken(cs.entityPath, this.options.tokenTtlSeconds);
    const url = this.url();
    const ws = new WebSocket(url, {
      headers: { ServiceBusAuthorization: token },
      perMessageDeflate: false,
      maxPayload: CONTROL_MAX_PAYLOAD,
      handshakeTimeout: transport?.timeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
      ...tlsOptions(transport, isSecureUrl(url)),
    });
    this.ws = ws;
    return new Promise((resolve, reject) => {
      let opened = false;
      ws.on('unexpected-response', (_req, res: IncomingMessage) => {
        void readHandshakeFailure(res).then((err) => {
          ws.terminate();
          reject(err);
        });
      });
      ws.on('error', (err) => {
        if (!opened) reject(err instanceof RelayError ? err : handshakeError(url, err));
      });
      ws.on('open', () => {
        opened = true;
        this.startKeepAlive();
        this.scheduleRenewal(token);
        resolve();
      });
      ws.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
      ws.on('pong', () => this.onPong());
      ws.on('ping', () => this.onPong());
      ws.on('close', (code, reason) => {
        this.stopTimers();
        if (opened) this.emitClosed({ code, reason: reason.toString('utf8'), error: this.deadError });
      });
    });
  }

  /** Closes the channel: the relay stops sending connections to this listener. */
  close(): void {
    this.stopTimers();
    const ws = this.ws;
    if (!ws) return;
    if (ws.readyState === WebSocket.OPEN) {
      ws.close(1000, 'listener closing');
      setTimeout(() => ws.terminate(), 2000).unref();
    } else {
      ws.terminate();
    }
  }

  get isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  private emitClosed(info: ChannelClosed): void {
    if (this.closedEmitted) return;
    this.closedEmitted = true;
    this.emit('closed', info);
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      this.emit('unknown', `binary message of ${data.length} bytes`);
      return;
    }
    let message: unknown;
    try {
      message = JSON.parse(data.toString('utf8'));
    } catch {
      this.emit('unknown', `non-JSON message of ${data.length} bytes`);
      return;
    }
    if (typeof message !== 'object' || message === null) {
      this.emit('unknown', 'a JSON value that is not an object');
      return;
    }
    const m = message as Record<string, unknown>;
    if ('accept' in m) {
      const accept = this.validateAccept(m.accept);
      if (typeof accept === 'string') this.emit('unknown', `malformed accept: ${accept}`);
      else this.emit('accept', accept);
      return;
    }
    if ('request' in m) {
      this.answerHttpRequest(m.request);
      return;
    }
    this.emit('unknown', `command "${Object.keys(m).join(',').slice(0, 60)}"`);
  }

  /**
   * Checks an accept before acting on it: a well-formed address on the relay's own domain, so a
   * corrupted or hostile message cannot make the agent connect somewhere else.
   */
  private validateAccept(raw: unknown): AcceptCommand | string {
    if (typeof raw !== 'object' || raw === null) return 'not an object';
    const a = raw as Record<string, unknown>;
    if (typeof a.address !== 'string' || a.address.length > MAX_ADDRESS_LENGTH) return 'address missing or too long';
    let parts: ReturnType<typeof splitAddress>;
    try {
      parts = splitAddress(a.address);
    } catch {
      return 'address is not a ws:// or wss:// URL';
    }
    const secure = !this.options.cs.useDevelopmentEmulator;
    if (parts.secure !== secure) return `address scheme ${parts.secure ? 'wss' : 'ws'} is not ${secure ? 'wss' : 'ws'}`;
    if (!isRelayHost(parts.host, this.options.cs.host)) return `address host ${parts.host} is not part of the relay`;
    const headers: Record<string, string> = {};
    if (typeof a.connectHeaders === 'object' && a.connectHeaders !== null) {
      for (const [k, v] of Object.entries(a.connectHeaders as Record<string, unknown>)) {
        if (typeof v === 'string') headers[k] = v;
      }
    }
    const re = a.remoteEndpoint as { address?: unknown; port?: unknown } | undefined;
    return {
      address: a.address,
      id: typeof a.id === 'string' ? a.id : '',
      connectHeaders: headers,
      remoteEndpoint:
        re && typeof re.address === 'string' && typeof re.port === 'number' ? { address: re.address, port: re.port } : undefined,
    };
  }

  /** HTTP-mode requests are not part of what App Service does; answer 501 so the caller is not left hanging. */
  private answerHttpRequest(raw: unknown): void {
    const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const id = typeof r.id === 'string' ? r.id : '';
    this.ws?.send(
      JSON.stringify({
        response: {
          requestId: id,
          statusCode: 501,
          statusDescription: 'Not Implemented: this listener only bridges TCP',
          responseHeaders: {},
          body: false,
        },
      }),
    );
    this.emit('request', id);
  }

  private startKeepAlive(): void {
    const interval = this.options.keepAliveIntervalMs ?? DEFAULT_KEEPALIVE_INTERVAL_MS;
    const timeout = this.options.keepAliveTimeoutMs ?? DEFAULT_KEEPALIVE_TIMEOUT_MS;
    this.keepAliveTimer = this.clock.setInterval(() => {
      const ws = this.ws;
      if (!ws || ws.readyState !== WebSocket.OPEN) return;
      ws.ping();
      this.pongDeadline ??= this.clock.setTimeout(() => {
        this.deadError = new RelayError(
          'E_NETWORK',
          `the relay did not answer a keep-alive ping within ${Math.round(timeout / 1000)} s; reconnecting`,
        );
        ws.terminate();
      }, timeout);
    }, interval);
  }

  private onPong(): void {
    this.clock.clearTimeout(this.pongDeadline);
    this.pongDeadline = undefined;
  }

  /** Renews at three quarters of the token's life, so a slow relay still has time to take it. */
  private scheduleRenewal(currentToken: string): void {
    this.clock.clearTimeout(this.renewTimer);
    if (!this.options.tokens.canRenew) return;
    const left = tokenSecondsLeft(currentToken);
    if (left === undefined) return;
    const total = this.options.tokenTtlSeconds ?? left;
    const inMs = Math.max(1000, (left - total / 4) * 1000);
    this.renewTimer = this.clock.setTimeout(() => this.renew(), Math.min(inMs, 2 ** 31 - 1));
  }

  private renew(): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    const token = this.options.tokens.getToken(this.options.cs.entityPath, this.options.tokenTtlSeconds);
    ws.send(JSON.stringify({ renewToken: { token } }), (err) => {
      if (err) return;
      const left = tokenSecondsLeft(token) ?? 0;
      this.emit('renewed', left);
      this.scheduleRenewal(token);
    });
  }

  private stopTimers(): void {
    this.clock.clearInterval(this.keepAliveTimer);
    this.clock.clearTimeout(this.pongDeadline);
    this.clock.clearTimeout(this.renewTimer);
    this.keepAliveTimer = undefined;
    this.pongDeadline = undefined;
    this.renewTimer = undefined;
  }
}

function handshakeError(url: string, err: Error): RelayError {
  if (/timed? ?out/i.test(err.message) && !(err as NodeJS.ErrnoException).code) {
    return new RelayError('E_TIMEOUT', `relay handshake timed out (${new URL(url).host})`);
  }
  return networkError(url, err);
}

/**
 * Azure sends accept addresses on gateway hosts of the same DNS suffix as the namespace
 * (g12-prod-….servicebus.windows.net for contoso.servicebus.windows.net); the emulator uses its own host.
 */
export function isRelayHost(host: string, namespaceHost: string): boolean {
  const h = host.toLowerCase();
  const ns = namespaceHost.toLowerCase();
  if (h === ns) return true;
  const labels = ns.split('.');
  if (labels.length < 3) return false;
  return h.endsWith(`.${labels.slice(1).join('.')}`);
}
