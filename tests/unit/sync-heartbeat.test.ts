import { describe, expect, it } from 'vitest';
import { seedSigner } from '../../src/crypto/ed25519.js';
import { decodeEnvelope } from '../../src/federation/messages.js';
import { SyncEngine } from '../../src/federation/sync-engine.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { MemoryLedgerStore } from '../../src/storage/memory-store.js';

/**
 * Heartbeats go out every heartbeatMs while there is something to reconcile, and every
 * 2 × heartbeatMs (at most half the peer timeout) while every root agrees.
 */
const MANIFEST = { region: 't', shard: 't', types: [], capabilities: [], trust: 'experimental', started: 0, software: 't' } as const;

async function federation(count: number) {
  let now = 0;
  const wire: { from: number; bytes: Uint8Array; to: string | undefined }[] = [];
  const beats: { from: number; at: number }[] = [];
  const nodes = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const seed = i + 1;
      const kernel = await Kernel.open({
        store: new MemoryLedgerStore(),
        signer: seedSigner(new Uint8Array(32).fill(seed)),
        now: () => now,
      });
      const engine = new SyncEngine({
        host: kernel,
        signer: seedSigner(new Uint8Array(32).fill(seed)),
        manifest: MANIFEST,
        now: () => now,
        randomBytes: (n) => new Uint8Array(n).fill(seed),
        send: (bytes, to) => {
          const body = decodeEnvelope(bytes).body;
          if (body.type === 'HEARTBEAT' && to === undefined) beats.push({ from: i, at: now });
          wire.push({ from: i, bytes, to });
        },
      });
      return { kernel, engine };
    }),
  );
  const deliver = async () => {
    for (let round = 0; round < 50 && wire.length > 0; round++) {
      for (const { from, bytes, to } of wire.splice(0)) {
        for (const [i, node] of nodes.entries()) {
          if (i !== from && (to === undefined || to === node.engine.nodeId)) await node.engine.receive(bytes, `link-${from}`);
        }
      }
      for (const node of nodes) await node.engine.settled();
    }
  };
  /** Advances the clock in 100 ms ticks for `ms`, delivering everything after each tick. */
  const run = async (ms: number) => {
    for (let t = 0; t < ms; t += 100) {
      now += 100;
      for (const node of nodes) await node.engine.tick();
      await deliver();
    }
  };
  for (const node of nodes) await node.engine.start();
  await deliver();
  return { nodes, beats, run, deliver, now: () => now };
}

const gaps = (beats: { from: number; at: number }[], from: number, after: number) => {
  const times = beats.filter((b) => b.from === from && b.at > after).map((b) => b.at);
  return times.slice(1).map((t, i) => t - times[i]!);
};

describe('heartbeat cadence', () => {
  it('slows to every 2 s while all roots agree, and peers never expire', async () => {
    const { nodes, beats, run } = await federation(3);
    await nodes[0]!.kernel.append({ hello: 1 });
    await run(3000);
    expect(new Set(nodes.map((n) => n.kernel.stateRoot())).size).toBe(1);
    const settledAt = 3000;
    await run(20_000);
    for (let i = 0; i < 3; i++) {
      const between = gaps(beats, i, settledAt);
      expect(between.length).toBeGreaterThanOrEqual(8);
      for (const gap of between) expect(gap).toBe(2000);
      expect(nodes[i]!.engine.peers()).toHaveLength(2);
    }
  });

  it('goes back to every 1 s as soon as its root changes', async () => {
    const { nodes, beats, run, now } = await federation(2);
    await run(6000);
    expect(gaps(beats, 0, 2000).every((gap) => gap === 2000)).toBe(true);
    const [a, b] = nodes;
    const changedAt = now();
    await a!.kernel.append({ change: 1 });
    await run(4000);
    // The REPLICATE went out at once and the roots agree again, but a's root is not the one
    // it last broadcast: its next heartbeat comes at most 1 s after the previous one.
    const before = beats.filter((beat) => beat.from === 0 && beat.at <= changedAt).at(-1)!.at;
    const next = beats.find((beat) => beat.from === 0 && beat.at > changedAt)!.at;
    expect(next - before).toBeLessThanOrEqual(1000);
    expect(b!.kernel.stateRoot()).toBe(a!.kernel.stateRoot());
  });
});
