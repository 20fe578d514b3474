import { describe, expect, it } from 'vitest';
import { fromHex } from '../../src/bytes.js';
import { seedSigner } from '../../src/crypto/ed25519.js';
import { Kernel } from '../../src/kernel/kernel.js';
import {
  EQUIVOCATION_KIND,
  type Equivocation,
  EvidenceError,
  makeEquivocation,
  verifyEquivocation,
} from '../../src/ledger/equivocation.js';
import { encodeEntry } from '../../src/ledger/entry.js';
import { BatchRejectedError } from '../../src/ledger/log-batch.js';
import { MemoryLedgerStore, type MemoryLog } from '../../src/storage/memory-store.js';
import { sameSize, twoHistories } from '../support/twins.js';

const seed = (n: number) => new Uint8Array(32).fill(n);
const open = (n: number, data = new Map<string, MemoryLog>()) =>
  Kernel.open({ store: new MemoryLedgerStore(data), signer: seedSigner(seed(n)), now: () => 1000 });

/** a smaller, b larger: the consistency proof comes from b's tree. */
function differentSizes(small: Kernel, large: Kernel): Equivocation {
  const size1 = small.heads()[0]!.size;
  const proof = large.proveConsistency(size1);
  return makeEquivocation({
    origin: small.origin,
    verifierKey: small.verifierKey,
    notes: [
      { note: large.checkpoint(), size: proof.size2 },
      { note: small.checkpoint(), size: size1 },
    ],
    consistency: { root: fromHex(proof.root1), proof: proof.proof.map((p) => fromHex(p)) },
  });
}

async function refusal(value: unknown): Promise<string> {
  try {
    await verifyEquivocation(value);
  } catch (error) {
    if (error instanceof EvidenceError) return error.reason;
    throw error;
  }
  throw new Error('evidence was accepted');
}

describe('equivocation evidence (F11), checked offline', () => {
  it('two roots signed at one size prove an equivocation', async () => {
    const { honest, twin } = await twoHistories(2, 2);
    const evidence = sameSize(honest, twin);
    expect(evidence.consistency).toBeUndefined();
    const verified = await verifyEquivocation(JSON.parse(JSON.stringify(evidence)));
    expect(verified).toMatchObject({ origin: honest.origin, author: honest.nodeId, forkSize: 2, sizes: [2, 2] });
    expect(verified.id).toMatch(/^[0-9a-f]{64}$/);
    expect(verified.detail).toContain('two signed roots at size 2');
    // The order of the two notes is canonical: the same pair gives the same record and id.
    const swapped = makeEquivocation({
      origin: honest.origin,
      verifierKey: honest.verifierKey,
      notes: [
        { note: twin.checkpoint(), size: 2 },
        { note: honest.checkpoint(), size: 2 },
      ],
    });
    expect(swapped).toEqual(evidence);
  });

  it('checkpoints of different sizes prove one when the larger tree had another root at the smaller size', async () => {
    const { honest, twin } = await twoHistories(2, 5);
    const verified = await verifyEquivocation(differentSizes(honest, twin));
    expect(verified).toMatchObject({ forkSize: 2, sizes: [2, 5] });
    expect(verified.detail).toContain('consistency proof');
  });

  it('refuses records that prove nothing or are forged', async () => {
    const { honest, twin } = await twoHistories(2, 5);
    const good = differentSizes(honest, twin);
    const other = await open(9);
    await other.append('x');
    // An honest history: the author's checkpoints at 2 and 5 of one log are consistent.
    const consistentLog = await open(1);
    for (let i = 0; i < 2; i++) await consistentLog.append(`history B ${i}`);
    const prefix = consistentLog.checkpoint();
    const proof = twin.proveConsistency(2);
    const consistent = makeEquivocation({
      origin: twin.origin,
      verifierKey: twin.verifierKey,
      notes: [
        { note: prefix, size: 2 },
        { note: twin.checkpoint(), size: 5 },
      ],
      consistency: { root: fromHex(proof.root1), proof: proof.proof.map((p) => fromHex(p)) },
    });
    const cases: [string, unknown, string][] = [
      ['not a map', 'evidence', 'malformed'],
      ['a missing field', { ...good, b: undefined }, 'malformed'],
      ['an extra field', { ...good, extra: 1 }, 'malformed'],
      ['a hash that is not hex', { ...good, consistency: { ...good.consistency!, root: 'zz' } }, 'malformed'],
      ['notes out of order', { ...good, a: good.b, b: good.a }, 'malformed'],
      ['different sizes without a proof', { ...good, consistency: undefined }, 'malformed'],
      ['a key of another node', { ...good, verifierKey: other.verifierKey }, 'bad-key'],
      ['a mangled verifier key', { ...good, verifierKey: 'nonsense' }, 'bad-key'],
      ['a note signed by another key', { ...good, a: other.checkpoint() }, 'bad-checkpoint'],
      ['an altered note', { ...good, a: good.a.replace(/\n2\n/, '\n3\n') }, 'bad-checkpoint'],
      ['the same note twice', { ...good, a: good.b }, 'malformed'],
      ['a consistent pair', consistent, 'not-conflicting'],
      ['a consistency proof that does not verify', { ...good, consistency: { ...good.consistency!, proof: [] } }, 'bad-proof'],
      [
        'a claim that the larger tree had the smaller note’s root',
        { ...good, consistency: { ...good.consistency!, root: honest.heads()[0]!.root } },
        'bad-proof',
      ],
    ];
    for (const [what, value, reason] of cases) expect(await refusal(value), what).toBe(reason);
    expect(await refusal({ ...sameSize(honest, honest) })).toBe('malformed');
  });
});

describe('the kernel and equivocation', () => {
  it('checks a foreign checkpoint against its copy, at the same or a smaller size', async () => {
    const { honest, twin } = await twoHistories(3, 3);
    const smaller = await open(1);
    await smaller.append('history B 0');
    await smaller.append('history B 1');
    expect(await honest.checkAgainstHeld({ verifierKey: honest.verifierKey, checkpoint: honest.checkpoint() })).toBeUndefined();
    const same = await honest.checkAgainstHeld({ verifierKey: twin.verifierKey, checkpoint: twin.checkpoint() });
    expect((await verifyEquivocation(same)).sizes).toEqual([3, 3]);
    const below = await honest.checkAgainstHeld({ verifierKey: smaller.verifierKey, checkpoint: smaller.checkpoint() });
    expect((await verifyEquivocation(below)).sizes).toEqual([2, 3]);
    // A checkpoint beyond the copy cannot be checked here (the sync engine asks the peer).
    const longer = await open(1);
    for (let i = 0; i < 4; i++) await longer.append(`history C ${i}`);
    expect(await honest.checkAgainstHeld({ verifierKey: longer.verifierKey, checkpoint: longer.checkpoint() })).toBeUndefined();
  });

  it('turns a batch refused as a fork into a proof, and a forged one into nothing', async () => {
    const author = await open(1);
    await author.appendMany(['shared 0', 'shared 1']);
    const copy = new Map<string, MemoryLog>();
    const twinData = new Map<string, MemoryLog>();
    const replica = await open(2, copy);
    await replica.applyBatch((await author.readBatch(author.origin, 0, 1 << 20))!);
    // The twin shares the first two entries, then the histories split.
    const twin = await open(1, twinData);
    await twin.applyBatch((await author.readBatch(author.origin, 0, 1 << 20))!);
    await author.append('history A');
    await twin.appendMany(['history B', 'more B']);
    await replica.applyBatch((await author.readBatch(author.origin, 2, 1 << 20))!);
    const batch = (await twin.readBatch(twin.origin, 1, 1 << 20))!;
    await expect(replica.applyBatch(batch)).rejects.toMatchObject({ reason: 'fork' });
    const evidence = await replica.evidenceFromBatch(batch);
    expect((await verifyEquivocation(evidence)).sizes).toEqual([3, 4]);
    // The replica's tree was put back exactly.
    expect(replica.heads().find((h) => h.origin === author.origin)).toEqual(author.heads()[0]);
    // Entries altered by a relayer under the twin's genuine checkpoint prove nothing.
    const substitute = encodeEntry({ v: 1, kind: 'data', author: author.nodeId, seq: 3, time: { wall: 1, count: 0 }, payload: 'forged' });
    const forged = { ...batch, entries: [...batch.entries.slice(0, -1), substitute] };
    const refused = await replica.applyBatch(forged).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(BatchRejectedError);
    expect((refused as BatchRejectedError).reason).not.toBe('fork');
    expect(await replica.evidenceFromBatch(forged)).toBeUndefined();
  });

  it('records a proof once, flags the author, freezes the log past the fork and remembers after a restart', async () => {
    const { honest, twin } = await twoHistories(2, 2);
    const data = new Map<string, MemoryLog>();
    const node = await open(2, data);
    await node.applyBatch((await honest.readBatch(honest.origin, 0, 1 << 20))!);
    const rootWithLog = node.stateRoot();
    const alerts: string[] = [];
    node.onFlag((flag) => alerts.push(flag.author));

    const first = await node.recordEquivocation(sameSize(honest, twin));
    expect(first.status).toBe('new');
    expect(first.flag).toMatchObject({
      origin: honest.origin,
      author: honest.nodeId,
      forkSize: 2,
      record: { origin: node.origin, index: 0 },
    });
    expect((await node.recordEquivocation(sameSize(honest, twin))).status).toBe('known');
    expect(alerts).toEqual([honest.nodeId]);
    const recorded = await node.entries(0, 10);
    expect(recorded.map((e) => e.kind)).toEqual([EQUIVOCATION_KIND]);

    // What was accepted before stays; nothing past the fork point is taken; the log no
    // longer counts in the state root.
    expect(node.heads().find((h) => h.origin === honest.origin)!.size).toBe(2);
    await honest.append('after the fork');
    expect(await node.applyBatch((await honest.readBatch(honest.origin, 2, 1 << 20))!)).toEqual({ status: 'refused-flagged', forkSize: 2 });
    expect(node.stateRoot()).not.toBe(rootWithLog);

    await node.close();
    const reopened = await open(2, data);
    expect(reopened.flagged()).toEqual([expect.objectContaining({ origin: honest.origin, evidenceId: first.flag.evidenceId })]);
  });

  it('a replicated record flags the author without being written again; a record that proves nothing flags no one', async () => {
    const { honest, twin } = await twoHistories(2, 2);
    const witness = await open(3);
    await witness.recordEquivocation(sameSize(honest, twin));
    await witness.append({ kind: 'not evidence' });
    await witness.appendEntries([{ kind: EQUIVOCATION_KIND, value: { ...sameSize(honest, honest) } }]);
    const liar = await open(4);
    await liar.appendEntries([{ kind: EQUIVOCATION_KIND, value: { origin: 'naos/x', verifierKey: 'x', a: 'x', b: 'y' } }]);

    const node = await open(5);
    await node.applyBatch((await liar.readBatch(liar.origin, 0, 1 << 20))!);
    expect(node.flagged()).toEqual([]);
    await node.applyBatch((await witness.readBatch(witness.origin, 0, 1 << 20))!);
    expect(node.flagged()).toEqual([expect.objectContaining({ author: honest.nodeId, record: { origin: witness.origin, index: 0 } })]);
    expect((await node.recordEquivocation(sameSize(honest, twin))).status).toBe('known');
    expect(await node.entries(0, 10)).toEqual([]);
  });
});
