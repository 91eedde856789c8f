import net from 'node:net';
import tls from 'node:tls';

/**
 * Socket reads without a fresh allocation per read. Node allocates a new 64 KiB buffer for
 * every plain read and a new 16 KiB one for every TLS record; at relay speeds the garbage
 * collector then spends about a third of the agent's CPU freeing them, and on virtual machines
 * every fresh buffer also costs page faults when it is first written (measured:
 * docs/performance.md). Sockets opened or adopted here read into one scratch buffer shared by
 * the process (reads are synchronous, one at a time) of up to 256 KiB, and what a read brings is
 * copied into a buffer taken from a small recycling pool. The consumer hands chunks back with
 * `releaseChunk` once every write of them has completed; a chunk never handed back is simply
 * collected.
 *
 * Every pooled chunk has FRAME_HEADROOM spare bytes in front of it, so the WebSocket frame that
 * carries it can be written as one contiguous buffer (`withHeadroom`): a TLS socket copies the
 * buffers of a multi-buffer write into one fresh allocation, a single buffer it encrypts in place.
 *
 * Small reads are copied into exact-size buffers instead, so a trickle of small messages never
 * pins large pooled buffers (bounded: a pooled chunk is at least half full).
 */

/** Room for the largest client frame header (2 + 8 length + 4 mask bytes). */
export const FRAME_HEADROOM = 14;
const READ_SIZE = 256 * 1024;
/** 16 KiB is one TLS record, what a TLS socket delivers per read. */
const SIZE_CLASSES = [16 * 1024, 64 * 1024, READ_SIZE] as const;
/** Reads smaller than this get their own exact-size buffer. */
const COPY_BELOW = 8 * 1024;
/**
 * Free buffers are kept per size class up to this many bytes (eight busy tunnels over TLS hold
 * ~8 MiB of 16 KiB records in flight; a smaller pool missed and dropped most of them), and no
 * more than were taken in the last TRIM_MS: an agent at rest keeps no pool.
 */
const MAX_FREE_BYTES = 16 * 1024 * 1024;
const TRIM_MS = 10_000;

interface SizeClass {
  size: number;
  free: Buffer[];
  max: number;
  /** Buffers taken since the last trim. */
  taken: number;
}

const scratch = Buffer.allocUnsafe(READ_SIZE);
const classes: SizeClass[] = SIZE_CLASSES.map((size) => ({ size, free: [], max: MAX_FREE_BYTES / size, taken: 0 }));
const owners = new WeakMap<Buffer, Buffer>();
let trimTimer: NodeJS.Timeout | undefined;

function trim(): void {
  let idle = true;
  for (const c of classes) {
    if (c.free.length > c.taken) c.free.length = c.taken;
    if (c.taken || c.free.length) idle = false;
    c.taken = 0;
  }
  if (idle) {
    clearInterval(trimTimer);
    trimTimer = undefined;
  }
}

function take(c: SizeClass): Buffer {
  c.taken++;
  if (!trimTimer) {
    trimTimer = setInterval(trim, TRIM_MS);
    trimTimer.unref();
  }
  return c.free.pop() ?? Buffer.allocUnsafe(c.size + FRAME_HEADROOM);
}

/** Gives a chunk from a pooled socket back once nothing refers to its bytes any more. */
export function releaseChunk(chunk: Buffer): void {
  const backing = owners.get(chunk);
  if (!backing) return;
  owners.delete(chunk);
  const size = backing.length - FRAME_HEADROOM;
  const c = classes.find((x) => x.size === size);
  if (c && c.free.length < c.max) c.free.push(backing);
}

/**
 * The chunk with `room` (at most FRAME_HEADROOM) bytes of its pooled buffer in front of it, for a
 * header written in place; undefined for a chunk that did not come from the pool.
 */
export function withHeadroom(chunk: Buffer, room: number): Buffer | undefined {
  const backing = owners.get(chunk);
  if (!backing || room > FRAME_HEADROOM || chunk.byteOffset - backing.byteOffset !== FRAME_HEADROOM) return undefined;
  return backing.subarray(FRAME_HEADROOM - room, FRAME_HEADROOM + chunk.length);
}

function copyOut(n: number): Buffer {
  if (n < COPY_BELOW) {
    const exact = Buffer.allocUnsafe(n);
    scratch.copy(exact, 0, 0, n);
    return exact;
  }
  const backing = take(classes.find((c) => c.size >= n)!);
  scratch.copy(backing, FRAME_HEADROOM, 0, n);
  const chunk = backing.subarray(FRAME_HEADROOM, FRAME_HEADROOM + n);
  owners.set(chunk, backing);
  return chunk;
}

// The `onread` callbacks: Node calls them with the socket as `this`, so one function serves every
// socket and an idle one holds no closure of its own.
function emitPooledRead(this: net.Socket, n: number): boolean {
  this.emit('data', copyOut(n));
  return true;
}

function pushPooledRecord(this: tls.TLSSocket, n: number): boolean {
  return this.push(copyOut(n));
}

/** net.connect whose reads are pooled; it emits 'data' (and everything else) as usual. */
export function connectPooled(options: net.NetConnectOpts): net.Socket {
  return net.connect({ ...options, onread: { buffer: scratch, callback: emitPooledRead } } as net.NetConnectOpts);
}

/**
 * TLS sockets: Node's `onread` works for them too, but a TLS socket decrypts every record it has
 * read in one go, also after `pause()`, so emitting 'data' by hand could hand bytes to nobody
 * (between the upgrade reader and the tunnel's). The records are pushed into the stream instead:
 * buffered while it is paused, 'data' while it flows, exactly as Node does without `onread`.
 */
export function connectTlsPooled(options: tls.ConnectionOptions): tls.TLSSocket {
  return tls.connect({ ...options, onread: { buffer: scratch, callback: pushPooledRecord } } as tls.ConnectionOptions);
}

interface SocketInternals {
  _handle: { readStop?: () => number; useUserBuffer?: (buffer: Uint8Array) => void } | null;
}

/**
 * The keys under which net.Socket keeps its `onread` settings (internal symbols, found on a
 * socket made with `onread` that never connects), so an accepted TLS socket can be switched to
 * pooled reads; undefined where Node keeps them differently (then nothing is switched).
 */
const onreadKeys = ((): { buffer: symbol; callback: symbol } | undefined => {
  try {
    const probe = new net.Socket({ onread: { buffer: Buffer.alloc(1), callback: () => true } });
    const own = Object.getOwnPropertySymbols(probe);
    probe.destroy();
    const buffer = own.find((k) => k.description === 'kBuffer');
    const callback = own.find((k) => k.description === 'kBufferCb');
    return buffer && callback ? { buffer, callback } : undefined;
  } catch {
    return undefined;
  }
})();

/** An accepted TLS socket (e.g. from an HTTPS upgrade) switched to pooled reads, in place. */
function adoptTlsPooled(socket: tls.TLSSocket): tls.TLSSocket {
  const handle = (socket as unknown as SocketInternals)._handle;
  if (!onreadKeys || !handle?.useUserBuffer || socket.destroyed) return socket;
  try {
    const own = socket as unknown as Record<symbol, unknown>;
    own[onreadKeys.callback] = pushPooledRecord;
    own[onreadKeys.buffer] = scratch;
    handle.useUserBuffer(scratch);
  } catch {
    // Left as it was: pooling is an optimisation, never a requirement.
  }
  return socket;
}

/**
 * Moves an accepted TCP socket (from net.Server or an HTTP upgrade) to pooled reads. Node offers
 * `onread` only when it creates the socket, so the handle of a plain one is taken over by a new
 * Socket that has it; the new socket starts paused. A TLS socket is switched in place (its
 * records pushed into the stream, see connectTlsPooled). Anything unexpected is returned as it
 * is (pooling is an optimisation, never a requirement).
 */
export function adoptPooled(socket: net.Socket): net.Socket {
  if (socket instanceof tls.TLSSocket) return adoptTlsPooled(socket);
  const internals = socket as unknown as SocketInternals;
  const handle = internals._handle;
  if (!handle || 'encrypted' in socket || socket.destroyed || socket.readableLength > 0) {
    return socket;
  }
  try {
    handle.readStop?.();
    const adopted: net.Socket = new net.Socket({
      handle,
      allowHalfOpen: true,
      pauseOnCreate: true,
      onread: { buffer: scratch, callback: emitPooledRead },
    } as unknown as net.SocketConstructorOpts);
    internals._handle = null; // the handle now belongs to `adopted`
    // The old wrapper stays the one its server counts and tracks: it closes when the new one
    // does, and destroying it (e.g. on shutdown) destroys the new one.
    const destroyOld = socket.destroy.bind(socket);
    socket.destroy = (err?: Error) => {
      adopted.destroy(err);
      return destroyOld(err);
    };
    adopted.once('close', () => destroyOld());
    return adopted;
  } catch {
    return socket;
  }
}
