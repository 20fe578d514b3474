import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../src/federation/rate-limit.js';
import { ReplayWindow } from '../../src/federation/replay-window.js';

describe('ReplayWindow', () => {
  it('accepts each number once, tolerates reordering inside the window, refuses older', () => {
    const w = new ReplayWindow(4);
    expect([5, 3, 4, 5, 3].map((n) => w.accept(n))).toEqual([true, true, true, false, false]);
    expect(w.accept(10)).toBe(true);
    expect(w.accept(6)).toBe(false); // 10 - 4 = 6: outside the window
    expect(w.accept(7)).toBe(true);
  });
});

describe('TokenBucket', () => {
  it('allows a burst, then the rate', () => {
    const b = new TokenBucket(10, 5);
    const first = Array.from({ length: 7 }, () => b.take(0));
    expect(first).toEqual([true, true, true, true, true, false, false]);
    expect(b.take(100)).toBe(true); // 0.1 s later: one token
    expect(b.take(100)).toBe(false);
    expect(b.take(-1000)).toBe(false); // a clock going back gives nothing
  });
});
