import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../adapters/libp2p/keep-connected.js';

describe('reconnect backoff (no reconnect storms)', () => {
  const policy = { minDelayMs: 500, maxDelayMs: 30_000, factor: 2, jitter: 0.5 };

  it('doubles from the minimum up to the cap, with the jitter part random', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((attempt) => backoffDelay(attempt, policy, 1))).toEqual([
      500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000,
    ]);
    expect([0, 1, 2].map((attempt) => backoffDelay(attempt, policy, 0))).toEqual([250, 500, 1000]);
  });

  it('stays within [base·(1 − jitter), base] and never below the floor (property)', () => {
    fc.assert(
      fc.property(fc.nat(60), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, r) => {
        const base = Math.min(policy.maxDelayMs, policy.minDelayMs * 2 ** attempt);
        const delay = backoffDelay(attempt, policy, r);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(base * (1 - policy.jitter)));
        expect(delay).toBeLessThanOrEqual(base);
      }),
    );
  });

  it('spreads nodes that lost the same relay at the same moment', () => {
    const delays = Array.from({ length: 100 }, (_, i) => backoffDelay(0, policy, i / 100));
    expect(new Set(delays).size).toBeGreaterThan(90);
    expect(Math.max(...delays) - Math.min(...delays)).toBeGreaterThanOrEqual(240);
  });
});
