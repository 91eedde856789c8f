import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  FrameParser,
  type FrameHeader,
  OP_BINARY,
  OP_CLOSE,
  OP_PING,
  closePayload,
  encodeHeader,
  parseClosePayload,
  unmaskAt,
} from '../../src/relay/frames.js';

interface Parsed {
  header: FrameHeader;
  payload: Buffer;
}

function parseAll(bytes: Buffer, expectMasked: boolean, chunkSize: number): { frames: Parsed[]; error?: string } {
  const frames: Parsed[] = [];
  let parts: Buffer[] = [];
  let error: string | undefined;
  const parser = new FrameParser(
    { expectMasked, unmask: true },
    {
      onHeader: () => (parts = []),
      onPayload: (b) => parts.push(Buffer.from(b)),
      onFrameEnd: (header) => frames.push({ header, payload: Buffer.concat(parts) }),
      onError: (reason) => (error = reason),
    },
  );
  for (let i = 0; i < bytes.length; i += chunkSize) parser.push(Buffer.from(bytes.subarray(i, i + chunkSize)));
  return { frames, error };
}

function clientFrame(b0: number, payload: Buffer, key = randomBytes(4)): Buffer {
  const masked = Buffer.from(payload);
  unmaskAt(masked, key, 0);
  return Buffer.concat([encodeHeader(b0, payload.length, key), masked]);
}

describe('FrameParser', () => {
  const payloads = [
    Buffer.alloc(0),
    Buffer.from('hi'),
    randomBytes(125),
    randomBytes(126),
    randomBytes(65535),
    randomBytes(65536),
    randomBytes(200_000),
  ];

  it.each([1, 3, 7, 1000, 1 << 20])('reassembles masked client frames of every length form, in chunks of %i bytes', (chunk) => {
    const wire = Buffer.concat(payloads.map((p) => clientFrame(0x80 | OP_BINARY, p)));
    const { frames, error } = parseAll(wire, true, chunk);
    expect(error).toBeUndefined();
    expect(frames.map((f) => f.payload.length)).toEqual(payloads.map((p) => p.length));
    frames.forEach((f, i) => expect(f.payload.equals(payloads[i]!)).toBe(true));
  });

  it('reads unmasked server frames, keeping FIN and opcodes, and control frames between fragments', () => {
    const wire = Buffer.concat([
      encodeHeader(OP_BINARY, 3),
      Buffer.from('abc'),
      encodeHeader(0x80 | OP_PING, 2),
      Buffer.from('pp'),
      encodeHeader(0x80 | 0x0, 2),
      Buffer.from('de'),
      encodeHeader(0x80 | OP_CLOSE, 4),
      closePayload(4001, 'ok'),
    ]);
    const { frames, error } = parseAll(wire, false, 5);
    expect(error).toBeUndefined();
    expect(frames.map((f) => [f.header.fin, f.header.opcode, f.payload.toString('latin1')])).toEqual([
      [false, OP_BINARY, 'abc'],
      [true, OP_PING, 'pp'],
      [true, 0, 'de'],
      [true, OP_CLOSE, closePayload(4001, 'ok').toString('latin1')],
    ]);
    expect(parseClosePayload(frames[3]!.payload)).toEqual({ code: 4001, reason: 'ok' });
  });

  it.each([
    ['an unmasked frame from a client', true, Buffer.concat([encodeHeader(0x82, 1), Buffer.from('x')]), /must be masked/],
    ['a masked frame from a server', false, clientFrame(0x82, Buffer.from('x')), /must not be masked/],
    ['a fragmented control frame', false, Buffer.concat([encodeHeader(OP_PING, 0)]), /invalid control frame/],
    [
      'a control frame over 125 bytes',
      false,
      Buffer.concat([encodeHeader(0x80 | OP_PING, 126), Buffer.alloc(126)]),
      /invalid control frame/,
    ],
    ['a reserved opcode', false, Buffer.concat([encodeHeader(0x83, 0)]), /unknown opcode 3/],
  ])('rejects %s', (_what, expectMasked, wire, message) => {
    expect(parseAll(wire, expectMasked, 64).error).toMatch(message);
  });

  it('treats an all-zero masking key as no change, and masks/unmasks symmetrically at any offset', () => {
    const data = randomBytes(1000);
    const copy = Buffer.from(data);
    unmaskAt(copy, Buffer.alloc(4), 0);
    expect(copy.equals(data)).toBe(true);
    const key = randomBytes(4);
    const whole = Buffer.from(data);
    unmaskAt(whole, key, 0);
    const split = Buffer.from(data);
    unmaskAt(split.subarray(0, 333), key, 0);
    unmaskAt(split.subarray(333), key, 333);
    expect(split.equals(whole)).toBe(true);
  });
});
