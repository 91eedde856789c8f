import { createHash, randomBytes } from 'node:crypto';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HcmEnv, type RunningProcess, hcmEnv, startAgent, startForwarder, type Forwarder } from '../helpers/agent.js';
import { type EmulatorProcess, startEmulator, testConfig } from '../helpers/emulator.js';
import { type TcpServer, startEchoServer } from '../helpers/tcp-servers.js';
import { addConnection, connectTcp, echoRoundTrip, firstDifference, liveConnection, removeHome } from '../helpers/tunnel.js';

/**
 * The whole chain over plain ws (UseDevelopmentEmulator), where every hop reads through pooled,
 * recycled buffers (src/relay/pooled-reads.ts): a buffer handed back too early would show up
 * here as corrupted bytes, so everything is checked byte for byte, with many tunnels at once.
 */

let echo: TcpServer;
let emu: EmulatorProcess;
let env: HcmEnv;
let agent: RunningProcess;
let fwd: Forwarder;

beforeAll(async () => {
  echo = await startEchoServer();
  emu = await startEmulator({ plain: true, config: testConfig([{ name: 'plain-echo', endpoint: `127.0.0.1:${echo.port}` }]) });
  env = hcmEnv(null);
  await addConnection(env, emu.hybridConnections['plain-echo']!.listen);
  agent = await startAgent(env, { waitConnected: 1 });
  fwd = await startForwarder(env, emu.hybridConnections['plain-echo']!.send);
});

afterAll(async () => {
  await fwd?.stop();
  await agent?.stop();
  await emu?.stop();
  await echo?.close();
  removeHome(env);
});

/** Streams `total` random bytes in uneven writes and compares hashes of what went and came back. */
async function stream(socket: net.Socket, total: number): Promise<{ sent: string; received: string; bytes: number }> {
  const sent = createHash('sha256');
  const received = createHash('sha256');
  let got = 0;
  const done = new Promise<void>((resolve, reject) => {
    socket.on('data', (d: Buffer) => {
      received.update(d);
      got += d.length;
      if (got === total) resolve();
      if (got > total) reject(new Error(`received ${got} bytes, more than ${total}`));
    });
    socket.once('close', () => (got < total ? reject(new Error(`closed after ${got} of ${total} bytes`)) : undefined));
  });
  let left = total;
  while (left > 0) {
    const piece = randomBytes(Math.min(left, 1 + Math.floor(Math.random() * 300_000)));
    sent.update(piece);
    left -= piece.length;
    if (!socket.write(piece)) await new Promise((r) => socket.once('drain', r));
  }
  await done;
  return { sent: sent.digest('hex'), received: received.digest('hex'), bytes: got };
}

describe('plain transport with pooled reads', () => {
  it('echoes 64 MiB in uneven writes, every byte', async () => {
    const socket = await connectTcp(fwd.port);
    const r = await stream(socket, 64 * 1024 * 1024);
    socket.destroy();
    expect(r.bytes).toBe(64 * 1024 * 1024);
    expect(r.received).toBe(r.sent);
  });

  it('keeps 40 concurrent tunnels apart: each gets back exactly its own bytes', async () => {
    const results = await Promise.all(
      Array.from({ length: 40 }, async () => {
        const socket = await connectTcp(fwd.port);
        const r = await stream(socket, 2 * 1024 * 1024 + Math.floor(Math.random() * 1024 * 1024));
        socket.destroy();
        return r;
      }),
    );
    for (const r of results) expect(r.received).toBe(r.sent);
  });

  it('mixes small request/response round trips with bulk traffic on other tunnels', async () => {
    const bulk = connectTcp(fwd.port).then(async (s) => {
      const r = await stream(s, 32 * 1024 * 1024);
      s.destroy();
      return r;
    });
    const chatty = await connectTcp(fwd.port);
    for (let i = 0; i < 300; i++) {
      const payload = randomBytes(1 + (i % 97));
      const back = await echoRoundTrip(chatty, payload);
      expect(firstDifference(back, payload), `round trip ${i}`).toBe(-1);
    }
    chatty.destroy();
    const b = await bulk;
    expect(b.received).toBe(b.sent);
    const live = await liveConnection(env, 'plain-echo');
    expect(live.counters.failedConnections).toBe(0);
  });
});
