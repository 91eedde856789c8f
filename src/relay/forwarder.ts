import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { ConnectionString } from './connection-string.js';
import { RelayHandshakeError } from './errors.js';
import { pipeTunnel } from './data-pipe.js';
import { adoptPooled } from './pooled-reads.js';
import { openDataSocket } from './data-socket.js';
import { tokenSecondsLeft } from './sas.js';
import { senderUrl } from './sender.js';
import { type TokenProvider, tokenProviderFor } from './token-provider.js';
import type { TransportOptions } from './transport.js';

/**
 * The sender side as a local TCP port (`hcm connect`): every TCP connection accepted here opens
 * a sender WebSocket through the relay, which is exactly what App Service does for each
 * connection an app makes to a Hybrid Connection endpoint.
 */

export interface ForwarderOptions {
  host?: string;
  port: number;
  transport?: TransportOptions;
}

export interface ForwarderEvents {
  log: ['debug' | 'info' | 'warn' | 'error', string];
}

export class LocalForwarder extends EventEmitter<ForwarderEvents> {
  private server: net.Server | undefined;
  private readonly tokens: TokenProvider;
  private readonly sockets = new Set<net.Socket>();
  private readonly relaySockets = new Set<net.Socket>();
  active = 0;
  total = 0;
  failed = 0;

  constructor(
    private readonly cs: ConnectionString,
    private readonly options: ForwarderOptions,
  ) {
    super();
    this.tokens = tokenProviderFor(cs);
  }

  listen(): Promise<net.AddressInfo> {
    const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true }, (socket) => this.onConnection(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve(server.address() as net.AddressInfo);
      });
    });
  }

  /** Stops at once: local sockets and their relay WebSockets are cut, not drained. */
  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    for (const relay of this.relaySockets) relay.destroy();
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /**
   * One token for many connections, renewed at half its life: signing per connection costs CPU on
   * both ends at high connection rates, and a token is valid for every sender connection anyway.
   */
  private cachedToken = { value: '', renewAt: 0 };
  private senderToken(): string {
    const now = Date.now();
    if (now >= this.cachedToken.renewAt) {
      const value = this.tokens.getToken(this.cs.entityPath);
      const left = tokenSecondsLeft(value) ?? 0;
      this.cachedToken = { value, renewAt: now + Math.max(0, left * 500) };
    }
    return this.cachedToken.value;
  }

  private onConnection(accepted: net.Socket): void {
    const socket = adoptPooled(accepted);
    // Paused until the relay pairs us with a listener: what the client sends waits in the kernel.
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.setNoDelay(true);
    const token = this.senderToken();
    openDataSocket(senderUrl(this.cs), { headers: { ServiceBusAuthorization: token }, transport: this.options.transport }).then(
      ({ socket: relay, head }) => {
        if (socket.destroyed) {
          relay.destroy();
          return;
        }
        this.active++;
        this.total++;
        this.relaySockets.add(relay);
        relay.once('close', () => this.relaySockets.delete(relay));
        pipeTunnel(relay, head, socket, {
          onBytes: () => undefined,
          onClosed: (stats, reason) => {
            this.active--;
            this.emit('log', 'debug', `connection closed (${reason}; ${stats.bytesFromSocket} B sent, ${stats.bytesToSocket} B received)`);
          },
        });
        socket.resume();
      },
      (err: Error) => {
        this.failed++;
        const text =
          err instanceof RelayHandshakeError ? `the relay refused the connection: ${err.status} ${err.description}` : err.message;
        this.emit('log', 'warn', text);
        socket.destroy();
      },
    );
  }
}
