import type { Socket } from 'node:net';
import { unmaskAt } from './mask.js';

/**
 * Relays WebSocket frames between two client sockets (sender and listener rendezvous), the way
 * Azure Relay does: opcodes, FIN bits and message boundaries pass through untouched; payloads
 * are unmasked because both peers are clients and frames to a client must not be masked.
 * Payload bytes are streamed as they arrive, so a large frame never sits in memory whole.
 *
 * Close handling: a Close frame is forwarded like any frame; once both sides have sent one the
 * TCP connections are ended. When a socket drops without a Close, the other side receives
 * Close 1001 (what the service sends when a peer goes away).
 */

const OP_CLOSE = 0x8;
const MAX_CONTROL_PAYLOAD = 125;
const CLOSE_LINGER_MS = 10_000;

export interface RelayStats {
  bytesAtoB: number;
  bytesBtoA: number;
}

type Side = 'a' | 'b';

export function relayFrames(a: Socket, b: Socket, headA: Buffer, headB: Buffer, onEnd?: (stats: RelayStats) => void): RelayStats {
  const stats: RelayStats = { bytesAtoB: 0, bytesBtoA: 0 };
  const closeSent: Record<Side, boolean> = { a: false, b: false };
  let finished = false;
  let lingerTimer: NodeJS.Timeout | undefined;

  const finish = () => {
    if (finished) return;
    finished = true;
    if (lingerTimer) clearTimeout(lingerTimer);
    a.destroy();
    b.destroy();
    onEnd?.(stats);
  };

  const endBoth = () => {
    // Flush what is queued, then close; destroy later if a peer never reads.
    a.end();
    b.end();
    lingerTimer ??= setTimeout(finish, CLOSE_LINGER_MS);
    lingerTimer.unref();
  };

  const failProtocol = (code: number, reason: string) => {
    if (finished) return;
    for (const s of [a, b]) {
      if (!s.destroyed && s.writable) s.write(closeFrame(code, reason));
    }
    endBoth();
  };

  const wire = (src: Socket, dst: Socket, side: Side, head: Buffer) => {
    const parser = new FrameParser(dst, {
      onClose: () => {
        closeSent[side] = true;
        if (closeSent.a && closeSent.b) endBoth();
      },
      onProtocolError: (reason) => failProtocol(1002, reason),
      onBytes: (n) => {
        if (side === 'a') stats.bytesAtoB += n;
        else stats.bytesBtoA += n;
      },
    });
    src.on('data', (chunk: Buffer) => {
      if (finished) return;
      dst.cork();
      parser.push(chunk);
      // uncork on the next tick lets several small frames from one read leave in one write.
      process.nextTick(() => dst.uncork());
      if (dst.writableNeedDrain) src.pause();
    });
    dst.on('drain', () => src.resume());
    const gone = () => {
      if (finished) return;
      if (closeSent[side]) {
        // Orderly: it said Close first; let the other side finish its own close.
        if (closeSent.a && closeSent.b) finish();
        return;
      }
      // Abrupt: tell the other peer its partner went away.
      closeSent[side] = true;
      if (!dst.destroyed && dst.writable && !closeSent[side === 'a' ? 'b' : 'a']) dst.write(closeFrame(1001, 'peer disconnected'));
      endBoth();
    };
    src.on('end', gone);
    src.on('close', gone);
    src.on('error', () => undefined); // 'close' follows and handles it
    if (head.length) src.emit('data', head);
  };

  a.setNoDelay(true);
  b.setNoDelay(true);
  wire(a, b, 'a', headA);
  wire(b, a, 'b', headB);
  return stats;
}

interface ParserEvents {
  onClose: () => void;
  onProtocolError: (reason: string) => void;
  onBytes: (n: number) => void;
}

/** Incremental parser that re-emits each frame unmasked on `out`, streaming the payload. */
class FrameParser {
  private header = Buffer.alloc(14);
  private headerHave = 0;
  private headerNeed = 2;
  private remaining = 0; // payload bytes left in the current frame
  private offset = 0; // payload bytes already passed in the current frame
  private mask = Buffer.alloc(4);
  private opcode = 0;
  private failed = false;

  constructor(
    private readonly out: Socket,
    private readonly events: ParserEvents,
  ) {}

  push(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length && !this.failed) {
      if (this.remaining === 0 && this.headerNeed > 0) {
        pos = this.readHeader(chunk, pos);
        continue;
      }
      const take = Math.min(this.remaining, chunk.length - pos);
      const payload = chunk.subarray(pos, pos + take);
      unmaskAt(payload, this.mask, this.offset);
      this.out.write(payload);
      this.events.onBytes(take);
      this.remaining -= take;
      this.offset += take;
      pos += take;
      if (this.remaining === 0) this.frameDone();
    }
  }

  private readHeader(chunk: Buffer, pos: number): number {
    while (this.headerHave < this.headerNeed && pos < chunk.length) {
      this.header[this.headerHave++] = chunk[pos++]!;
      if (this.headerHave === 2) {
        const len7 = this.header[1]! & 0x7f;
        const masked = (this.header[1]! & 0x80) !== 0;
        if (!masked) return this.fail(chunk.length, 'client frames must be masked');
        this.headerNeed = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + 4;
      }
    }
    if (this.headerHave < this.headerNeed) return pos;
    const b0 = this.header[0]!;
    const len7 = this.header[1]! & 0x7f;
    let length: number;
    let maskAt = 2;
    if (len7 === 126) {
      length = this.header.readUInt16BE(2);
      maskAt = 4;
    } else if (len7 === 127) {
      const high = this.header.readUInt32BE(2);
      if (high > 0x1fffff) return this.fail(chunk.length, 'frame length over 2^53');
      length = high * 2 ** 32 + this.header.readUInt32BE(6);
      maskAt = 10;
    } else {
      length = len7;
    }
    this.opcode = b0 & 0x0f;
    if (this.opcode >= 0x8 && (length > MAX_CONTROL_PAYLOAD || (b0 & 0x80) === 0)) {
      return this.fail(chunk.length, 'invalid control frame');
    }
    this.header.copy(this.mask, 0, maskAt, maskAt + 4);
    this.out.write(unmaskedHeader(b0, length));
    this.remaining = length;
    this.offset = 0;
    this.headerHave = 0;
    this.headerNeed = 0;
    if (length === 0) this.frameDone();
    return pos;
  }

  private frameDone(): void {
    this.headerNeed = 2;
    this.headerHave = 0;
    if (this.opcode === OP_CLOSE) this.events.onClose();
  }

  private fail(end: number, reason: string): number {
    this.failed = true;
    this.events.onProtocolError(reason);
    return end;
  }
}

function unmaskedHeader(b0: number, length: number): Buffer {
  if (length < 126) return Buffer.from([b0, length]);
  if (length < 65536) {
    const h = Buffer.allocUnsafe(4);
    h[0] = b0;
    h[1] = 126;
    h.writeUInt16BE(length, 2);
    return h;
  }
  const h = Buffer.allocUnsafe(10);
  h[0] = b0;
  h[1] = 127;
  h.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
  h.writeUInt32BE(length >>> 0, 6);
  return h;
}

/** An unmasked Close frame from the service. */
export function closeFrame(code: number, reason: string): Buffer {
  const text = Buffer.from(reason, 'utf8').subarray(0, MAX_CONTROL_PAYLOAD - 2);
  const body = Buffer.alloc(2 + text.length);
  body.writeUInt16BE(code, 0);
  text.copy(body, 2);
  return Buffer.concat([Buffer.from([0x88, body.length]), body]);
}
