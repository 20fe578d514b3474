import { describe, expect, it } from 'vitest';
import { fromHex, toHex, utf8 } from '../../src/bytes.js';
import { seedSigner, type Signer } from '../../src/crypto/ed25519.js';
import { InvalidInputError } from '../../src/errors.js';
import { Kernel, UnknownLogError } from '../../src/kernel/kernel.js';
import { formatCheckpoint, openCheckpoint } from '../../src/ledger/checkpoint.js';
import { decodeEntry } from '../../src/ledger/entry.js';
import { parseVerifierKey } from '../../src/ledger/note.js';
import { EMPTY_ROOT, leafHash } from '../../src/merkle/hash.js';
import { referenceRoot } from '../../src/merkle/reference.js';
import { verifyConsistency, verifyInclusion } from '../../src/merkle/verify.js';
import { StoreUnavailableError } from '../../src/storage/ledger-store.js';
import { MemoryLedgerStore, type MemoryLog } from '../../src/storage/memory-store.js';

const signer = seedSigner(new Uint8Array(32).fill(3));

function openKernel(store = new MemoryLedgerStore(), options: { now?: () => number; maxBatch?: number; signer?: Signer } = {}) {
  return Kernel.open({
    store,
    signer: options.signer ?? signer,
    now: options.now ?? (() => 1000),
    ...(options.maxBatch ? { maxBatch: options.maxBatch } : {}),
  });
}

describe('Kernel', () => {
  it('starts with an empty own log signed at size 0', async () => {
    const kernel = await openKernel();
    expect(kernel.heads()).toEqual([{ origin: kernel.origin, size: 0, root: Buffer.from(EMPTY_ROOT).toString('hex') }]);
    const cp = await openCheckpoint(kernel.checkpoint(), parseVerifierKey(kernel.verifierKey));
    expect(cp.size).toBe(0);
    expect(kernel.nodeId).toMatch(/^[a-z2-7]{32}$/);
    expect(kernel.origin).toBe(`naos/${kernel.nodeId}`);
  });

  it('appends entries with increasing index, HLC time and a verifiable proof', async () => {
    let wall = 5000;
    const kernel = await openKernel(undefined, { now: () => wall });
    const a = await kernel.append({ n: 1 });
    wall = 4000; // the wall clock goes back: HLC time must still increase
    const b = await kernel.append('two');
    expect([a.index, b.index]).toEqual([0, 1]);
    const entries = await kernel.entries(0, 2);
    expect(entries.map((e) => e.payload)).toEqual([{ n: 1 }, 'two']);
    expect(entries[1]!.time.wall * 1e6 + entries[1]!.time.count).toBeGreaterThan(entries[0]!.time.wall * 1e6 + entries[0]!.time.count);
    const proof = kernel.proveInclusion(0);
    const [bytes] = await kernel.readEntryBytes(0, 1);
    verifyInclusion(
      0,
      2,
      leafHash(bytes!),
      proof.proof.map((h) => fromHex(h)),
      fromHex(proof.root),
    );
    expect(proof.leafHash).toBe(Buffer.from(leafHash(bytes!)).toString('hex'));
  });

  it('coalesces concurrent appends into one signed batch', async () => {
    const store = new MemoryLedgerStore();
    const kernel = await openKernel(store);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => kernel.append(i)));
    expect(results.map((r) => r.index)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(kernel.checkpoints().map((c) => c.size)).toEqual([0, 50]);
  });

  it('splits big bursts at maxBatch but never splits one appendMany', async () => {
    const kernel = await openKernel(undefined, { maxBatch: 10 });
    await Promise.all([
      kernel.appendMany(Array.from({ length: 25 }, (_, i) => i)),
      ...Array.from({ length: 12 }, (_, i) => kernel.append(i)),
    ]);
    const sizes = kernel.checkpoints().map((c) => c.size);
    expect(sizes[1]).toBe(25);
    expect(sizes.at(-1)).toBe(37);
    expect(sizes.slice(2).every((s, i, all) => s - (i === 0 ? 25 : all[i - 1]!) <= 10)).toBe(true);
  });

  it('emits onChange after each batch; unsubscribe stops it; a throwing listener harms nothing', async () => {
    const kernel = await openKernel();
    const seen: number[] = [];
    kernel.onChange(() => {
      throw new Error('listener bug');
    });
    const unsubscribe = kernel.onChange((head) => seen.push(head.size));
    await kernel.append(1);
    await kernel.append(2);
    unsubscribe();
    await kernel.append(3);
    expect(seen).toEqual([1, 2]);
  });

  it('refuses non-JSON values and bad kinds without writing anything', async () => {
    const kernel = await openKernel();
    await expect(kernel.append(undefined)).rejects.toThrow(InvalidInputError);
    await expect(kernel.append({ f: () => 1 })).rejects.toThrow('$.f: function is not a JSON value');
    await expect(kernel.append(1, { kind: 'NOT OK' })).rejects.toThrow(InvalidInputError);
    await expect(kernel.appendMany([])).rejects.toThrow(InvalidInputError);
    await expect(kernel.append('x'.repeat(300 * 1024))).rejects.toThrow(/limit/);
    expect(kernel.heads()[0]!.size).toBe(0);
    // The kernel still works afterwards.
    expect((await kernel.append('ok')).index).toBe(0);
  });

  it('a failed write rolls back: no entry, no checkpoint, same root, next append reuses the index', async () => {
    const { store, data } = memory();
    const kernel = await openKernel(store);
    await kernel.append('first');
    const before = kernel.heads();
    const original = store.append.bind(store);
    store.append = (): Promise<void> => Promise.reject(new StoreUnavailableError('disk full'));
    await expect(kernel.append('lost')).rejects.toThrow('disk full');
    expect(kernel.heads()).toEqual(before);
    store.append = original;
    expect((await kernel.append('second')).index).toBe(1);
    const reopened = await openKernel(new MemoryLedgerStore(data));
    expect(reopened.status().state).toBe('ok');
    expect((await reopened.entries(0, 5)).map((e) => e.payload)).toEqual(['first', 'second']);
  });

  it('proves consistency between any two sizes', async () => {
    const kernel = await openKernel();
    for (let i = 0; i < 13; i++) await kernel.append(i);
    for (const [m, n] of [
      [1, 13],
      [5, 8],
      [13, 13],
    ] as const) {
      const p = kernel.proveConsistency(m, n);
      verifyConsistency(
        m,
        n,
        fromHex(p.root1),
        fromHex(p.root2),
        p.proof.map((h) => fromHex(h)),
      );
    }
    expect(() => kernel.proveConsistency(3, 14)).toThrow(RangeError);
    expect(() => kernel.proveInclusion(13)).toThrow();
  });

  it('state root changes with every append and is equal for equal logs', async () => {
    const storeA = new MemoryLedgerStore();
    const a = await openKernel(storeA, { now: () => 7 });
    const b = await openKernel(new MemoryLedgerStore(), { now: () => 7 });
    expect(a.stateRoot()).toBe(b.stateRoot());
    const r0 = a.stateRoot();
    await a.append(1);
    expect(a.stateRoot()).not.toBe(r0);
    await b.append(1);
    expect(a.stateRoot()).toBe(b.stateRoot());
  });

  it("state root is the RFC 9162 root over the held logs' checkpoint bodies after every change", async () => {
    const a = await openKernel();
    const b = await openKernel(undefined, { signer: seedSigner(new Uint8Array(32).fill(4)) });
    const expected = (): string =>
      toHex(
        referenceRoot(
          a
            .heads()
            .filter((head) => head.size > 0)
            .map((head) => utf8(formatCheckpoint({ origin: head.origin, size: head.size, root: fromHex(head.root), extensions: [] }))),
        ),
      );
    expect(a.stateRoot()).toBe(expected());
    await a.append(1);
    expect(a.stateRoot()).toBe(expected());
    await b.append('b1');
    await a.applyBatch((await b.readBatch(b.origin, 0, 1 << 20))!);
    expect(a.stateRoot()).toBe(expected());
    await b.append('b2');
    await a.applyBatch((await b.readBatch(b.origin, 1, 1 << 20))!);
    await a.append(2);
    expect(a.heads().map((head) => head.size)).toEqual([2, 2]);
    expect(a.stateRoot()).toBe(expected());
  });

  it('reopen restores the HLC so time never goes backwards across restarts', async () => {
    const { store, data } = memory();
    const kernel = await openKernel(store, { now: () => 9000 });
    await kernel.append(1);
    const again = await openKernel(new MemoryLedgerStore(data), { now: () => 10 });
    await again.append(2);
    const [first, second] = await again.readEntryBytes(0, 2);
    expect(decodeEntry(second!).time.wall).toBeGreaterThanOrEqual(decodeEntry(first!).time.wall);
  });

  it("refuses to open another node's log as its own (wrong key)", async () => {
    const { store, data } = memory();
    const kernel = await openKernel(store);
    await kernel.append(1);
    const log = data.get(kernel.origin)!;
    // Someone swaps in a different verifier key for this log.
    const otherKey = (await openKernel(new MemoryLedgerStore(), { signer: seedSigner(new Uint8Array(32).fill(9)) })).verifierKey;
    log.head = { ...log.head, verifierKey: otherKey };
    const again = await openKernel(new MemoryLedgerStore(data));
    expect(again.status().state).toBe('damaged');
    expect(again.status().damaged[0]!.problems[0]!.where).toBe('head');
  });

  it('detects entry bytes changed after load, when they are read', async () => {
    const { store, data } = memory();
    const kernel = await openKernel(store);
    await kernel.append('original');
    data.get(kernel.origin)!.entries[0]![5]! ^= 1;
    await expect(kernel.entries(0, 1)).rejects.toThrow(/changed in the store/);
  });

  it('names unknown logs', async () => {
    const kernel = await openKernel();
    expect(() => kernel.checkpoint('naos/nobody')).toThrow(UnknownLogError);
  });

  it('close waits for queued appends, then refuses new ones', async () => {
    const kernel = await openKernel();
    const pending = kernel.append('last');
    await kernel.close();
    expect((await pending).index).toBe(0);
    await expect(kernel.append('after')).rejects.toThrow(/closed/);
  });
});

/** A memory store together with its backing map, to reopen or edit it like a disk. */
function memory(): { store: MemoryLedgerStore; data: Map<string, MemoryLog> } {
  const data = new Map<string, MemoryLog>();
  return { store: new MemoryLedgerStore(data), data };
}

describe('damage reports', () => {
  it('name the first place a log diverges and count the consequences, not list them', async () => {
    const data = new Map<string, MemoryLog>();
    const kernel = await Kernel.open({ store: new MemoryLedgerStore(data), signer, now: () => 1 });
    for (let i = 0; i < 6; i++) await kernel.append(i);
    data.get(kernel.origin)!.entries[2]![5]! ^= 1;
    const again = await Kernel.open({ store: new MemoryLedgerStore(data), signer, now: () => 1 });
    const problems = again.status().damaged[0]!.problems;
    // The changed entry may also fail to decode; either way nothing after it is listed.
    expect(problems.map((p) => p.where)).toEqual(problems.map(() => 'entry 2'));
    expect(problems.some((p) => /and so do the 3 later checkpoints/.test(p.what))).toBe(true);
  });
});
