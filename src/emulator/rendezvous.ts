import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import { serverCloseFrame } from '../relay/frames.js';
import { adoptPooled } from '../relay/pooled-reads.js';
import { tokenFrom } from './auth.js';
import { type EmulatorConfig, type EmulatorHybridConnection, findHybridConnection } from './config.js';
import type { EmulatorContext } from './context.js';
import { relayFrames } from './frame-relay.js';
import { offeredProtocols, trackingId, upgradeProblem, writeHttpError, writeSwitchingProtocols } from './handshake.js';
import type { ListenerConnection, Listeners } from './listeners.js';

/**
 * Rendezvous of senders with listeners (docs/protocol.md §4.3, §4.4, §5): a sender's upgrade is
 * held while one listener, picked at random, is sent an `accept` with a single-use address; when
 * the listener opens that address both upgrades are answered and frame-relay.ts relays between
 * them. The listener may reject instead, or not answer in time.
 */

interface PendingRendezvous {
  id: string;
  hcKey: string;
  listener: ListenerConnection;
  req: IncomingMessage;
  socket: Socket;
  head: Buffer;
  timer: NodeJS.Timeout;
}

/** The n-th gateway host (from 1) of a namespace served as <namespace>.localhost: g<n>-<namespace>.localhost. */
export function gatewayHostName(namespace: string, n: number): string {
  return `g${n}-${namespace.toLowerCase()}.localhost`;
}

export class Rendezvous {
  private readonly pending = new Map<string, PendingRendezvous>();
  /** The gateway the last accept address named (1…gateways). */
  private lastGateway = 0;
  /** Sender and listener sockets of every relayed connection. */
  private readonly relays = new Set<[Socket, Socket]>();

  constructor(
    private readonly context: EmulatorContext,
    private readonly listeners: Listeners,
  ) {}

  get activeRelays(): number {
    return this.relays.size;
  }

  pendingFor(hcKey: string): number {
    return [...this.pending.values()].filter((r) => r.hcKey === hcKey).length;
  }

  /** sb-hc-action=connect: a sender; its upgrade waits for a listener to accept it. */
  onConnect(req: IncomingMessage, socket: Socket, head: Buffer, url: URL, hc: EmulatorHybridConnection | undefined): void {
    const { auth, settings } = this.context;
    const problem = upgradeProblem(req);
    if (problem) return writeHttpError(socket, 400, `${problem}. ${trackingId()}`);
    if (!hc) return writeHttpError(socket, 404, `Endpoint does not exist. ${trackingId()}`);
    if (hc.requiresClientAuthorization) {
      const denied = auth.authorize(req, tokenFrom(req, url), hc, 'Send');
      if (denied) return writeHttpError(socket, denied[0], denied[1]);
    }
    const key = hc.name.toLowerCase();
    const candidates = this.listeners.of(key).filter((l) => l.ws.readyState === WebSocket.OPEN);
    if (candidates.length === 0) {
      return writeHttpError(socket, 404, `There are no listeners connected for the endpoint. ${trackingId()}`);
    }
    const listener = candidates[Math.floor(Math.random() * candidates.length)]!;
    const id = randomUUID();
    const scheme = settings.plain ? 'ws' : 'wss';
    const address = `${scheme}://${this.acceptAuthority(listener)}/$hc/${encodeURI(hc.name)}?sb-hc-action=accept&sb-hc-id=${id}`;
    const rendezvous: PendingRendezvous = {
      id,
      hcKey: key,
      listener,
      req,
      socket,
      head,
      timer: setTimeout(
        () => this.fail(rendezvous, 504, 'The listener did not accept the connection in time'),
        settings.rendezvousTimeoutMs,
      ),
    };
    this.pending.set(id, rendezvous);
    socket.on('close', () => {
      if (this.pending.get(id) === rendezvous) {
        clearTimeout(rendezvous.timer);
        this.pending.delete(id);
      }
    });
    listener.ws.send(
      JSON.stringify({
        accept: {
          address,
          id,
          connectHeaders: forwardedHeaders(req),
          remoteEndpoint: { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 },
        },
      }),
    );
  }

  /**
   * Where a listener is sent to accept: the host it came by, or with `gateways` set, the gateway
   * hosts in turn (g1-<namespace>.localhost, g2-…), as Azure hands out rendezvous addresses on
   * gateway hosts of the namespace's domain (g17-prod-….servicebus.windows.net). Only for a
   * listener that came by its namespace's <namespace>.localhost name: a gateway is under its domain.
   */
  private acceptAuthority(listener: ListenerConnection): string {
    const count = this.context.settings.gateways;
    const came = /^([a-z0-9-]+)\.localhost(:\d+)?$/i.exec(listener.authority);
    if (!count || !came) return listener.authority;
    this.lastGateway = (this.lastGateway % count) + 1;
    return `${gatewayHostName(came[1]!, this.lastGateway)}${came[2] ?? ''}`;
  }

  /** sb-hc-action=accept: the listener opens the accept address, or rejects with sb-hc-statusCode. */
  onAccept(req: IncomingMessage, socket: Socket, head: Buffer, url: URL): void {
    const id = url.searchParams.get('sb-hc-id') ?? '';
    const r = this.pending.get(id);
    if (!r || r.socket.destroyed) {
      return writeHttpError(socket, 404, `The rendezvous does not exist, was used or expired. ${trackingId()}`);
    }
    const statusText = url.searchParams.get('sb-hc-statusCode');
    if (statusText !== null) {
      // Reject: the listener hears 410, the sender gets the listener's status and text.
      const status = Number(statusText);
      if (!/^\d{3}$/.test(statusText) || status < 400 || status > 599) {
        return writeHttpError(socket, 400, `sb-hc-statusCode must be an HTTP status 400-599. ${trackingId()}`);
      }
      const description = url.searchParams.get('sb-hc-statusDescription') ?? '';
      clearTimeout(r.timer);
      this.pending.delete(id);
      writeHttpError(r.socket, status, description || `Rejected by the listener. ${trackingId()}`);
      writeHttpError(socket, 410, `Connection rejected. ${trackingId()}`);
      return;
    }
    const problem = upgradeProblem(req);
    if (problem) return writeHttpError(socket, 400, `${problem}. ${trackingId()}`);
    clearTimeout(r.timer);
    this.pending.delete(id);
    const listenerProtocol = offeredProtocols(req)[0];
    const senderOffered = offeredProtocols(r.req);
    writeSwitchingProtocols(socket, req, listenerProtocol);
    writeSwitchingProtocols(r.socket, r.req, listenerProtocol && senderOffered.includes(listenerProtocol) ? listenerProtocol : undefined);
    // Plain sockets move to pooled reads (the relay is in the path of every benchmark byte).
    const senderSide = adoptPooled(r.socket);
    const listenerSide = adoptPooled(socket);
    const pair: [Socket, Socket] = [senderSide, listenerSide];
    this.relays.add(pair);
    relayFrames(senderSide, listenerSide, r.head, head, () => {
      this.relays.delete(pair);
    });
  }

  /**
   * Connections a listener was asked to accept: once its channel dropped they fail at once (502).
   * A listener that closed its channel itself (Close 1000) may still accept what it was sent before
   * the relay saw the Close, as with Azure, whose rendezvous addresses stay valid for the sender's
   * wait whatever happens to the control channel; what it does not accept times out (504).
   */
  listenerOffline(conn: ListenerConnection, cleanClose = false): void {
    if (cleanClose) return;
    for (const r of [...this.pending.values()]) {
      if (r.listener === conn) this.fail(r, 502, 'The listener disconnected before accepting the connection');
    }
  }

  /** Senders waiting for a Hybrid Connection that `config` no longer has get 404. */
  dropDeleted(config: EmulatorConfig): void {
    for (const r of [...this.pending.values()]) {
      if (!findHybridConnection(config, r.hcKey)) this.fail(r, 404, 'Endpoint does not exist');
    }
  }

  /** Waiting senders get 503; relayed connections get a Close 1001 on both sides. */
  shutDown(): void {
    for (const r of [...this.pending.values()]) this.fail(r, 503, 'The service is shutting down');
    for (const pair of this.relays) {
      for (const s of pair) if (!s.destroyed) s.end(serverCloseFrame(1001, 'The service is shutting down'));
    }
  }

  private fail(r: PendingRendezvous, status: number, description: string): void {
    if (this.pending.get(r.id) !== r) return;
    clearTimeout(r.timer);
    this.pending.delete(r.id);
    writeHttpError(r.socket, status, `${description}. ${trackingId()}`);
  }
}

/** The sender's headers go to the listener (docs/protocol.md §5), minus the service's own token. */
function forwardedHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    if (name.toLowerCase() === 'servicebusauthorization') continue;
    out[name] = out[name] !== undefined ? `${out[name]}, ${req.rawHeaders[i + 1]}` : req.rawHeaders[i + 1]!;
  }
  return out;
}
