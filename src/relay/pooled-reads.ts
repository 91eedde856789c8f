import net from 'node:net';

/**
 * Socket reads without a fresh allocation per read. Node allocates a new 64 KiB buffer for
 * every read; at relay speeds the garbage collector then spends about a third of the agent's CPU
 * freeing them (measured: docs/performance.md). Sockets opened here read into one scratch buffer
 * shared by the process (reads are synchronous, one at a time) of up to 256 KiB, and what a read
 * brings is copied into a buffer taken from a small recycling pool. The consumer hands chunks
 * back with `releaseChunk` once every write of them has completed; a chunk never handed back is
 * simply collected.
 *
 * Small reads are copied into exact-size buffers instead, so a trickle of small messages never
 * pins large pooled buffers (bounded: a pooled chunk is at least half full).
 */

const READ_SIZE = 256 * 1024;
const SIZE_CLASSES = [64 * 1024, READ_SIZE] as const;
/** Reads smaller than this get their own exact-size buffer. */
const COPY_BELOW = 32 * 1024;
/** Free buffers kept per size class (bounds the pool at 32 x 320 KiB = 10 MiB). */
const MAX_FREE = 32;

const scratch = Buffer.allocUnsafe(READ_SIZE);
const free = new Map<number, Buffer[]>(SIZE_CLASSES.map((size) => [size, []]));
const owners = new WeakMap<Buffer, Buffer>();

function take(size: number): Buffer {
  return free.get(size)!.pop() ?? Buffer.allocUnsafe(size);
}

/** Gives a chunk from a pooled socket back once nothing refers to its bytes any more. */
export function releaseChunk(chunk: Buffer): void {
  const backing = owners.get(chunk);
  if (!backing) return;
  owners.delete(chunk);
  const list = free.get(backing.length);
  if (list && list.length < MAX_FREE) list.push(backing);
}

function copyOut(n: number): Buffer {
  if (n < COPY_BELOW) {
    const exact = Buffer.allocUnsafe(n);
    scratch.copy(exact, 0, 0, n);
    return exact;
  }
  const backing = take(SIZE_CLASSES.find((size) => size >= n)!);
  scratch.copy(backing, 0, 0, n);
  const chunk = backing.subarray(0, n);
  owners.set(chunk, backing);
  return chunk;
}

/** net.connect whose reads are pooled; it emits 'data' (and everything else) as usual. */
export function connectPooled(options: net.NetConnectOpts): net.Socket {
  const socket: net.Socket = net.connect({
    ...options,
    onread: {
      buffer: scratch,
      callback: (n: number) => {
        socket.emit('data', copyOut(n));
        return true;
      },
    },
  } as net.NetConnectOpts);
  return socket;
}

interface SocketInternals {
  _handle: { readStop?: () => number } | null;
}

/**
 * Moves an accepted plain TCP socket (from net.Server or an HTTP upgrade) to pooled reads. Node
 * offers `onread` only when it creates the socket, so the handle is taken over by a new Socket
 * that has it; the new socket starts paused. TLS sockets and anything unexpected are returned
 * as they are (pooling is an optimisation, never a requirement).
 */
export function adoptPooled(socket: net.Socket): net.Socket {
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
      onread: {
        buffer: scratch,
        callback: (n: number) => {
          adopted.emit('data', copyOut(n));
          return true;
        },
      },
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
