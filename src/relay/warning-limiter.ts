/**
 * Bounds how many warnings one source can produce: the first `burst` in a window are let through,
 * the rest are counted and reported once, as one summary, when the window ends (or on `flush`).
 * A relay sending thousands of junk control frames then costs a dozen log lines, not thousands.
 */

export interface LimiterTimers {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: LimiterTimers = {
  now: () => Date.now(),
  // A pending summary must not keep the process alive.
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout | undefined),
};

export const DEFAULT_WARNING_BURST = 10;
export const DEFAULT_WARNING_WINDOW_MS = 60_000;

export class WarningLimiter {
  private windowStart = Number.NEGATIVE_INFINITY;
  private allowedInWindow = 0;
  private suppressed = 0;
  private timer: unknown;

  constructor(
    /** Called with the number of warnings held back since the last summary (never 0). */
    private readonly onSummary: (suppressed: number) => void,
    private readonly burst = DEFAULT_WARNING_BURST,
    private readonly windowMs = DEFAULT_WARNING_WINDOW_MS,
    private readonly timers: LimiterTimers = realTimers,
  ) {}

  /** Whether the caller may emit this warning now; otherwise it is counted for the summary. */
  allow(): boolean {
    const now = this.timers.now();
    if (now - this.windowStart >= this.windowMs) {
      this.flush();
      this.windowStart = now;
      this.allowedInWindow = 0;
    }
    if (this.allowedInWindow < this.burst) {
      this.allowedInWindow++;
      return true;
    }
    this.suppressed++;
    if (this.timer === undefined) {
      this.timer = this.timers.setTimeout(
        () => {
          this.timer = undefined;
          this.flush();
        },
        Math.max(0, this.windowStart + this.windowMs - now),
      );
    }
    return false;
  }

  /** Reports what was held back, if anything (e.g. when the source goes away). */
  flush(): void {
    if (this.timer !== undefined) {
      this.timers.clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.suppressed === 0) return;
    const n = this.suppressed;
    this.suppressed = 0;
    this.onSummary(n);
  }
}
