import { type Cipheriv, createCipheriv, createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { type EmulatorProcess, startEmulator, testConfig } from '../helpers/emulator.js';
import { connectPair, openControl } from '../helpers/relay-clients.js';

/**
 * Data integrity through the emulator (a separate process, TLS on both legs): 256 MiB each way at
 * the same time, in binary messages of 1 byte to 1 MiB, hashed at both ends of both directions.
 * The data is an AES-256-CTR keystream with a fixed seed, so it is deterministic and cheap, and
 * the sending side hashes exactly what it sends.
 */

const TOTAL_BYTES = 256 * 1024 * 1024;
const MAX_MESSAGE = 1024 * 1024;
/** Bytes handed to `ws` but not yet written to its socket; above this the pump waits. */
const HIGH_WATER = 8 * 1024 * 1024;
const LOW_WATER = 2 * 1024 * 1024;
/** Sizes at the edges of the WebSocket length encodings (7-bit, 16-bit, 64-bit) come first. */
const EDGE_SIZES = [1, 2, 125, 126, 127, 65535, 65536, 65537, MAX_MESSAGE - 1, MAX_MESSAGE];
/** Sent as text after the data: it tells the receiver the stream is over, so extra bytes would show. */
const END_MARKER = 'end-of-stream';

interface StreamSummary {
  bytes: number;
  sizes: number[];
  sha256: string;
}

// Both transports: TLS, and plain ws, where the relay reads through pooled buffers (pooled-reads.ts).
const emulators: Record<'tls' | 'plain', EmulatorProcess | undefined> = { tls: undefined, plain: undefined };

beforeAll(async () => {
  const config = testConfig([{ name: 'hc-bulk', endpoint: 'localhost:1' }]);
  [emulators.tls, emulators.plain] = await Promise.all([startEmulator({ config }), startEmulator({ config, plain: true })]);
});
afterAll(async () => {
  await Promise.all([emulators.tls?.stop(), emulators.plain?.stop()]);
});

/** Deterministic message sizes: the edge sizes, then log-uniform between 1 byte and 1 MiB (mulberry32). */
function messageSizes(seed: number): () => number {
  let state = seed >>> 0;
  let index = 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  return () => EDGE_SIZES[index++] ?? Math.max(1, Math.min(MAX_MESSAGE, Math.floor(2 ** (random() * 20))));
}

function keystream(seed: string): Cipheriv {
  return createCipheriv('aes-256-ctr', createHash('sha256').update(seed).digest(), Buffer.alloc(16));
}

/** Sends TOTAL_BYTES of the seed's keystream, waiting on send callbacks so buffered data stays bounded. */
async function pump(ws: WebSocket, seed: number): Promise<StreamSummary> {
  const cipher = keystream(`integrity-${seed}`);
  const nextSize = messageSizes(seed);
  const zeros = Buffer.alloc(MAX_MESSAGE);
  const hash = createHash('sha256');
  const sizes: number[] = [];
  let sent = 0;
  let inFlight = 0;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const resume = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  ws.once('close', (code) => {
    failure ??= new Error(`socket closed with ${code} after ${sent} bytes were sent`);
    resume();
  });
  while (sent < TOTAL_BYTES) {
    const size = Math.min(nextSize(), TOTAL_BYTES - sent);
    const chunk = cipher.update(zeros.subarray(0, size));
    hash.update(chunk);
    sizes.push(size);
    sent += size;
    inFlight += size;
    ws.send(chunk, { binary: true }, (err) => {
      inFlight -= size;
      if (err) failure ??= err;
      if (inFlight <= LOW_WATER || failure) resume();
    });
    if (inFlight > HIGH_WATER) await new Promise<void>((r) => (wake = r));
    if (failure) throw failure;
  }
  ws.send(END_MARKER);
  return { bytes: sent, sizes, sha256: hash.digest('hex') };
}

/** Hashes every binary message until the end marker; any other text message is counted as wrong. */
function drain(ws: WebSocket): Promise<StreamSummary & { textMessages: number }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    const sizes: number[] = [];
    let bytes = 0;
    let textMessages = 0;
    ws.on('message', (data: Buffer, isBinary) => {
      if (!isBinary && data.toString() === END_MARKER) {
        resolve({ bytes, sizes, sha256: hash.digest('hex'), textMessages });
        return;
      }
      if (!isBinary) textMessages++;
      hash.update(data);
      sizes.push(data.length);
      bytes += data.length;
    });
    ws.once('close', (code) => reject(new Error(`socket closed with ${code} after ${bytes} bytes were received`)));
  });
}

it.each(['tls', 'plain'] as const)(
  'relays 256 MiB each way at the same time with every byte and message boundary intact (%s)',
  { timeout: 300_000 },
  async (transport) => {
    const emu = emulators[transport]!;
    const hc = emu.hybridConnections['hc-bulk']!;
    const control = await openControl(hc.listen, emu.caPem);
    const { sender, rendezvous } = await connectPair(control, hc.send, emu.caPem);

    const atListener = drain(rendezvous);
    const atSender = drain(sender);
    const [sentUp, sentDown] = await Promise.all([pump(sender, 1), pump(rendezvous, 2)]);
    const [gotUp, gotDown] = await Promise.all([atListener, atSender]);

    for (const [sent, got] of [
      [sentUp, gotUp],
      [sentDown, gotDown],
    ] as const) {
      expect(sent.bytes).toBe(TOTAL_BYTES);
      expect(got.textMessages).toBe(0);
      expect(got.bytes).toBe(sent.bytes);
      expect(got.sizes.length).toBe(sent.sizes.length);
      expect(got.sizes).toEqual(sent.sizes);
      expect(got.sha256).toBe(sent.sha256);
    }
    // The two directions carry different streams, so a crossed or echoed stream cannot pass.
    expect(sentUp.sha256).not.toBe(sentDown.sha256);
    expect(sentUp.sizes).not.toEqual(sentDown.sizes);

    sender.close();
    rendezvous.close();
    control.ws.close();
  },
);
