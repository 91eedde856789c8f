import { randomFillSync } from 'node:crypto';
import type { Socket } from 'node:net';
import {
  FrameParser,
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

/**
 * Pipes `relay` (a tunnel WebSocket past its handshake, paused; `head` is what arrived with the
 * handshake) and `tcp` both ways until both are closed. Returns a function that aborts the tunnel.
 */
export function pipeTunnel(relay: Socket, head: Buffer, tcp: Socket, callbacks: PipeCallbacks): () => void {
  const tunnel = new Tunnel(relay, tcp, callbacks);
  const parser = relayToTcp(tunnel);
  tcpToRelay(tunnel);
  tunnel.watchEnds();
  if (head.length) parser.push(head);
  relay.resume(); // paused since the handshake, so no frame arrived before this reader
  // Either side may already be gone (e.g. the endpoint reset while the rendezvous opened).
  if (tcp.destroyed) tcp.emit('close', false);
  if (relay.destroyed) relay.emit('close', false);
  return () => tunnel.abort();
}

/**
 * relay -> TCP: parses the relay's frames and writes every data payload to TCP as it arrives
 * (slices of the pooled read, one write per read); answers pings. Reading from the relay pauses
 * while TCP holds more than HIGH_WATER_BYTES. Returns the parser, for the bytes of the handshake.
 */
function relayToTcp(tunnel: Tunnel): FrameParser {
  const { relay, tcp, stats, callbacks } = tunnel;
  const toTcp = new SliceWriter(tcp, 'encrypted' in relay);
  let control: Buffer[] = [];
  const parser = new FrameParser(
    { expectMasked: false, unmask: true },
    {
      onHeader: (h) => {
        if (h.opcode >= OP_CLOSE) control = [];
      },
      onPayload: (bytes, h) => {
        // Continuation frames (opcode 0) carry data too; control frames may sit between them.
        if (h.opcode === OP_BINARY || h.opcode === OP_TEXT || h.opcode === OP_CONTINUATION) {
          if (tcp.destroyed || tunnel.closeReceived) return; // nothing more can be delivered
          stats.bytesToSocket += bytes.length;
          callbacks.onBytes(bytes.length, 0);
          toTcp.write(bytes);
          if (tcp.writableLength > HIGH_WATER_BYTES) tunnel.pauseRelay();
        } else if (control.reduce((n, b) => n + b.length, 0) + bytes.length <= MAX_CONTROL_PAYLOAD) {
          control.push(Buffer.from(bytes));
        }
      },
      onFrameEnd: (h) => {
        if (h.opcode === OP_PING) tunnel.sendFrame(0x80 | OP_PONG, Buffer.concat(control));
        else if (h.opcode === OP_CLOSE) tunnel.closeReceivedFromRelay(Buffer.concat(control));
      },
      onError: (why) => tunnel.protocolError(why),
    },
  );
  relay.on('data', (chunk: Buffer) => toTcp.forward(chunk, () => parser.push(chunk)));
  tcp.on('drain', tunnel.resumeRelay);
  return parser;
}

/**
 * TCP -> relay: each TCP read leaves as one binary frame (header and payload in one write, the
 * chunk back to its pool once written). Reading from TCP pauses while the relay socket holds more
 * than HIGH_WATER_BYTES.
 */
function tcpToRelay(tunnel: Tunnel): void {
  const { relay, tcp, stats, callbacks } = tunnel;
  let tcpPausedForRelay = false;
  tcp.on('data', (chunk: Buffer) => {
    if (tunnel.closeSent) return;
    stats.bytesFromSocket += chunk.length;
    callbacks.onBytes(0, chunk.length);
    if (!tunnel.sendFrame(0x80 | OP_BINARY, chunk, () => releaseChunk(chunk)) && !tcpPausedForRelay) {
      tcpPausedForRelay = true;
      tcp.pause();
    }
  });
  relay.on('drain', () => {
    if (tcpPausedForRelay) {
      tcpPausedForRelay = false;
      tcp.resume();
    }
  });
}

/**
 * What both directions share: the byte counts, the reason the tunnel ended (the first one found
 * wins), frames to the relay, the close handshake, and the end of both sockets.
 */
class Tunnel {
  readonly stats: PipeStats = { bytesToSocket: 0, bytesFromSocket: 0 };
  reason = '';
  closeSent = false;
  closeReceived = false;
  private relayPausedForTcp = false;
  private relayClosed = false;
  private tcpClosed = false;
  private finished = false;
  private lingerTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly relay: Socket,
    readonly tcp: Socket,
    readonly callbacks: PipeCallbacks,
  ) {}

  /** Writes one frame; false when the relay socket holds more than HIGH_WATER_BYTES. */
  sendFrame(b0: number, payload: Buffer, written?: () => void): boolean {
    const relay = this.relay;
    if (relay.destroyed || !relay.writable) {
      written?.();
      return true;
    }
    let key = ZERO_MASK;
    if (RANDOM_MASK) {
      key = randomFillSync(Buffer.allocUnsafe(4));
      unmaskAt(payload, key, 0); // XOR is its own inverse: this masks in place
    }
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
  closeReceivedFromRelay(payload: Buffer): void {
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

  protocolError(why: string): void {
    this.reason ||= `protocol error from the relay: ${why}`;
    this.sendClose(1002, why);
    this.endTcp();
  }

  pauseRelay(): void {
    if (!this.relayPausedForTcp) {
      this.relayPausedForTcp = true;
      this.relay.pause();
    }
  }

  readonly resumeRelay = (): void => {
    if (this.relayPausedForTcp) {
      this.relayPausedForTcp = false;
      this.relay.resume();
    }
  };

  /** Ends TCP after what it was sent; reading from the relay resumes so its Close is seen. */
  endTcp(): void {
    this.resumeRelay();
    endOnce(this.tcp);
    this.linger();
  }

  /** How the tunnel ends, whichever side goes first. */
  watchEnds(): void {
    const { relay, tcp } = this;
    relay.on('end', () => {
      // The relay went away without finishing the close handshake.
      this.reason ||= this.closeReceived ? 'closed' : 'the connection to the relay dropped (1006)';
      this.endTcp();
      endOnce(relay);
    });
    relay.on('error', (err) => {
      this.reason ||= `relay connection error: ${err.message}`;
    });
    relay.on('close', () => {
      this.relayClosed = true;
      if (!this.closeReceived) endOnce(tcp);
      this.linger();
      this.finish();
    });
    tcp.on('end', () => {
      this.reason ||= 'the TCP peer closed the connection';
      this.sendClose(1000, '');
    });
    tcp.on('error', (err) => {
      this.reason ||= `TCP connection error: ${err.message}`;
    });
    tcp.on('close', () => {
      this.tcpClosed = true;
      // Reading from the relay may be paused for backpressure; resume so its Close is seen.
      this.resumeRelay();
      this.sendClose(1000, '');
      this.finish();
    });
  }

  abort(): void {
    this.reason ||= 'aborted';
    this.relay.destroy();
    this.tcp.destroy();
  }

  private linger(): void {
    this.lingerTimer ??= setTimeout(() => {
      this.relay.destroy();
      this.tcp.destroy();
    }, CLOSE_LINGER_MS);
    this.lingerTimer.unref();
  }

  private finish(): void {
    if (this.finished || !this.relayClosed || !this.tcpClosed) return;
    this.finished = true;
    clearTimeout(this.lingerTimer);
    this.callbacks.onClosed(this.stats, this.reason || 'closed');
  }
}
