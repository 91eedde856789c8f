import { describe, expect, it } from 'vitest';
import { OpenGate } from '../../src/relay/open-gate.js';

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('OpenGate', () => {
  it('lets `limit` in at once and queues the rest, first come, first served', async () => {
    const gate = new OpenGate(2);
    const order: number[] = [];
    const releases: Array<() => void> = [];
    for (const n of [1, 2, 3, 4]) {
      void gate.acquire().then((release) => {
        order.push(n);
        releases.push(release);
      });
    }
    await flush();
    expect(order).toEqual([1, 2]);
    expect([gate.inUse, gate.queued]).toEqual([2, 2]);
    releases[1]!();
    await flush();
    expect(order).toEqual([1, 2, 3]);
    releases[0]!();
    await flush();
    expect(order).toEqual([1, 2, 3, 4]);
    expect([gate.inUse, gate.queued]).toEqual([2, 0]);
    releases[2]!();
    releases[3]!();
    expect(gate.inUse).toBe(0);
  });

  it('takes a free slot without waiting, and none when full', () => {
    const gate = new OpenGate(1);
    const release = gate.tryAcquire();
    expect(release).toBeTypeOf('function');
    expect(gate.tryAcquire()).toBeUndefined();
    release!();
    expect(gate.tryAcquire()).toBeTypeOf('function');
  });

  it('counts a slot released twice once', async () => {
    const gate = new OpenGate(1);
    const first = gate.tryAcquire()!;
    let second: (() => void) | undefined;
    void gate.acquire().then((r) => (second = r));
    first();
    first();
    await flush();
    expect(second).toBeTypeOf('function');
    expect([gate.inUse, gate.queued]).toEqual([1, 0]);
    expect(gate.tryAcquire()).toBeUndefined();
  });

  it('refuses a limit below one', () => {
    expect(() => new OpenGate(0)).toThrow(/limit of 1 or more, not 0/);
    expect(() => new OpenGate(1.5)).toThrow(/not 1.5/);
  });
});
