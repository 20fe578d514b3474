import { describe, expect, it } from 'vitest';
import { seedSigner } from '../../src/crypto/ed25519.js';
import { InvalidInputError } from '../../src/errors.js';
import { Kernel } from '../../src/kernel/kernel.js';
import type { ViewEntry } from '../../src/state/derived-view.js';
import { MemoryLedgerStore } from '../../src/storage/memory-store.js';

const open = (seed: number) =>
  Kernel.open({ store: new MemoryLedgerStore(), signer: seedSigner(new Uint8Array(32).fill(seed)), now: () => 1000 });

describe('Kernel.appendEntries and onEntries', () => {
  it('appends entries of several kinds as one batch with one checkpoint', async () => {
    const kernel = await open(1);
    const seen: ViewEntry[][] = [];
    kernel.onEntries((entries) => seen.push([...entries]));
    const results = await kernel.appendEntries([
      { kind: 'agent.step', value: { n: 1 } },
      { kind: 'agent.refusal', value: { why: 'no right' } },
    ]);
    expect(results.map((r) => r.index)).toEqual([0, 1]);
    expect(kernel.checkpoints().map((c) => c.size)).toEqual([0, 2]);
    expect((await kernel.entries(0, 2)).map((e) => e.kind)).toEqual(['agent.step', 'agent.refusal']);
    expect(seen.map((batch) => batch.map((e) => e.kind))).toEqual([['agent.step', 'agent.refusal']]);
  });

  it('refuses the whole batch when one kind or value is bad, writing nothing', async () => {
    const kernel = await open(2);
    await expect(
      kernel.appendEntries([
        { kind: 'ok', value: 1 },
        { kind: 'Bad Kind', value: 2 },
      ]),
    ).rejects.toThrow(InvalidInputError);
    await expect(kernel.appendEntries([{ kind: 'ok', value: Number.NaN }])).rejects.toThrow(/\$\[0\]\.value/);
    await expect(kernel.appendEntries([])).rejects.toThrow(InvalidInputError);
    expect(kernel.heads()[0]!.size).toBe(0);
  });

  it('reports replicated batches to onEntries too', async () => {
    const a = await open(3);
    const b = await open(4);
    await a.appendEntries([{ kind: 'x', value: 1 }]);
    const seen: string[] = [];
    b.onEntries((entries) => seen.push(...entries.map((e) => `${e.author === a.nodeId ? 'a' : '?'}:${e.kind}`)));
    const batch = await a.readBatch(a.origin, 0, 1 << 20);
    await b.applyBatch(batch!);
    expect(seen).toEqual(['a:x']);
  });
});
