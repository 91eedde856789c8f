import { describe, expect, it } from 'vitest';
import { Backoff, SLOW_RETRY_MS } from '../../src/relay/backoff.js';

describe('Backoff', () => {
  it('follows 0, 1, 2, 5, 10, 30, 30 s with ±20% jitter and resets after success', () => {
    const low = new Backoff(undefined, () => 0);
    expect([1, 2, 3, 4, 5, 6, 7].map(() => low.next())).toEqual([0, 800, 1600, 4000, 8000, 24000, 24000]);
    const high = new Backoff(undefined, () => 1);
    expect([1, 2, 3, 4, 5, 6, 7].map(() => high.next())).toEqual([0, 1200, 2400, 6000, 12000, 36000, 36000]);
    high.reset();
    expect(high.next()).toBe(0);
  });

  it('retries slowly when asked (entity gone, key refused)', () => {
    const b = new Backoff(undefined, () => 0.5);
    expect(b.next(true)).toBe(SLOW_RETRY_MS);
    const tuned = new Backoff(undefined, () => 0, 5000);
    expect([tuned.next(true), tuned.next(true)]).toEqual([4000, 4000]);
    expect(tuned.next()).toBe(1600); // the fast steps moved on underneath: third step, 2 s − 20 %
  });
});
