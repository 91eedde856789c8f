import { randomFillSync } from 'node:crypto';
import type { Socket } from 'node:net';
import {
  type FrameHeader,
  FrameParser,
  type FrameParserEvents,
  MAX_CONTROL_PAYLOAD,
  OP_BINARY,
  OP_CLOSE,
  OP_CONTINUATION,
  OP_PING,
  OP_PONG,
  OP_TEXT,
  closePayload,
  encodeHeader,
  headerLength,
  parseClosePayload,
  unmaskAt,
  writeHeader,
} from './frames.js';
import { releaseChunk, withHeadroom } from './pooled-reads.js';
import { SliceWriter } from './slice-writer.js';

/**
 * Moves bytes between a TCP socket and a tunnel WebSocket (already past its handshake), framing
 * and parsing on the raw socket. Used by the agent (endpoint side) and `hcm connect` (app side).
 * Each TCP read becomes one binary message; every data frame's payload is written to TCP as it
 * arrives, so nothing is assembled or copied in between.
 *
 * Backpressure: a slow TCP peer pauses reading from the relay; a slow relay pauses reading from
 * TCP. Each side queues about HIGH_WATER_BYTES (plus one read) before it pauses.
 *
 * Ending: WebSocket has no half-close, so a TCP FIN cannot be passed on as such. When the TCP
 * peer shuts down its sending side, what it sent is flushed and a Close (1000) goes to the relay,
 * which ends the tunnel both ways. A FIN cannot be told apart from a full close, and keeping
 * tunnels open after one would leak them for every client that simply closed (Redis servers, for
 * one, never close idle connections). The cost: a client that half-closes and then waits for the
 * answer (`nc -N`) does not get it. When the relay side closes, the TCP peer gets a FIN after
 * every byte already received.
 *
 * Memory: a tunnel is one object (Tunnel) with its parser and writer; the sockets' listeners are
 * shared functions that find it on the socket, so an idle tunnel holds no closures
 * (docs/performance.md, memory per idle tunnel).
 */

export interface PipeStats {
  bytesToSocket: number;
  bytesFromSocket: number;
}

export interface PipeCallbacks {
  onBytes(toSocket: number, fromSocket: number): void;
  onClosed(stats: PipeStats, reason: string): void;
}

/**
 * Masking key for our frames. RFC 6455 masking protects cleartext intermediaries from
 * attacker-chosen bytes; tunnel sockets only run over TLS (wss) or on loopback (the emulator),
 * where no intermediary reads frames, so an all-zero key (the mask bit is still set) leaves the
 * payload untouched. HCM_RANDOM_MASK=1 restores random keys (masking each chunk in place).
 */
const RANDOM_MASK = process.env.HCM_RANDOM_MASK === '1';
const ZERO_MASK = Buffer.alloc(4);

/**
 * Queued bytes on a socket before reading from the other side pauses. Node's write() reports
 * "full" past 16 KiB, less than one read; pausing on that would stop and start after every chunk.
 */
export const HIGH_WATER_BYTES = 1024 * 1024;

/** Linger after our side is done before cutting a peer that does not close. */
const CLOSE_LINGER_MS = 5_000;

/**
 * Ends a socket unless it is already ending or gone. A second end() is harmless but builds an
 * error object with a stack trace, which showed in connection-setup profiles.
 */
export function endOnce(socket: Socket): void {
  if (!socket.writableEnded && !socket.destroyed) socket.end();
}

/** Ends the tunnel at once (both sockets destroyed); what `pipeTunnel` returns. */
export interface PipeHandle {
  abort(): void;
  /** Bytes moved so far, each way. */
  readonly stats: PipeStats;
}

/**
 * Pipes `relay` (a tunnel WebSocket past its handshake, paused; `head` is what arrived with the
 * handshake) and `tcp` both ways until both are closed.
 */
export function pipeTunnel(relay: Socket, head: Buffer, tcp: Socket, callbacks: PipeCallbacks): PipeHandle {
  const tunnel = new Tunnel(relay, tcp, callbacks);
  (relay as TunnelSocket)[kTunnel] = tunnel;
  (tcp as TunnelSocket)[kTunnel] = tunnel;
  relay.on('data', onRelayData);
  relay.on('drain', onRelayDrain);
  relay.on('end', onRelayEnd);
  relay.on('error', onRelayError);
  relay.on('close', onRelayClose);
  tcp.on('data', onTcpData);
  tcp.on('drain', onTcpDrain);
  tcp.on('end', onTcpEnd);
  tcp.on('error', onTcpError);
  tcp.on('close', onTcpClose);
  if (head.length) tunnel.parser.push(head);
  relay.resume(); // paused since the handshake, so no frame arrived before this reader
  // Either side may already be gone (e.g. the endpoint reset while the rendezvous opened).
  if (tcp.destroyed) tcp.emit('close', false);
  if (relay.destroyed) relay.emit('close', false);
  return tunnel;
}

const kTunnel = Symbol('tunnel');
type TunnelSocket = Socket & { [kTunnel]: Tunnel };

// The sockets' listeners: EventEmitter calls them with the socket as `this`.
function onRelayData(this: TunnelSocket, chunk: Buffer): void {
  this[kTunnel].fromRelay(chunk);
}
function onRelayDrain(this: TunnelSocket): void {
  this[kTunnel].resumeTcp();
}
function onRelayEnd(this: TunnelSocket): void {
  this[kTunnel].relayEnded();
}
function onRelayError(this: TunnelSocket, err: Error): void {
  this[kTunnel].reason ||= `relay connection error: ${err.message}`;
}
function onRelayClose(this: TunnelSocket): void {
  this[kTunnel].relayGone();
}
function onTcpData(this: TunnelSocket, chunk: Buffer): void {
  this[kTunnel].fromTcp(chunk);
}
function onTcpDrain(this: TunnelSocket): void {
  this[kTunnel].resumeRelay();
}
function onTcpEnd(this: TunnelSocket): void {
  this[kTunnel].tcpEnded();
}
function onTcpError(this: TunnelSocket, err: Error): void {
  this[kTunnel].reason ||= `TCP connection error: ${err.message}`;
}
function onTcpClose(this: TunnelSocket): void {
  this[kTunnel].tcpGone();
}

/** The relay's frames are server frames (unmasked); the agent's side unmasks nothing. */
const PARSER_OPTIONS = { expectMasked: false, unmask: true } as const;

/**
 * One tunnel, both directions:
 *  - relay -> TCP: parses the relay's frames and writes every data payload to TCP as it arrives
 *    (slices of the pooled read, one write per read); answers pings. Reading from the relay
 *    pauses while TCP holds more than HIGH_WATER_BYTES.
 *  - TCP -> relay: each TCP read leaves as one binary frame (header and payload in one write, the
 *    chunk back to its pool once written). Reading from TCP pauses while the relay socket holds
 *    more than HIGH_WATER_BYTES.
 * And what both share: the byte counts, the reason the tunnel ended (the first one found wins),
 * the close handshake, and the end of both sockets.
 */
class Tunnel implements FrameParserEvents, PipeHandle {
  readonly parser: FrameParser;
  private readonly toTcp: SliceWriter;
  /** A control frame's payload being collected (Ping, Close); at most MAX_CONTROL_PAYLOAD bytes. */
  private control: Buffer[] | undefined;
  private bytesToSocket = 0;
  private bytesFromSocket = 0;
  reason = '';
  private closeSent = false;
  private closeReceived = false;
  private relayPausedForTcp = false;
  private tcpPausedForRelay = false;
  private relayClosed = false;
  private tcpClosed = false;
  private finished = false;
  private lingerTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly relay: Socket,
    private readonly tcp: Socket,
    private readonly callbacks: PipeCallbacks,
  ) {
    this.toTcp = new SliceWriter(tcp, 'encrypted' in relay);
    this.parser = new FrameParser(PARSER_OPTIONS, this);
  }

  fromRelay(chunk: Buffer): void {
    this.toTcp.forward(chunk, this.parser);
  }

  // FrameParserEvents: the relay's frames.
  onHeader(h: FrameHeader): void {
    if (h.opcode >= OP_CLOSE) this.control = [];
  }

  onPayload(bytes: Buffer, h: FrameHeader): void {
    // Continuation frames (opcode 0) carry data too; control frames may sit between them.
    if (h.opcode === OP_BINARY || h.opcode === OP_TEXT || h.opcode === OP_CONTINUATION) {
      const tcp = this.tcp;
      if (tcp.destroyed || this.closeReceived) return; // nothing more can be delivered
      this.bytesToSocket += bytes.length;
      this.callbacks.onBytes(bytes.length, 0);
      this.toTcp.write(bytes);
      if (tcp.writableLength > HIGH_WATER_BYTES) this.pauseRelay();
    } else if (this.control && this.control.reduce((n, b) => n + b.length, 0) + bytes.length <= MAX_CONTROL_PAYLOAD) {
      this.control.push(Buffer.from(bytes));
    }
  }

  onFrameEnd(h: FrameHeader): void {
    if (h.opcode < OP_CLOSE) return;
    const payload = Buffer.concat(this.control ?? []);
    this.control = undefined;
    if (h.opcode === OP_PING) this.sendFrame(0x80 | OP_PONG, payload);
    else if (h.opcode === OP_CLOSE) this.closeReceivedFromRelay(payload);
  }

  onError(why: string): void {
    this.reason ||= `protocol error from the relay: ${why}`;
    this.sendClose(1002, why);
    this.endTcp();
  }

  fromTcp(chunk: Buffer): void {
    if (this.closeSent) return;
    this.bytesFromSocket += chunk.length;
    this.callbacks.onBytes(0, chunk.length);
    if (!this.sendFrame(0x80 | OP_BINARY, chunk, chunk) && !this.tcpPausedForRelay) {
      this.tcpPausedForRelay = true;
      this.tcp.pause();
    }
  }

  resumeTcp(): void {
    if (this.tcpPausedForRelay) {
      this.tcpPausedForRelay = false;
      this.tcp.resume();
    }
  }

  /** Writes one frame; false when the relay socket holds more than HIGH_WATER_BYTES. `pooled`: given back to its pool once written. */
  private sendFrame(b0: number, payload: Buffer, pooled?: Buffer): boolean {
    const relay = this.relay;
    if (relay.destroyed || !relay.writable) {
      if (pooled) releaseChunk(pooled);
      return true;
    }
    let key = ZERO_MASK;
    if (RANDOM_MASK) {
      key = randomFillSync(Buffer.allocUnsafe(4));
      unmaskAt(payload, key, 0); // XOR is its own inverse: this masks in place
    }
    const written = pooled ? () => releaseChunk(pooled) : undefined;
    // A pooled chunk has room in front: header and payload leave as one buffer, which a TLS
    // socket encrypts where it is (two buffers it first copies into a fresh one).
    const framed = withHeadroom(payload, headerLength(payload.length, true));
    if (framed) {
      writeHeader(framed, b0, payload.length, key);
      relay.write(framed, written);
    } else {
      relay.cork();
      relay.write(encodeHeader(b0, payload.length, key));
      relay.write(payload, written);
      relay.uncork();
    }
    return relay.writableLength <= HIGH_WATER_BYTES;
  }

  sendClose(code: number, why: string): void {
    if (this.closeSent) return;
    this.closeSent = true;
    this.sendFrame(0x80 | OP_CLOSE, closePayload(code, why));
    if (this.closeReceived) endOnce(this.relay);
    this.linger();
  }

  /** The relay's Close frame: answered with the same code unless ours went first; TCP is ended. */
  private closeReceivedFromRelay(payload: Buffer): void {
    this.closeReceived = true;
    const { code, reason: text } = parseClosePayload(payload);
    this.reason ||=
      code === 1000 || code === 1005
        ? 'the other side closed the connection'
        : `the relay closed the connection (${code}${text ? `: ${text}` : ''})`;
    if (this.closeSent) endOnce(this.relay);
    else this.sendClose(code === 1005 ? 1000 : code, '');
    this.endTcp();
  }

  private pauseRelay(): void {
    if (!this.relayPausedForTcp) {
      this.relayPausedForTcp = true;
      this.relay.pause();
    }
  }

  resumeRelay(): void {
    if (this.relayPausedForTcp) {
      this.relayPausedForTcp = false;
      this.relay.resume();
    }
  }

  /** Ends TCP after what it was sent; reading from the relay resumes so its Close is seen. */
  private endTcp(): void {
    this.resumeRelay();
    endOnce(this.tcp);
    this.linger();
  }

  /** The relay went away without finishing the close handshake (or after it). */
  relayEnded(): void {
    this.reason ||= this.closeReceived ? 'closed' : 'the connection to the relay dropped (1006)';
    this.endTcp();
    endOnce(this.relay);
  }

  relayGone(): void {
    this.relayClosed = true;
    if (!this.closeReceived) endOnce(this.tcp);
    this.linger();
    this.finish();
  }

  /** The TCP peer shut down its sending side: what it sent is flushed, then a Close (see above). */
  tcpEnded(): void {
    this.reason ||= 'the TCP peer closed the connection';
    this.sendClose(1000, '');
  }

  tcpGone(): void {
    this.tcpClosed = true;
    // Reading from the relay may be paused for backpressure; resume so its Close is seen.
    this.resumeRelay();
    this.sendClose(1000, '');
    this.finish();
  }

  get stats(): PipeStats {
    return { bytesToSocket: this.bytesToSocket, bytesFromSocket: this.bytesFromSocket };
  }

  abort(): void {
    this.reason ||= 'aborted';
    this.cut();
  }

  private linger(): void {
    this.lingerTimer ??= setTimeout(lingerOver, CLOSE_LINGER_MS, this);
    this.lingerTimer.unref();
  }

  /** @internal the linger after our side was done is over: both sockets are cut. */
  cut(): void {
    this.relay.destroy();
    this.tcp.destroy();
  }

  private finish(): void {
    if (this.finished || !this.relayClosed || !this.tcpClosed) return;
    this.finished = true;
    clearTimeout(this.lingerTimer);
    this.callbacks.onClosed(this.stats, this.reason || 'closed');
  }
}

function lingerOver(tunnel: Tunnel): void {
  tunnel.cut();
}
