import type { Socket } from 'node:net';
import { HIGH_WATER_BYTES, endOnce } from '../relay/data-pipe.js';
import { FrameParser, OP_CLOSE, encodeHeader, serverCloseFrame } from '../relay/frames.js';
import { SliceWriter } from '../relay/slice-writer.js';

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
    endOnce(a);
    endOnce(b);
    lingerTimer ??= setTimeout(finish, CLOSE_LINGER_MS);
    lingerTimer.unref();
  };

  const failProtocol = (code: number, reason: string) => {
    if (finished) return;
    for (const s of [a, b]) {
      if (!s.destroyed && s.writable) s.write(serverCloseFrame(code, reason));
    }
    endBoth();
  };

  const wire = (src: Socket, dst: Socket, side: Side, head: Buffer) => {
    const toDst = new SliceWriter(dst);
    // Frames from a client are masked; re-sent to the other client, they must not be.
    const parser = new FrameParser(
      { expectMasked: true, unmask: true },
      {
        onHeader: (h) => dst.write(encodeHeader(h.b0, h.length)),
        onPayload: (bytes) => {
          toDst.write(bytes);
          if (side === 'a') stats.bytesAtoB += bytes.length;
          else stats.bytesBtoA += bytes.length;
        },
        onFrameEnd: (h) => {
          if (h.opcode !== OP_CLOSE) return;
          closeSent[side] = true;
          if (closeSent.a && closeSent.b) endBoth();
        },
        onError: (reason) => failProtocol(1002, reason),
      },
    );
    src.on('data', (chunk: Buffer) => {
      if (finished) return;
      toDst.forward(chunk, parser);
      // Pause on a byte count, not write()'s 16 KiB "full" signal, which would stop every read.
      if (dst.writableLength > HIGH_WATER_BYTES) src.pause();
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
      if (!dst.destroyed && dst.writable && !closeSent[side === 'a' ? 'b' : 'a']) dst.write(serverCloseFrame(1001, 'peer disconnected'));
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
  a.resume(); // sockets handed over paused (pooled-reads.ts adoptPooled)
  b.resume();
  return stats;
}
