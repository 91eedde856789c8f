import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { tokenExpiry, tokenFrom } from './auth.js';
import { type EmulatorHybridConnection, findHybridConnection } from './config.js';
import type { EmulatorContext } from './context.js';
import { httpDate, trackingId, upgradeProblem, writeHttpError } from './handshake.js';

/**
 * Listeners and their control channels (docs/protocol.md §4): the listen upgrade, the listener
 * limit per Hybrid Connection, token expiry and renewal, the load balancer's idle timeout, and
 * closing channels the way the service does. Listeners are kept by the lower-case name of their
 * Hybrid Connection.
 */

export interface ListenerConnection {
  id: string;
  hcKey: string;
  ws: WebSocket;
  socket: Socket;
  /** host[:port] the listener used, so the accept address is reachable from it. */
  authority: string;
  expiresAt: number;
  expiryTimer?: NodeJS.Timeout;
  idleTimer?: NodeJS.Timeout;
  frozen: boolean;
}

const CONTROL_MAX_PAYLOAD = 1024 * 1024;

export class Listeners {
  private readonly byHc = new Map<string, Set<ListenerConnection>>();
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: CONTROL_MAX_PAYLOAD });

  /** `onOffline` runs when a listener's control channel is gone. */
  constructor(
    private readonly context: EmulatorContext,
    private readonly onOffline: (conn: ListenerConnection, cleanClose: boolean) => void,
  ) {
    // The 101 of a listen upgrade is dated by the emulator's clock, as all its answers are.
    this.wss.on('headers', (headers) => headers.push(`Date: ${httpDate(this.context.now())}`));
  }

  /** Hybrid Connections that have listeners. */
  hcKeys(): string[] {
    return [...this.byHc.keys()];
  }

  count(hcKey: string): number {
    return this.byHc.get(hcKey)?.size ?? 0;
  }

  /** A copy of the listeners of a Hybrid Connection, safe to iterate while closing them. */
  of(hcKey: string): ListenerConnection[] {
    return [...(this.byHc.get(hcKey) ?? [])];
  }

  /** sb-hc-action=listen: a listener opens its control channel. */
  onListen(req: IncomingMessage, socket: Socket, head: Buffer, url: URL, hc: EmulatorHybridConnection | undefined): void {
    const { auth, settings, log } = this.context;
    const problem = upgradeProblem(req);
    if (problem) return writeHttpError(socket, 400, `${problem}. ${trackingId()}`);
    if (!hc) return writeHttpError(socket, 404, `Endpoint does not exist. ${trackingId()}`);
    const token = tokenFrom(req, url);
    const denied = auth.authorize(req, token, hc, 'Listen');
    if (denied) return writeHttpError(socket, denied[0], denied[1]);
    const key = hc.name.toLowerCase();
    const set = this.byHc.get(key) ?? new Set();
    if (set.size >= settings.maxListeners) {
      return writeHttpError(
        socket,
        403,
        `QuotaExceeded: at most ${settings.maxListeners} listeners per Hybrid Connection. ${trackingId()}`,
      );
    }
    const expiresAt = tokenExpiry(token!);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const conn: ListenerConnection = {
        id: url.searchParams.get('sb-hc-id') ?? randomUUID(),
        hcKey: key,
        ws,
        socket,
        authority: req.headers.host ?? `localhost:${this.context.port()}`,
        expiresAt,
        frozen: false,
      };
      set.add(conn);
      this.byHc.set(key, set);
      this.scheduleExpiry(conn);
      this.touch(conn);
      log('info', `listener ${conn.id} online for ${hc.name} (${set.size} now)`);
      ws.on('message', (data, isBinary) => this.onControlMessage(conn, hc, req, data as Buffer, isBinary));
      ws.on('ping', () => this.touch(conn));
      ws.on('pong', () => this.touch(conn));
      ws.on('error', () => undefined);
      ws.on('close', (code) => this.remove(conn, code === 1000));
    });
  }

  /** Closes every listener of a Hybrid Connection: with a Close frame when `code` may be sent, else a TCP reset. */
  close(hcKey: string, code: number, reason: string): void {
    for (const l of this.of(hcKey)) {
      if (
        code === 1000 ||
        (code >= 1001 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
        (code >= 3000 && code <= 4999)
      ) {
        l.ws.close(code, reason);
      } else {
        l.socket.destroy();
      }
    }
  }

  /**
   * The relay stops answering anything (pings included) but its TCP stack still sees the
   * listener hang up, so a replaced channel leaves the routing table.
   */
  freeze(conn: ListenerConnection): void {
    conn.frozen = true;
    clearTimeout(conn.idleTimer);
    conn.socket.removeAllListeners('data');
    conn.socket.on('data', () => undefined);
  }

  private remove(conn: ListenerConnection, cleanClose = false): void {
    clearTimeout(conn.expiryTimer);
    clearTimeout(conn.idleTimer);
    const set = this.byHc.get(conn.hcKey);
    if (!set?.delete(conn)) return;
    if (set.size === 0) this.byHc.delete(conn.hcKey);
    this.context.log('info', `listener ${conn.id} offline (${set.size} left)`);
    this.onOffline(conn, cleanClose);
  }

  private scheduleExpiry(conn: ListenerConnection): void {
    clearTimeout(conn.expiryTimer);
    const ms = (conn.expiresAt + this.context.settings.tokenGraceSeconds) * 1000 - this.context.now();
    conn.expiryTimer = setTimeout(
      () => {
        this.context.log('info', `listener ${conn.id}: token expired`);
        conn.ws.close(1008, 'The token has expired');
      },
      Math.max(0, Math.min(ms, 2 ** 31 - 1)),
    );
  }

  /** Any frame from the listener resets the load balancer's idle clock. */
  private touch(conn: ListenerConnection): void {
    const idleTimeoutMs = this.context.settings.idleTimeoutMs;
    if (!idleTimeoutMs || conn.frozen) return;
    clearTimeout(conn.idleTimer);
    conn.idleTimer = setTimeout(() => {
      this.context.log('info', `listener ${conn.id}: idle for ${idleTimeoutMs} ms, dropped`);
      conn.socket.destroy();
    }, idleTimeoutMs);
  }

  /** The only command a listener sends is renewToken (docs/protocol.md §4.6). */
  private onControlMessage(
    conn: ListenerConnection,
    hc: EmulatorHybridConnection,
    req: IncomingMessage,
    data: Buffer,
    isBinary: boolean,
  ): void {
    const { auth, log } = this.context;
    this.touch(conn);
    let command: unknown;
    try {
      command = isBinary ? undefined : JSON.parse(data.toString('utf8'));
    } catch {
      command = undefined;
    }
    const renew = (command as { renewToken?: { token?: unknown } } | undefined)?.renewToken;
    if (renew) {
      const token = typeof renew.token === 'string' ? renew.token : undefined;
      const current = findHybridConnection(this.context.config, conn.hcKey) ?? hc;
      const denied = auth.authorize(req, token, current, 'Listen');
      if (denied) {
        log('warn', `listener ${conn.id}: renewToken refused (${denied[1]})`);
        conn.ws.close(1008, 'The renewed token is not valid');
        return;
      }
      conn.expiresAt = tokenExpiry(token!);
      this.scheduleExpiry(conn);
      log('info', `listener ${conn.id}: token renewed until ${new Date(conn.expiresAt * 1000).toISOString()}`);
      return;
    }
    log('warn', `listener ${conn.id}: ignored an unknown control message`);
  }
}
