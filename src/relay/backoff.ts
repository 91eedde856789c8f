/**
 * Reconnect delays: the official client's 0, 1, 2, 5, 10, 30, 30… seconds, with ±20% jitter so a
 * fleet of agents does not reconnect in lock-step after a relay outage. Entity-gone (404) and
 * key problems (401/403) will not fix themselves quickly, so they are retried every few minutes.
 */
export const RECONNECT_STEPS_MS = [0, 1_000, 2_000, 5_000, 10_000, 30_000] as const;
export const SLOW_RETRY_MS = 120_000;
/**
 * A channel counts as a success, and the steps start again from 0, only once it has stayed up
 * this long: a relay that accepts the channel and drops it at once must not be retried in a loop.
 */
export const STABLE_AFTER_MS = 30_000;

export class Backoff {
  private attempt = 0;
  constructor(
    private readonly steps: readonly number[] = RECONNECT_STEPS_MS,
    private readonly random: () => number = Math.random,
    private readonly slowRetryMs: number = SLOW_RETRY_MS,
  ) {}

  /** Delay before the next attempt; each call moves one step further. */
  next(slow = false): number {
    const base = slow ? this.slowRetryMs : this.steps[Math.min(this.attempt, this.steps.length - 1)]!;
    this.attempt++;
    if (base === 0) return 0;
    return Math.round(base * (0.8 + 0.4 * this.random()));
  }

  /** After a success (a channel that stayed up, see STABLE_AFTER_MS) the sequence starts again from 0. */
  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
