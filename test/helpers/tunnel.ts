import { rmSync } from 'node:fs';
import net from 'node:net';
import type { ConnectionSummary } from '../../src/shared/api.js';
import { type HcmEnv, hcm } from './agent.js';

/**
 * Small pieces shared by the end-to-end tests: adding a Hybrid Connection with the real CLI,
 * reading an agent's live counters, and moving exact byte counts or echoed text over plain TCP
 * sockets.
 */

/** `hcm add <listen string>`; throws with the CLI's output when it does not succeed. */
export async function addConnection(env: HcmEnv, listenConnectionString: string): Promise<void> {
  const r = await hcm(env, ['add', listenConnectionString]);
  if (r.code !== 0) throw new Error(`hcm add failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
}

/** The one connection a running agent serves, as `hcm list --json` shows it (throws when the agent is not live). */
export async function liveConnection(env: HcmEnv, name: string): Promise<ConnectionSummary> {
  const r = await hcm(env, ['list', '--json']);
  if (r.code !== 0) throw new Error(`hcm list failed: ${r.stderr}`);
  const parsed = JSON.parse(r.stdout) as { agentRunning: boolean; connections: ConnectionSummary[] };
  if (!parsed.agentRunning) throw new Error(`hcm list says no agent is running for ${env.home}`);
  const found = parsed.connections.find((c) => c.name === name);
  if (!found) throw new Error(`hcm list has no connection named ${name}: ${r.stdout}`);
  return found;
}

export function removeHome(env: HcmEnv | undefined): void {
  if (env) rmSync(env.home, { recursive: true, force: true });
}

/** Removes a temporary directory (e.g. the emulator's state dir) if it was made. */
export function removeDir(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

/** Opens a TCP connection to 127.0.0.1:port and resolves once it is established. */
export function connectTcp(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/**
 * Collects exactly `length` bytes from the socket (data already buffered included). Rejects when
 * the socket ends, errors or closes first, or when more than `length` bytes arrive.
 */
export function readExactly(socket: net.Socket, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      got += chunk.length;
      if (got > length) {
        cleanup();
        reject(new Error(`received ${got} bytes, more than the ${length} expected`));
      } else if (got === length) {
        cleanup();
        resolve(Buffer.concat(chunks, got));
      }
    };
    const onEnd = () => {
      cleanup();
      reject(new Error(`the connection ended after ${got} of ${length} bytes`));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new Error(`socket error after ${got} of ${length} bytes: ${err.message}`));
    };
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.once('error', onError);
  });
}

/** Writes `payload` and reads the same number of bytes back (what an echo endpoint returns). */
export async function echoRoundTrip(socket: net.Socket, payload: Buffer): Promise<Buffer> {
  const reply = readExactly(socket, payload.length);
  socket.write(payload);
  return reply;
}

/**
 * One connection to 127.0.0.1:port (a forwarder in front of an echo endpoint): writes `text` and
 * resolves with what came back once as much has come as was sent, or with what had come when the
 * connection closed early (so a cut tunnel fails the caller's comparison instead of hanging).
 */
export function echoText(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    let got = '';
    socket.on('data', (d) => {
      got += d.toString();
      if (got.length >= text.length) {
        socket.end();
        resolve(got);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(got));
  });
}

/**
 * One connection to 127.0.0.1:port (`hcm connect` in front of an echo endpoint): writes `bytes`
 * bytes and resolves with how many came back before the relay, the agent or the endpoint closed it.
 */
export async function echoedBytes(port: number, bytes: number): Promise<number> {
  const socket = net.connect(port, '127.0.0.1');
  let echoed = 0;
  socket.on('data', (d: Buffer) => {
    echoed += d.length;
    if (echoed >= bytes) socket.end();
  });
  socket.on('error', () => undefined);
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(Buffer.alloc(bytes, 'x'));
  await new Promise((resolve) => socket.once('close', resolve));
  return echoed;
}

/** Where two buffers first differ (-1 when equal), for a failure message that says what broke. */
export function firstDifference(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}
