import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DerivedView, type ViewEntry } from '../../src/state/derived-view.js';
import { seedSigner } from '../../src/crypto/ed25519.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { MemoryLedgerStore, type MemoryLog } from '../../src/storage/memory-store.js';
import { SimNet } from '../support/simnet.js';

const A = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const B = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
let counter = 0;
function set(author: string, seq: number, wall: number, key: string, value: unknown, base: string | null): ViewEntry {
  return { id: `id-${counter++}`, author, seq, time: { wall, count: 0 }, kind: 'set', payload: { key, value: value as never, base } };
}

describe('DerivedView', () => {
  it('a chain of writes is not drift; the latest wins', () => {
    const view = new DerivedView();
    const first = set(A, 0, 10, 'k', 1, null);
    const second = set(B, 0, 20, 'k', 2, first.id);
    view.apply(second);
    view.apply(first);
    expect(view.get('k')!.value).toBe(2);
    expect(view.drift()).toEqual([]);
  });

  it('concurrent writes from one base by different authors are drift, resolved by (time, author, seq)', () => {
    const view = new DerivedView();
    const base = set(A, 0, 10, 'policy/quota', 5, null);
    const a = set(A, 1, 30, 'policy/quota', 7, base.id);
    const b = set(B, 0, 30, 'policy/quota', 9, base.id);
    for (const e of [b, base, a]) view.apply(e);
    expect(view.get('policy/quota')!.value).toBe(9); // same time: author B > A
    const [drift] = view.drift();
    expect(drift).toMatchObject({ key: 'policy/quota', base: base.id, winner: b.id });
    expect(drift!.contenders.map((c) => c.value)).toEqual([7, 9]);
  });

  it('equal concurrent values and one author writing twice are not drift', () => {
    const view = new DerivedView();
    view.apply(set(A, 0, 1, 'x', 'same', null));
    view.apply(set(B, 0, 1, 'x', 'same', null));
    view.apply(set(A, 1, 2, 'y', 1, null));
    view.apply(set(A, 2, 2, 'y', 2, null));
    expect(view.drift()).toEqual([]);
  });

  it('malformed set payloads are kept in the timeline but never become state', () => {
    const view = new DerivedView();
    view.apply({ id: 'bad', author: A, seq: 0, time: { wall: 1, count: 0 }, kind: 'set', payload: { key: 7 } });
    expect(view.entries()).toEqual([]);
    expect(view.malformedSets).toBe(1);
    expect(view.size).toBe(1);
  });

  it('the view depends only on the set of entries, not on arrival order or repeats (property)', () => {
    const entries = fc.array(
      fc.record({
        author: fc.constantFrom(A, B, 'cccccccccccccccccccccccccccccccc'),
        wall: fc.integer({ min: 0, max: 5 }),
        key: fc.constantFrom('a', 'b', 'c'),
        value: fc.integer({ min: 0, max: 3 }),
        base: fc.nat(),
      }),
      { maxLength: 30 },
    );
    fc.assert(
      fc.property(entries, fc.integer(), (raw, seed) => {
        const seqs = new Map<string, number>();
        const built: ViewEntry[] = [];
        for (const r of raw) {
          const seq = seqs.get(r.author) ?? 0;
          seqs.set(r.author, seq + 1);
          const base = built.length > 0 && r.base % 3 !== 0 ? built[r.base % built.length]!.id : null;
          built.push(set(r.author, seq, r.wall, r.key, r.value, base));
        }
        const one = new DerivedView();
        for (const e of built) one.apply(e);
        const shuffled = [...built, ...built.slice(0, 3)];
        let x = seed;
        for (let i = shuffled.length - 1; i > 0; i--) {
          x = (x * 1103515245 + 12345) & 0x7fffffff;
          const j = x % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
        }
        const two = new DerivedView();
        for (const e of shuffled) two.apply(e);
        expect(two.digest()).toBe(one.digest());
        expect(two.drift()).toEqual(one.drift());
        expect(two.timeline()).toEqual(one.timeline());
      }),
    );
  });
});

describe('derived state across a federation', () => {
  it('writes in two partitions to one policy become one drift event on every node', async () => {
    const net = await SimNet.create({ seed: 21, nodes: 4 });
    await net.nodes[0]!.kernel.set('policy/retention', '30d');
    expect(await net.converge(10_000)).toBe(true);
    net.partition([0, 0, 1, 1]);
    await net.nodes[0]!.kernel.set('policy/retention', '7d');
    await net.nodes[3]!.kernel.set('policy/retention', '90d');
    await net.nodes[1]!.kernel.set('policy/other', 'no conflict');
    await net.run(2000);
    net.heal();
    expect(await net.converge(30_000)).toBe(true);
    const digests = new Set(net.nodes.map((n) => n.kernel.viewDigest()));
    expect(digests.size).toBe(1);
    for (const node of net.nodes) {
      const drift = node.kernel.drift();
      expect(drift).toHaveLength(1);
      expect(drift[0]!.key).toBe('policy/retention');
      expect(drift[0]!.contenders.map((c) => c.value).sort()).toEqual(['7d', '90d']);
      expect(node.kernel.state().find((kv) => kv.key === 'policy/other')!.value).toBe('no conflict');
    }
    // After seeing the drift, a new write based on the winner settles the key without new drift.
    await net.nodes[2]!.kernel.set('policy/retention', '14d');
    expect(await net.converge(10_000)).toBe(true);
    for (const node of net.nodes) {
      expect(node.kernel.state().find((kv) => kv.key === 'policy/retention')!.value).toBe('14d');
      expect(node.kernel.drift()).toHaveLength(1);
    }
  });

  it('the derived view is rebuilt from the verified logs on reopen', async () => {
    const data = new Map<string, MemoryLog>();
    const signer = seedSigner(new Uint8Array(32).fill(5));
    const first = await Kernel.open({ store: new MemoryLedgerStore(data), signer, now: () => 1 });
    await first.set('a', 1);
    await first.set('a', 2);
    await first.append('plain data');
    const again = await Kernel.open({ store: new MemoryLedgerStore(data), signer, now: () => 2 });
    expect(again.state().map((kv) => [kv.key, kv.value])).toEqual([['a', 2]]);
    expect(again.viewDigest()).toBe(first.viewDigest());
    expect(again.timeline().map((e) => e.kind)).toEqual(['set', 'set', 'data']);
  });

  it('set() refuses bad keys and non-JSON values without writing', async () => {
    const kernel = await Kernel.open({ store: new MemoryLedgerStore(), signer: seedSigner(new Uint8Array(32).fill(6)), now: () => 1 });
    await expect(kernel.set('', 1)).rejects.toThrow(/key/);
    await expect(kernel.set('k', () => 1)).rejects.toThrow(/not a JSON value/);
    expect(kernel.heads()[0]!.size).toBe(0);
  });
});
