import { describe, expect, it } from 'vitest';
import { type LimiterTimers, WarningLimiter } from '../../src/relay/warning-limiter.js';

function manualTimers() {
  let now = 0;
  const pending = new Map<number, { at: number; fn: () => void }>();
  let next = 1;
  const timers: LimiterTimers = {
    now: () => now,
    setTimeout: (fn, ms) => {
      pending.set(next, { at: now + ms, fn });
      return next++;
    },
    clearTimeout: (h) => pending.delete(h as number),
  };
  const advance = (ms: number) => {
    now += ms;
    for (const [h, t] of [...pending]) {
      if (t.at <= now) {
        pending.delete(h);
        t.fn();
      }
    }
  };
  return { timers, advance, pending };
}

describe('WarningLimiter', () => {
  it('lets the first few through, then reports the rest once when the window ends', () => {
    const { timers, advance } = manualTimers();
    const summaries: number[] = [];
    const limiter = new WarningLimiter((n) => summaries.push(n), 3, 60_000, timers);
    const allowed = Array.from({ length: 11_000 }, () => limiter.allow()).filter(Boolean).length;
    expect(allowed).toBe(3);
    expect(summaries).toEqual([]);
    advance(60_000);
    expect(summaries).toEqual([10_997]);
    // A new window starts with a fresh allowance.
    expect(limiter.allow()).toBe(true);
    advance(120_000);
    expect(summaries).toEqual([10_997]); // nothing suppressed, no summary
  });

  it('flushes a pending summary on demand and stops its timer', () => {
    const { timers, pending } = manualTimers();
    const summaries: number[] = [];
    const limiter = new WarningLimiter((n) => summaries.push(n), 1, 60_000, timers);
    limiter.allow();
    limiter.allow();
    limiter.allow();
    expect(pending.size).toBe(1);
    limiter.flush();
    expect(summaries).toEqual([2]);
    expect(pending.size).toBe(0);
    limiter.flush();
    expect(summaries).toEqual([2]);
  });
});
