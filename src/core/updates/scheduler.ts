import { CHECK_INTERVAL_MS, CHECK_JITTER_MS } from './defaults.js';

/**
 * When to look for updates: once shortly after start, then about every 12 hours (jittered), and
 * after a failure again after the retry delay, doubling up to the regular interval. It only
 * decides when; `run` does the check and says whether it worked. Timers are unref'd, so a
 * pending check never keeps a process alive, and one check runs at a time.
 */

export interface SchedulerClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** 0 ≤ x < 1 */
  random(): number;
}

export const realClock: SchedulerClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  random: () => Math.random(),
};

export interface SchedulerOptions {
  firstDelayMs: number;
  retryDelayMs: number;
  intervalMs?: number;
  jitterMs?: number;
  clock?: SchedulerClock;
  /** Told after each check when the next one is due (e.g. to say when a failed check is retried). */
  onPlanned?: (at: number, afterFailure: boolean) => void;
}

export class UpdateScheduler {
  private readonly clock: SchedulerClock;
  private readonly intervalMs: number;
  private readonly jitterMs: number;
  private timer: unknown = null;
  private due: number | null = null;
  private failures = 0;
  private running: Promise<boolean> | null = null;
  private stopped = true;

  constructor(
    private readonly run: (explicit: boolean) => Promise<boolean>,
    private readonly options: SchedulerOptions,
  ) {
    this.clock = options.clock ?? realClock;
    this.intervalMs = options.intervalMs ?? CHECK_INTERVAL_MS;
    this.jitterMs = options.jitterMs ?? CHECK_JITTER_MS;
  }

  /** Plans the check at start: after the first delay plus up to as much again. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.plan(this.options.firstDelayMs + Math.floor(this.clock.random() * this.options.firstDelayMs));
  }

  stop(): void {
    this.stopped = true;
    this.cancel();
  }

  /** When the next check is due (ms since the epoch), or null. */
  nextAt(): number | null {
    return this.due;
  }

  /**
   * A check now (an explicit one, or the scheduled one); the next is planned from its outcome.
   * While one runs, asking again joins it.
   */
  checkNow(explicit = true): Promise<boolean> {
    if (this.running) return this.running;
    this.cancel();
    const attempt = this.run(explicit).catch(() => false);
    this.running = attempt;
    void attempt.then((ok) => {
      this.running = null;
      this.failures = ok ? 0 : this.failures + 1;
      if (this.stopped) return;
      this.plan(ok ? this.regularDelay() : this.retryDelay());
      this.options.onPlanned?.(this.due!, !ok);
    });
    return attempt;
  }

  /** A failure found after a check succeeded (e.g. its download failed): retried like a failed check. */
  reportFailure(): void {
    this.failures++;
    if (this.stopped || this.running) return;
    this.plan(this.retryDelay());
    this.options.onPlanned?.(this.due!, true);
  }

  /** Delay until the next check after a failure: the retry delay, doubling, at most the interval, ± 20 %. */
  retryDelay(): number {
    const base = Math.min(this.options.retryDelayMs * 2 ** Math.max(0, this.failures - 1), this.intervalMs);
    return Math.round(base * (0.8 + 0.4 * this.clock.random()));
  }

  regularDelay(): number {
    return Math.round(this.intervalMs - this.jitterMs + 2 * this.jitterMs * this.clock.random());
  }

  private plan(ms: number): void {
    this.cancel();
    this.due = this.clock.now() + ms;
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      this.due = null;
      void this.checkNow(false);
    }, ms);
  }

  private cancel(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.due = null;
  }
}
