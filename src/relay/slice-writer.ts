import type { Writable } from 'node:stream';
import { releaseChunk } from './pooled-reads.js';

/**
 * Forwards what a parser finds in each read to `dst`, for the tunnel (data-pipe.ts) and the relay
 * emulator (frame-relay.ts) alike:
 *  - everything written while one read is parsed leaves in one write: `dst` stays corked until
 *    the end of the tick (a read can end one frame and start the next);
 *  - from a TLS source, until the event loop's check phase instead (`setImmediate`): a TLS socket
 *    emits one 16 KiB record per 'data' event, each its own tick, so per tick was one write
 *    system call per record; per loop turn the records of one socket read leave together, which
 *    halved the agent's CPU per GiB over wss (docs/performance.md). For plain sources the read is
 *    the natural unit: batching across reads there queued megabytes before the first write;
 *  - a pooled chunk (pooled-reads.ts) goes back to its pool once the parse is over and every
 *    write of a slice of it has completed. The count starts at 1 for the parse itself, so it
 *    cannot reach 0 half way through.
 *
 * An idle writer holds no closure and no chunk: a tunnel lives as long as its connection, and an
 * agent may hold thousands of idle ones (docs/performance.md, memory per idle tunnel).
 */
export class SliceWriter {
  private corked = false;
  /** The read being parsed, while `forward` runs. */
  private batch: ChunkWrites | undefined;
  private readonly acrossRecords: boolean;

  /** `tlsSource`: the chunks come from a TLS socket (default: when `dst` is one, as in the relay emulator). */
  constructor(
    private readonly dst: Writable,
    tlsSource?: boolean,
  ) {
    this.acrossRecords = tlsSource ?? 'encrypted' in dst;
  }

  /** Runs `parser` over `chunk`; `write` calls made meanwhile are slices of it. */
  forward(chunk: Buffer, parser: { push(chunk: Buffer): void }): void {
    if (!this.corked) {
      this.corked = true;
      this.dst.cork();
      if (this.acrossRecords) setImmediate(uncork, this);
      else process.nextTick(uncork, this);
    }
    const batch = new ChunkWrites(chunk);
    this.batch = batch;
    parser.push(chunk);
    this.batch = undefined;
    batch.written();
  }

  write(bytes: Buffer): void {
    const batch = this.batch;
    if (!batch) {
      this.dst.write(bytes);
      return;
    }
    batch.outstanding++;
    this.dst.write(bytes, batch.written);
  }

  /** @internal the end of the tick (or loop turn) that first corked `dst`. */
  uncorkNow(): void {
    this.corked = false;
    this.dst.uncork();
  }
}

function uncork(writer: SliceWriter): void {
  writer.uncorkNow();
}

/** The writes of slices of one read: the chunk goes back to its pool after the last. */
class ChunkWrites {
  outstanding = 1;
  constructor(private readonly chunk: Buffer) {}
  readonly written = (): void => {
    if (--this.outstanding === 0) releaseChunk(this.chunk);
  };
}
