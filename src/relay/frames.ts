import { createRequire } from 'node:module';

/**
 * WebSocket framing (RFC 6455 §5) for the data path: an incremental parser that streams payload
 * bytes as they arrive (a large frame never sits in memory whole) and header encoders. Used by
 * the agent and `hcm connect` for tunnel sockets and by the emulator's frame relay.
 */

export const OP_CONTINUATION = 0x0;
export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;
export const MAX_CONTROL_PAYLOAD = 125;

export interface FrameHeader {
  /** First header byte as received: FIN, RSV1-3, opcode. */
  b0: number;
  fin: boolean;
  opcode: number;
  masked: boolean;
  length: number;
}

export interface FrameParserEvents {
  onHeader(header: FrameHeader): void;
  /** Unmasked payload bytes of the current frame, in order; `offset` is their position in it. */
  onPayload(bytes: Buffer, header: FrameHeader, offset: number): void;
  onFrameEnd(header: FrameHeader): void;
  onError(reason: string): void;
}

export interface FrameParserOptions {
  /** Frames must (true) or must not (false) be masked: clients mask, servers do not. */
  expectMasked: boolean;
  /** Unmask in place (the emulator, between two clients); false leaves that to the caller. */
  unmask?: boolean;
}

type Unmask = (buffer: Buffer, mask: Buffer) => void;

function loadNativeUnmask(): Unmask | undefined {
  if (process.env.WS_NO_BUFFER_UTIL) return undefined;
  try {
    return (createRequire(import.meta.url)('bufferutil') as { unmask: Unmask }).unmask;
  } catch {
    return undefined;
  }
}

const nativeUnmask = loadNativeUnmask();

/** XOR-unmasks `buffer` in place; its first byte sits `offset` bytes into the frame payload. */
export function unmaskAt(buffer: Buffer, mask: Buffer, offset: number): void {
  // An all-zero key (what our own clients send over TLS) leaves the payload as it is.
  if (buffer.length === 0 || (mask[0]! | mask[1]! | mask[2]! | mask[3]!) === 0) return;
  const shift = offset & 3;
  const m = shift === 0 ? mask : Buffer.from([mask[shift]!, mask[(shift + 1) & 3]!, mask[(shift + 2) & 3]!, mask[(shift + 3) & 3]!]);
  // The native version (bufferutil, optional) only pays off past a few dozen bytes.
  if (nativeUnmask && buffer.length >= 32) nativeUnmask(buffer, m);
  else for (let i = 0; i < buffer.length; i++) buffer[i]! ^= m[i & 3]!;
}

export class FrameParser {
  // A slice of Node's shared pool, not a buffer of its own: a parser lives as long as its tunnel,
  // and an idle agent may hold thousands (docs/performance.md, memory per idle tunnel).
  private readonly header = Buffer.allocUnsafe(14);
  private headerHave = 0;
  private headerNeed = 2;
  private current: FrameHeader | undefined;
  private remaining = 0;
  private offset = 0;
  /** Made at the first masked frame: the agent's side only ever receives unmasked ones. */
  private mask: Buffer | undefined;
  private failed = false;

  constructor(
    private readonly options: FrameParserOptions,
    private readonly events: FrameParserEvents,
  ) {}

  push(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length && !this.failed) {
      if (!this.current) {
        pos = this.readHeader(chunk, pos);
        continue;
      }
      const take = Math.min(this.remaining, chunk.length - pos);
      const payload = chunk.subarray(pos, pos + take);
      if (this.options.unmask !== false && this.current.masked) unmaskAt(payload, this.mask!, this.offset);
      this.events.onPayload(payload, this.current, this.offset);
      this.remaining -= take;
      this.offset += take;
      pos += take;
      if (this.remaining === 0) this.endFrame();
    }
  }

  private readHeader(chunk: Buffer, pos: number): number {
    while (this.headerHave < this.headerNeed && pos < chunk.length) {
      this.header[this.headerHave++] = chunk[pos++]!;
      if (this.headerHave === 2) {
        const len7 = this.header[1]! & 0x7f;
        const masked = (this.header[1]! & 0x80) !== 0;
        if (masked !== this.options.expectMasked) {
          return this.fail(chunk.length, masked ? 'server frames must not be masked' : 'client frames must be masked');
        }
        this.headerNeed = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
      }
    }
    if (this.headerHave < this.headerNeed) return pos;
    const b0 = this.header[0]!;
    const len7 = this.header[1]! & 0x7f;
    const masked = (this.header[1]! & 0x80) !== 0;
    let length = len7;
    let next = 2;
    if (len7 === 126) {
      length = this.header.readUInt16BE(2);
      next = 4;
    } else if (len7 === 127) {
      const high = this.header.readUInt32BE(2);
      if (high > 0x1fffff) return this.fail(chunk.length, 'frame length over 2^53');
      length = high * 2 ** 32 + this.header.readUInt32BE(6);
      next = 10;
    }
    const opcode = b0 & 0x0f;
    if (opcode >= 0x8 && (length > MAX_CONTROL_PAYLOAD || (b0 & 0x80) === 0)) return this.fail(chunk.length, 'invalid control frame');
    if ((opcode > OP_BINARY && opcode < OP_CLOSE) || opcode > OP_PONG) return this.fail(chunk.length, `unknown opcode ${opcode}`);
    if (masked) this.header.copy((this.mask ??= Buffer.alloc(4)), 0, next, next + 4);
    this.current = { b0, fin: (b0 & 0x80) !== 0, opcode, masked, length };
    this.remaining = length;
    this.offset = 0;
    this.headerHave = 0;
    this.headerNeed = 2;
    this.events.onHeader(this.current);
    if (length === 0) this.endFrame();
    return pos;
  }

  private endFrame(): void {
    const done = this.current!;
    this.current = undefined;
    this.events.onFrameEnd(done);
  }

  private fail(end: number, reason: string): number {
    this.failed = true;
    this.events.onError(reason);
    return end;
  }
}

/** Bytes of the header of a frame carrying `length` bytes (`masked`: a client frame, with its key). */
export function headerLength(length: number, masked: boolean): number {
  return 2 + (length < 126 ? 0 : length < 65536 ? 2 : 8) + (masked ? 4 : 0);
}

/** A frame header; `maskKey` given = a client frame (mask bit set, key appended). */
export function encodeHeader(b0: number, length: number, maskKey?: Buffer): Buffer {
  const h = Buffer.allocUnsafe(headerLength(length, maskKey !== undefined));
  writeHeader(h, b0, length, maskKey);
  return h;
}

/** Writes a frame header at the start of `h` (which has room for headerLength bytes). */
export function writeHeader(h: Buffer, b0: number, length: number, maskKey?: Buffer): void {
  const maskBit = maskKey ? 0x80 : 0;
  const extra = length < 126 ? 0 : length < 65536 ? 2 : 8;
  h[0] = b0;
  if (extra === 0) h[1] = maskBit | length;
  else if (extra === 2) {
    h[1] = maskBit | 126;
    h.writeUInt16BE(length, 2);
  } else {
    h[1] = maskBit | 127;
    h.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    h.writeUInt32BE(length >>> 0, 6);
  }
  if (maskKey) maskKey.copy(h, 2 + extra);
}

/** A Close frame's payload: 2-byte code and a UTF-8 reason cut to fit a control frame. */
export function closePayload(code: number, reason: string): Buffer {
  const text = Buffer.from(reason, 'utf8').subarray(0, MAX_CONTROL_PAYLOAD - 2);
  const body = Buffer.alloc(2 + text.length);
  body.writeUInt16BE(code, 0);
  text.copy(body, 2);
  return body;
}

/** An unmasked Close frame, as a server (the relay) sends it. */
export function serverCloseFrame(code: number, reason: string): Buffer {
  const body = closePayload(code, reason);
  return Buffer.concat([encodeHeader(0x80 | OP_CLOSE, body.length), body]);
}

export function parseClosePayload(body: Buffer): { code: number; reason: string } {
  if (body.length < 2) return { code: 1005, reason: '' };
  return { code: body.readUInt16BE(0), reason: body.subarray(2).toString('utf8') };
}
