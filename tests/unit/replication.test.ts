import { describe, expect, it } from 'vitest';
import { seedSigner } from '../../src/crypto/ed25519.js';
import { logOrigin, nodeIdFromPublicKey } from '../../src/identity/node-id.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { signCheckpoint } from '../../src/ledger/checkpoint.js';
import { encodeEntry } from '../../src/ledger/entry.js';
import { BatchRejectedError, type LogBatch } from '../../src/ledger/log-batch.js';
import { formatVerifierKey, makeVerifier } from '../../src/ledger/note.js';
import { MerkleTree } from '../../src/merkle/tree.js';
import { MemoryLedgerStore, type MemoryLog } from '../../src/storage/memory-store.js';

const seed = (n: number) => new Uint8Array(32).fill(n);
const open = (n: number, data = new Map<string, MemoryLog>()) =>
  Kernel.open({ store: new MemoryLedgerStore(data), signer: seedSigner(seed(n)), now: () => 1000 });

async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof BatchRejectedError) return error.reason;
    throw error;
  }
  throw new Error('batch was accepted');
}

describe('replicating a log between kernels', () => {
  it('copies a log batch by batch until both state roots are equal', async () => {
    const a = await open(1);
    const b = await open(2);
    for (let i = 0; i < 5; i++) await a.appendMany([i, `${i}`]);
    let start = 0;
    for (;;) {
      const batch = await a.readBatch(a.origin, start, 40);
      if (!batch) break;
      expect((await b.applyBatch(batch)).status).toBe('applied');
      start = batch.start + batch.entries.length;
    }
    expect(b.heads().find((h) => h.origin === a.origin)).toEqual(a.heads().find((h) => h.origin === a.origin));
    expect(b.checkpoint(a.origin)).toBe(a.checkpoint());
    // b now also serves a's log to a third node, with the same checkpoints it received.
    const c = await open(3);
    const relayed = await b.readBatch(a.origin, 0, 1 << 20);
    expect((await c.applyBatch(relayed!)).status).toBe('applied');
    expect(c.heads().find((h) => h.origin === a.origin)!.root).toBe(a.heads()[0]!.root);
  });

  it('batches end at held checkpoints and respect the byte budget (at least one interval)', async () => {
    const a = await open(1);
    for (let i = 0; i < 6; i++) await a.append('x'.repeat(100));
    const small = await a.readBatch(a.origin, 0, 10);
    expect(small!.entries.length).toBe(1);
    const big = await a.readBatch(a.origin, 2, 1 << 20);
    expect([big!.start, big!.entries.length, big!.proof.length > 0]).toEqual([2, 4, true]);
    expect(await a.readBatch(a.origin, 6, 100)).toBeUndefined();
    expect(await a.readBatch('naos/nobody', 0, 100)).toBeUndefined();
  });

  it('reports a gap, a duplicate, and survives a reopen of the replica', async () => {
    const a = await open(1);
    await a.append(1);
    await a.append(2);
    const data = new Map<string, MemoryLog>();
    const b = await open(2, data);
    const second = (await a.readBatch(a.origin, 1, 1 << 20))!;
    expect(await b.applyBatch(second)).toEqual({ status: 'gap', have: 0 });
    const first = (await a.readBatch(a.origin, 0, 1))!;
    expect((await b.applyBatch(first)).status).toBe('applied');
    expect((await b.applyBatch(first)).status).toBe('duplicate');
    expect((await b.applyBatch(second)).status).toBe('applied');
    const reopened = await open(2, data);
    expect(reopened.status().state).toBe('ok');
    expect(reopened.heads().find((h) => h.origin === a.origin)!.size).toBe(2);
  });

  describe('refuses forged or broken batches, storing nothing', () => {
    async function setup() {
      const a = await open(1);
      await a.appendMany([1, 2, 3]);
      await a.append(4);
      const b = await open(2);
      await b.applyBatch((await a.readBatch(a.origin, 0, 1))!);
      const batch = (await a.readBatch(a.origin, 3, 1 << 20))!;
      return { a, b, batch };
    }

    const cases: [string, (batch: LogBatch, a: Kernel) => LogBatch | Promise<LogBatch>, string][] = [
      [
        'a flipped payload byte (still valid CBOR)',
        (batch) => ({ ...batch, entries: batch.entries.map((e) => flipLast(e)) }),
        'root-mismatch',
      ],
      ['a malformed entry', (batch) => ({ ...batch, entries: batch.entries.map((e) => e.slice(1)) }), 'bad-entry'],
      [
        'a substituted valid entry',
        (batch, a) => ({
          ...batch,
          entries: [encodeEntry({ v: 1, kind: 'data', author: a.nodeId, seq: 3, time: { wall: 1, count: 0 }, payload: 'forged' })],
        }),
        'root-mismatch',
      ],
      ['a checkpoint signed by another key', async (batch) => ({ ...batch, checkpoint: (await open(9)).checkpoint() }), 'bad-checkpoint'],
      [
        'a mangled signature',
        (batch) => ({
          ...batch,
          checkpoint: batch.checkpoint.replace(/ (\S)(\S*)\n$/, (_, c: string, r: string) => ` ${c === 'A' ? 'B' : 'A'}${r}\n`),
        }),
        'bad-checkpoint',
      ],
      ['a dropped entry', (batch) => ({ ...batch, entries: [] }), 'bad-checkpoint'],
      ['a wrong consistency proof', (batch) => ({ ...batch, proof: batch.proof.map((p) => flipLast(p)) }), 'bad-proof'],
      ['a missing consistency proof', (batch) => ({ ...batch, proof: [] }), 'bad-proof'],
      ['a verifier key of another node', async (batch) => ({ ...batch, verifierKey: (await open(9)).verifierKey }), 'bad-key'],
      ['a malformed verifier key', (batch) => ({ ...batch, verifierKey: 'nonsense' }), 'bad-key'],
    ];
    for (const [name, forge, reason] of cases) {
      it(name, async () => {
        const { a, b, batch } = await setup();
        const before = b.stateRoot();
        expect(await rejection(b.applyBatch(await forge(batch, a)))).toBe(reason);
        expect(b.stateRoot()).toBe(before);
        expect((await b.applyBatch(batch)).status).toBe('applied');
      });
    }
  });

  it('detects a fork: the same key signing two different histories', async () => {
    const honest = await open(1);
    const twin = await open(1); // same key, different store: an equivocating author
    await honest.append('history A');
    await twin.append('history B');
    const b = await open(2);
    await b.applyBatch((await honest.readBatch(honest.origin, 0, 100))!);
    expect(await rejection(b.applyBatch((await twin.readBatch(twin.origin, 0, 100))!))).toBe('fork');
  });
});

function flipLast(bytes: Uint8Array): Uint8Array {
  const copy = bytes.slice();
  copy[copy.length - 1]! ^= 1;
  return copy;
}

describe('an author whose times do not rise along its log', () => {
  const author = seedSigner(seed(7));
  const authorId = nodeIdFromPublicKey(author.publicKey);
  const origin = logOrigin(authorId);
  const entry = (seq: number, wall: number, count = 0) =>
    encodeEntry({ v: 1, kind: 'data', author: authorId, seq, time: { wall, count }, payload: { seq } });

  /** Entries [start, end) of `entries`, with a checkpoint at `end` the author really signed. */
  async function signed(entries: Uint8Array[], start: number, end: number): Promise<LogBatch> {
    const tree = new MerkleTree();
    for (const bytes of entries.slice(0, end)) tree.appendData(bytes);
    return {
      origin,
      verifierKey: formatVerifierKey(makeVerifier(origin, author.publicKey)),
      start,
      entries: entries.slice(start, end),
      checkpoint: await signCheckpoint({ origin, size: end, root: tree.root(end), extensions: [] }, author),
      proof: start > 0 ? tree.consistencyProof(start, end) : [],
    };
  }

  const held = (kernel: Kernel) => kernel.heads().find((h) => h.origin === origin)?.size ?? 0;

  it('is refused from the entry dated back (or at the same time), though the author signed it, and nothing of the batch is kept', async () => {
    const b = await open(2);
    for (const second of [entry(1, 4000), entry(1, 5000)]) {
      const batch = await signed([entry(0, 5000), second, entry(2, 6000)], 0, 3);
      await expect(b.applyBatch(batch)).rejects.toThrow(/bad-entry.*entry 1 is dated \d+\.0, not after entry 0 \(5000\.0\)/);
      expect(held(b)).toBe(0);
    }
    // The same author's log with rising times (the counter breaks ties of one wall time) is taken.
    const rising = await signed([entry(0, 5000), entry(1, 5000, 1), entry(2, 6000)], 0, 3);
    expect(await b.applyBatch(rising)).toEqual({ status: 'applied', size: 3 });
  });

  it('is refused across batches, also after the node reopened from its store', async () => {
    const data = new Map<string, MemoryLog>();
    const b = await open(2, data);
    const entries = [entry(0, 5000), entry(1, 6000), entry(2, 5500)];
    expect((await b.applyBatch(await signed(entries, 0, 2))).status).toBe('applied');
    const back = await signed(entries, 2, 3);
    expect(await rejection(b.applyBatch(back))).toBe('bad-entry');
    await b.close();
    const reopened = await open(2, data);
    expect(held(reopened)).toBe(2);
    expect(await rejection(reopened.applyBatch(back))).toBe('bad-entry');
    expect(held(reopened)).toBe(2);
    const onwards = await signed([entries[0]!, entries[1]!, entry(2, 6001)], 2, 3);
    expect(await reopened.applyBatch(onwards)).toEqual({ status: 'applied', size: 3 });
  });
});
