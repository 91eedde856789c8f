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
 */
export class SliceWriter {
  private writeSlice: (bytes: Buffer) => void;
  private corked = false;
  private readonly uncork = () => {
    this.corked = false;
    this.dst.uncork();
  };

  private readonly acrossRecords: boolean;

  /** `tlsSource`: the chunks come from a TLS socket (default: when `dst` is one, as in the relay emulator). */
  constructor(
    private readonly dst: Writable,
    tlsSource?: boolean,
  ) {
    this.writeSlice = (bytes) => dst.write(bytes);
    this.acrossRecords = tlsSource ?? 'encrypted' in dst;
  }

  /** Runs `parse` over `chunk`; `write` calls made meanwhile are slices of it. */
  forward(chunk: Buffer, parse: () => void): void {
    if (!this.corked) {
      this.corked = true;
      this.dst.cork();
      if (this.acrossRecords) setImmediate(this.uncork);
      else process.nextTick(this.uncork);
    }
    let outstanding = 1;
    const written = () => {
      if (--outstanding === 0) releaseChunk(chunk);
    };
    this.writeSlice = (bytes) => {
      outstanding++;
      this.dst.write(bytes, written);
    };
    parse();
    written();
  }

  write(bytes: Buffer): void {
    this.writeSlice(bytes);
  }
}
