import { describe, expect, it } from 'vitest';
import { SimNet } from '../support/simnet.js';

/**
 * The cost bound of docs/SYNC.md, measured on the wire between two nodes: catching up Δ
 * missing entries costs about their bytes plus a constant and O(log n) hashes — not a
 * function of how large the logs already are.
 */
async function catchUpCost(existing: number, missing: number): Promise<{ wire: number; entryBytes: number; messages: number }> {
  const net = await SimNet.create({ seed: 31, nodes: 2, minDelayMs: 1, maxDelayMs: 1, sync: { heartbeatMs: 1000 } });
  const [behind, ahead] = net.nodes as [(typeof net.nodes)[0], (typeof net.nodes)[0]];
  for (let done = 0; done < existing; done += 500) {
    await ahead.kernel.appendMany(Array.from({ length: Math.min(500, existing - done) }, (_, i) => ({ n: done + i, pad: 'x'.repeat(40) })));
  }
  expect(await net.converge(60_000)).toBe(true);
  net.partition([0, 1]);
  // The worst case for checkpoints: every missing entry was its own batch.
  for (let i = 0; i < missing; i++) await ahead.kernel.append({ n: existing + i, pad: 'y'.repeat(40) });
  await net.run(1500);
  const origin = ahead.kernel.origin;
  const size = ahead.kernel.heads().find((h) => h.origin === origin)!.size;
  const entryBytes = (await ahead.kernel.readEntryBytes(existing, size, origin)).reduce((sum, e) => sum + e.length, 0);
  const before = { ...net.traffic };
  net.heal();
  expect(await net.converge(60_000, 100)).toBe(true);
  expect(behind.kernel.viewDigest()).toBe(ahead.kernel.viewDigest());
  const cost = { wire: net.traffic.bytes - before.bytes, entryBytes, messages: net.traffic.messages - before.messages };
  if (process.env['NAOS_PRINT_COST']) console.log(`COST existing=${existing} missing=${missing}`, JSON.stringify(cost));
  return cost;
}

describe('reconciliation cost', () => {
  it('catching up 2000 missing entries costs ≤ 1.2× their bytes plus a constant', async () => {
    const { wire, entryBytes, messages } = await catchUpCost(0, 2000);
    // Heartbeats, heads exchange and envelopes: a few KB regardless of Δ.
    expect(wire).toBeLessThanOrEqual(1.2 * entryBytes + 8 * 1024);
    expect(messages).toBeLessThan(20);
  }, 120_000);

  it('the cost does not grow with the entries both sides already hold', async () => {
    const small = await catchUpCost(0, 300);
    const large = await catchUpCost(6000, 300);
    // Only the consistency proof grows: 32 bytes per level of the tree.
    expect(large.wire - small.wire).toBeLessThanOrEqual(32 * 14 + 1024);
    expect(large.messages).toBeLessThanOrEqual(small.messages + 2);
  }, 120_000);
});
