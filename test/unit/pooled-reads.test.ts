import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCertificates } from '../../src/emulator/certificates.js';
import { FRAME_HEADROOM, adoptPooled, connectTlsPooled, releaseChunk, withHeadroom } from '../../src/relay/pooled-reads.js';

/**
 * Pooled reads over TLS (src/relay/pooled-reads.ts): the agent's wss sockets (connectTlsPooled,
 * Node's public `onread`) and sockets a TLS server accepted (adoptPooled, which switches them
 * through Node-internal symbols). Every byte must arrive exactly once and in order, both ways,
 * while chunks are recycled as soon as they are consumed, with pauses in the middle, and the
 * pooled path must really be the one in use (else these tests would prove nothing about it).
 */

const TOTAL = 8 * 1024 * 1024;

let dir: string;
let server: tls.Server;
let port: number;
let ca: string;
const accepted: tls.TLSSocket[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hcm-pooled-'));
  const certs = await ensureCertificates(dir);
  ca = certs.caCert;
  server = tls.createServer({ key: certs.key, cert: certs.cert }, (socket) => accepted.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
});

afterAll(async () => {
  for (const s of accepted) s.destroy();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

/** A connected pair: the client through connectTlsPooled, the server's side through adoptPooled. */
async function pair(): Promise<{ client: tls.TLSSocket; serverSide: net.Socket }> {
  const before = accepted.length;
  const client = connectTlsPooled({ host: '127.0.0.1', port, ca, servername: 'localhost' });
  await new Promise<void>((resolve, reject) => {
    client.once('secureConnect', resolve);
    client.once('error', reject);
  });
  while (accepted.length === before) await new Promise((r) => setTimeout(r, 5));
  const raw = accepted[accepted.length - 1]!;
  // As the emulator does with an upgraded wss socket: a handshake already done, reading paused.
  raw.pause();
  return { client, serverSide: adoptPooled(raw) };
}

interface Received {
  bytes: number;
  pooledChunks: number;
  digest: string;
  mismatchAt?: number;
}

/**
 * Reads `expected.length` bytes from `socket`, comparing each chunk with `expected` where it
 * should be, then hands the chunk back to the pool at once (the next read may reuse its buffer:
 * a chunk handed out twice or overwritten would show as a mismatch). Pauses reading twice.
 */
function receive(socket: net.Socket, expected: Buffer): Promise<Received> {
  return new Promise((resolve, reject) => {
    const got: Received = { bytes: 0, pooledChunks: 0, digest: '' };
    const hash = createHash('sha256');
    let pauses = 0;
    const onData = (chunk: Buffer) => {
      if (got.mismatchAt === undefined && !chunk.equals(expected.subarray(got.bytes, got.bytes + chunk.length))) got.mismatchAt = got.bytes;
      hash.update(chunk);
      if (withHeadroom(chunk, FRAME_HEADROOM)) got.pooledChunks++;
      got.bytes += chunk.length;
      releaseChunk(chunk);
      if (got.bytes > expected.length) return finish(new Error(`received ${got.bytes} bytes, sent ${expected.length}`));
      if (got.bytes === expected.length) return finish();
      // Paused with records still being decrypted: they must wait in the stream, not be lost.
      if (pauses < 2 && got.bytes > ((pauses + 1) * expected.length) / 3) {
        pauses++;
        socket.pause();
        setTimeout(() => socket.resume(), 50);
      }
    };
    const finish = (err?: Error) => {
      socket.off('data', onData);
      if (err) reject(err);
      else resolve({ ...got, digest: hash.digest('hex') });
    };
    socket.on('data', onData);
    socket.once('error', finish);
    socket.resume();
  });
}

/** Writes `data` in pieces of varying sizes (1 byte to 200 KiB), so records and reads do not line up. */
function send(socket: net.Socket, data: Buffer): void {
  const sizes = [1, 100, 16 * 1024 - 3, 16 * 1024, 65_537, 200 * 1024, 7];
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = Math.min(sizes[i % sizes.length]!, data.length - at);
    socket.write(data.subarray(at, at + n));
    at += n;
  }
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('pooled reads over TLS', () => {
  it('delivers every byte exactly, both ways at once, with chunks recycled as they are consumed', async () => {
    const { client, serverSide } = await pair();
    const up = randomBytes(TOTAL);
    const down = randomBytes(TOTAL);
    const atServer = receive(serverSide, up);
    const atClient = receive(client, down);
    send(client, up);
    send(serverSide, down);
    const [s, c] = await Promise.all([atServer, atClient]);
    for (const [r, sent] of [
      [s, up],
      [c, down],
    ] as const) {
      expect(r.mismatchAt).toBeUndefined();
      expect(r.bytes).toBe(TOTAL);
      expect(r.digest).toBe(sha(sent));
    }
    // The pooled path was the one used on both sides (most 16 KiB records land in pooled chunks).
    expect(c.pooledChunks).toBeGreaterThan(100);
    expect(s.pooledChunks).toBeGreaterThan(100);
    client.destroy();
    serverSide.destroy();
  });

  it('keeps bytes that arrived before the switch and ends cleanly', async () => {
    const { client, serverSide } = await pair();
    // Sent before the server side reads at all: some of it may already be inside the TLS socket.
    const data = randomBytes(1024 * 1024);
    send(client, data);
    await new Promise((r) => setTimeout(r, 50));
    const ended = new Promise<void>((resolve) => serverSide.once('end', resolve));
    const got = await receive(serverSide, data);
    client.end();
    await ended;
    expect(got.mismatchAt).toBeUndefined();
    expect(got.digest).toBe(sha(data));
    serverSide.destroy();
  });
});
