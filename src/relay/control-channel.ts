import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { type Clock, type TimerHandle, systemClock } from './clock.js';
import { type ConnectionString, relayOrigin } from './connection-string.js';
import { RelayError, quoteRelayText } from './errors.js';
import { networkError } from './runtime-info.js';
import { readHandshakeFailure } from './sender.js';
import { tokenSecondsLeft } from './sas.js';
import type { TokenProvider } from './token-provider.js';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, type TransportOptions, tlsOptions } from './transport.js';
import { acceptAddressProblem } from './accept-address.js';
import { noteRelayDate } from './clock-skew.js';
import { WarningLimiter } from './warning-limiter.js';

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
      ...tlsOptions(transport, url),
    });
    this.ws = ws;
    return new Promise((resolve, reject) => {
      let opened = false;
      // The relay's clock, from every answer to the handshake (a refused token may be this machine's clock).
      ws.on('upgrade', (res: IncomingMessage) => noteRelayDate(cs.host, res.headers.date));
      ws.on('unexpected-response', (_req, res: IncomingMessage) => {
        noteRelayDate(cs.host, res.headers.date);
        void readHandshakeFailure(res).then((err) => {
          ws.terminate();
          reject(err);
        });
      });
      ws.on('error', (err) => {
        if (!opened) reject(err instanceof RelayError ? err : handshakeError(url, err));
        // ws closes the channel itself on a protocol violation; say what it was, not just "1006".
        else this.deadError ??= protocolViolation(err);
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
        this.warnings.flush();
        // The reason is the relay's text (at most 123 bytes): quoted on one line.
        if (opened) this.emitClosed({ code, reason: quoteRelayText(reason.toString('utf8')), error: this.deadError });
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

  /** Warnings about what the relay sent: the first few a minute, then one summary (a flood costs a few log lines). */
  private readonly warnings = new WarningLimiter((n) => this.emit('unknown', `… ${n} more suppressed in the last minute`));

  private warn(what: string): void {
    if (this.warnings.allow()) this.emit('unknown', what);
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      this.warn(`binary message of ${data.length} bytes`);
      return;
    }
    let message: unknown;
    try {
      message = JSON.parse(data.toString('utf8'));
    } catch {
      this.warn(`non-JSON message of ${data.length} bytes`);
      return;
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      this.warn('a JSON value that is not an object');
      return;
    }
    const m = message as Record<string, unknown>;
    if (Object.hasOwn(m, 'accept')) {
      const accept = this.validateAccept(m.accept);
      if (typeof accept === 'string') this.warn(`malformed accept: ${accept}`);
      else this.emit('accept', accept);
      return;
    }
    if (Object.hasOwn(m, 'request')) {
      this.answerHttpRequest(m.request);
      return;
    }
    this.warn(describeCommand(Object.keys(m)));
  }

  /**
   * Checks an accept before acting on it: the whole address must pass the rule of
   * accept-address.ts, so a corrupted or hostile message cannot make the agent connect anywhere
   * else or smuggle anything into the upgrade request. The address itself is kept as given.
   */
  private validateAccept(raw: unknown): AcceptCommand | string {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'not an object';
    const a = raw as Record<string, unknown>;
    if (typeof a.address !== 'string') return 'address missing or not a string';
    const problem = acceptAddressProblem(a.address, this.options.cs);
    if (problem) return problem;
    const headers: Record<string, string> = {};
    if (typeof a.connectHeaders === 'object' && a.connectHeaders !== null) {
      for (const [k, v] of Object.entries(a.connectHeaders as Record<string, unknown>)) {
        // Only the sub-protocol is used; a header that could not be written back is dropped.
        if (typeof v === 'string' && isPrintable(k, 256) && isPrintable(v, 4096, true)) headers[k] = v;
      }
    }
    const re = a.remoteEndpoint as { address?: unknown; port?: unknown } | undefined;
    return {
      address: a.address,
      // Both end up in log lines: printable and short, or left out.
      id: isPrintable(a.id, 128) ? a.id : '',
      connectHeaders: headers,
      remoteEndpoint:
        re && isPrintable(re.address, 64) && Number.isInteger(re.port) && (re.port as number) >= 0 && (re.port as number) <= 65535
          ? { address: re.address, port: re.port as number }
          : undefined,
    };
  }

  /** HTTP-mode requests are not part of what App Service does; answer 501 so the caller is not left hanging. */
  private answerHttpRequest(raw: unknown): void {
    const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const id = isPrintable(r.id, 128) ? r.id : '';
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
    if (this.warnings.allow()) this.emit('request', id);
  }

  private startKeepAlive(): void {
    const interval = this.options.keepAliveIntervalMs ?? DEFAULT_KEEPALIVE_INTERVAL_MS;
    const timeout = this.options.keepAliveTimeoutMs ?? DEFAULT_KEEPALIVE_TIMEOUT_MS;
    const ping = () => {
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
    };
    // Every channel pings on the same whole-second marks, so the event loop wakes once for all
    // the pings due (1,000 Hybrid Connections made 40 wake-ups a second); Node re-arms the timers
    // fired together from the same moment, so they stay together.
    const grid = Math.min(1000, interval);
    const first = interval + ((grid - ((this.clock.now() + interval) % grid)) % grid);
    this.keepAliveTimer = this.clock.setTimeout(() => {
      ping();
      this.keepAliveTimer = this.clock.setInterval(ping, interval);
    }, first);
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
    // The first ping's timeout or the interval after it.
    this.clock.clearTimeout(this.keepAliveTimer);
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

/** What ws reports when the relay breaks the WebSocket protocol (it then closes the channel itself). */
function protocolViolation(err: Error): RelayError | undefined {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
    return new RelayError(
      'E_PROTOCOL',
      `the relay sent a control message larger than ${CONTROL_MAX_PAYLOAD} bytes; the channel was closed (1009) and is reopened`,
    );
  }
  if (code.startsWith('WS_ERR_')) {
    return new RelayError('E_PROTOCOL', `the relay sent an invalid control frame (${err.message}); the channel was closed and is reopened`);
  }
  return undefined;
}

/** Names of unknown commands are quoted only when they look like names (they end up in logs). */
function describeCommand(keys: string[]): string {
  if (keys.length === 0) return 'an empty JSON object';
  const names = keys.slice(0, 5).map((k) => (/^[A-Za-z][A-Za-z0-9_-]{0,39}$/.test(k) ? k : `(${k.length} characters, not shown)`));
  return `command "${names.join(',')}"${keys.length > 5 ? ` and ${keys.length - 5} more` : ''}`;
}

/** A string of printable ASCII (spaces allowed only when `spaces`), at most `max` long. */
function isPrintable(value: unknown, max: number, spaces = false): value is string {
  return typeof value === 'string' && value.length <= max && (spaces ? /^[\x20-\x7e]*$/ : /^[\x21-\x7e]+$/).test(value);
}
