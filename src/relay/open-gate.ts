/**
 * Lets at most `limit` control channels open at once across an agent's listeners; the others queue,
 * first come, first served. Without it 1,000 Hybrid Connections started (or reconnected after a
 * relay outage) as 1,000 TLS handshakes in flight together: the relay saw a thundering herd, and
 * everything those handshakes held survived V8's young-generation collections, which grew that
 * generation to its maximum (128 MiB on a large machine) and never gave it back while idle.
 */
export class OpenGate {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`an open gate needs a limit of 1 or more, not ${limit}`);
  }

  /** A release function at once when a slot is free (no await, so no extra turn of the event loop), else undefined. */
  tryAcquire(): (() => void) | undefined {
    if (this.active >= this.limit) return undefined;
    this.active++;
    return this.releaser();
  }

  /** Resolves with a release function once a slot is free. */
  async acquire(): Promise<() => void> {
    const now = this.tryAcquire();
    if (now) return now;
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    return this.releaser();
  }

  /** Releasing twice is harmless; the slot passes straight to the next in line, so `active` stays. */
  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    };
  }

  get inUse(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }
}

/**
 * Opening a channel is a TLS handshake and a WebSocket upgrade, mostly CPU: 32 at once keep two
 * cores busy (HCM_OPEN_CONCURRENCY changes it; docs/performance.md has the measurements).
 */
export const DEFAULT_OPEN_CONCURRENCY = 32;
