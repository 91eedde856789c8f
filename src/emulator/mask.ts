import { createRequire } from 'node:module';

/**
 * XOR-unmasking of WebSocket payloads, in place. Uses the native `bufferutil` when it loads
 * (it is an optional speed-up; measured in docs/performance.md) and a plain loop otherwise.
 */
type Unmask = (buffer: Buffer, mask: Buffer) => void;

function loadNative(): Unmask | undefined {
  if (process.env.WS_NO_BUFFER_UTIL) return undefined;
  try {
    const require = createRequire(import.meta.url);
    return (require('bufferutil') as { unmask: Unmask }).unmask;
  } catch {
    return undefined;
  }
}

const native = loadNative();

function unmaskJs(buffer: Buffer, mask: Buffer): void {
  for (let i = 0; i < buffer.length; i++) buffer[i]! ^= mask[i & 3]!;
}

/** Unmasks `buffer`, whose first byte sits at `offset` bytes into the frame payload. */
export function unmaskAt(buffer: Buffer, mask: Buffer, offset: number): void {
  // An all-zero key (which some clients use over TLS) leaves the payload as it is.
  if (buffer.length === 0 || (mask[0]! | mask[1]! | mask[2]! | mask[3]!) === 0) return;
  const shift = offset & 3;
  const m = shift === 0 ? mask : Buffer.from([mask[shift]!, mask[(shift + 1) & 3]!, mask[(shift + 2) & 3]!, mask[(shift + 3) & 3]!]);
  // The native version is only faster past a few dozen bytes.
  if (native && buffer.length >= 32) native(buffer, m);
  else unmaskJs(buffer, m);
}
