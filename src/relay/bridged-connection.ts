import type net from 'node:net';
import type { AcceptCallbacks } from './accept-handler.js';
import type { PipeHandle, PipeStats } from './data-pipe.js';

/** What a bridged connection reports to the listener that accepted it. */
export interface BridgeOwner {
  bridgeOpened(connection: BridgedConnection): void;
  bridgeBytes(toEndpoint: number, fromEndpoint: number): void;
  bridgeFailed(connection: BridgedConnection, reason: string): void;
  bridgeClosed(connection: BridgedConnection, stats: PipeStats, reason: string): void;
}

/**
 * One connection the relay announced, from its accept to its end: handleAccept's callbacks and,
 * once the tunnel is open, the listener's record of it (counters plain numbers bumped per chunk).
 * One object per connection and no closures: an agent may hold thousands of idle tunnels
 * (docs/performance.md, memory per idle tunnel).
 */
export class BridgedConnection implements AcceptCallbacks {
  /** This agent's id for the tunnel (`<connection id>#<n>`), given when it opens. */
  id = '';
  openedAt = 0;
  /** The address the TCP connection actually went to (after DNS), `address:port`. */
  endpointAddress: string | null = null;
  private tunnel: PipeHandle | undefined;
  /** Both ends were gone before the pipe started: counted as closed, never as open. */
  private closedBeforeOpen = false;

  constructor(
    private readonly owner: BridgeOwner,
    /** The relay's id for the connection (the accept's id). */
    readonly relayId: string,
    /** The sender's address as the relay saw it, `address:port`. */
    readonly sender: string | null,
    /** The endpoint as configured when the connection was accepted, `host:port`. */
    readonly endpoint: string,
    readonly acceptedAt: number,
  ) {}

  get isOpen(): boolean {
    return this.tunnel !== undefined;
  }

  /** Bytes moved so far: the pipe's own counts (its socket is the endpoint). */
  get stats(): PipeStats {
    return this.tunnel?.stats ?? { bytesToSocket: 0, bytesFromSocket: 0 };
  }

  /** Cuts the tunnel at once (shutdown, or the inspector's Close). */
  abort(): void {
    this.tunnel?.abort();
  }

  onOpen(tunnel: PipeHandle, tcp: net.Socket): void {
    if (this.closedBeforeOpen) return;
    this.tunnel = tunnel;
    const address = tcp.remoteAddress;
    this.endpointAddress = address ? `${address.includes(':') ? `[${address}]` : address}:${tcp.remotePort}` : null;
    this.owner.bridgeOpened(this);
  }

  onBytes(toEndpoint: number, fromEndpoint: number): void {
    this.owner.bridgeBytes(toEndpoint, fromEndpoint);
  }

  onFailed(reason: string): void {
    this.owner.bridgeFailed(this, reason);
  }

  onClosed(stats: PipeStats, reason: string): void {
    if (!this.tunnel) this.closedBeforeOpen = true;
    this.owner.bridgeClosed(this, stats, reason);
  }
}
