import { deleteDB, type IDBPObjectStore, openDB } from 'idb';
import { afterEach, describe, expect, it } from 'vitest';
import { toHex } from '../../src/bytes.js';
import { seedSigner } from '../../src/crypto/ed25519.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { StoreConflictError, StoreUnavailableError } from '../../src/storage/ledger-store.js';
import { IdbLedgerStore } from '../../adapters/browser/idb-store.js';
import { type StoreHarness, ledgerStoreContract } from './ledger-store-contract.js';

// Vitest runs browser test files side by side in one origin, so every database name used
// here is unique to this file.
const CONTRACT_DB = 'naos-test-idb-contract';
const EXTRA_DB = 'naos-test-idb-extra';

type RawStore = IDBPObjectStore<unknown, string[], string, 'readwrite'>;

/** Edits one object store through a second, raw connection — behind the adapter's back. */
async function rawEdit(dbName: string, storeName: string, action: (store: RawStore) => Promise<unknown>): Promise<void> {
  const db = await openDB(dbName);
  try {
    const tx = db.transaction(storeName, 'readwrite');
    await action(tx.objectStore(storeName));
    await tx.done;
  } finally {
    db.close();
  }
}

ledgerStoreContract('IndexedDB (idb)', (): StoreHarness => ({
  open: () => IdbLedgerStore.open(CONTRACT_DB),
  corruptEntry: (origin, index, change) =>
    rawEdit(CONTRACT_DB, 'entries', async (entries) => {
      await entries.put(change((await entries.get([origin, index])) as Uint8Array), [origin, index]);
    }),
  corruptCheckpoint: (origin, size, change) =>
    rawEdit(CONTRACT_DB, 'checkpoints', async (checkpoints) => {
      const record = (await checkpoints.get([origin, size])) as { size: number; note: string };
      await checkpoints.put({ ...record, note: change(record.note) }, [origin, size]);
    }),
  setHeadSize: (origin, size) =>
    rawEdit(CONTRACT_DB, 'heads', async (heads) => {
      await heads.put({ ...((await heads.get(origin)) as object), size });
    }),
  deleteEntry: (origin, index) => rawEdit(CONTRACT_DB, 'entries', (entries) => entries.delete([origin, index])),
  destroy: () => deleteDB(CONTRACT_DB),
}));

describe('IdbLedgerStore specifics', () => {
  const ORIGIN = 'naos/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
  const head = { origin: ORIGIN, verifierKey: `${ORIGIN}+00000000+AQ==`, size: 0 };
  const cp = (size: number) => ({ size, note: `note ${size}\n` });
  let open: IdbLedgerStore[] = [];

  async function freshStore(): Promise<IdbLedgerStore> {
    await deleteDB(EXTRA_DB);
    const store = await IdbLedgerStore.open(EXTRA_DB);
    open.push(store);
    return store;
  }

  afterEach(async () => {
    await Promise.all(open.map((store) => store.close()));
    open = [];
    await deleteDB(EXTRA_DB);
  });

  it('writes nothing of a batch whose transaction fails part-way (atomic append)', async () => {
    const store = await freshStore();
    await store.createLog(head, cp(0));
    await store.append({ origin: ORIGIN, start: 0, entries: [new Uint8Array([1])], checkpoint: cp(1) });
    // A stray record where the batch's third entry goes: the head still says 1, so the
    // batch passes the size check and fails only at its third write.
    await rawEdit(EXTRA_DB, 'entries', (entries) => entries.put(new Uint8Array([0xee]), [ORIGIN, 3]));
    const batch = { origin: ORIGIN, start: 1, entries: [new Uint8Array([2]), new Uint8Array([3]), new Uint8Array([4])], checkpoint: cp(4) };
    await expect(store.append(batch)).rejects.toThrow(StoreConflictError);
    expect((await store.listLogs())[0]!.size).toBe(1);
    expect((await store.readEntries(ORIGIN, 0, 10)).map(toHex)).toEqual(['01']);
    expect((await store.readCheckpoints(ORIGIN)).map((c) => c.size)).toEqual([0, 1]);
    expect(await store.countEntries(ORIGIN)).toBe(2); // the stray record, untouched
  });

  it('checks appends against the head it last wrote, yet a write behind its back is never overwritten', async () => {
    const store = await freshStore();
    await store.createLog(head, cp(0));
    await store.append({ origin: ORIGIN, start: 0, entries: [new Uint8Array([1])], checkpoint: cp(1) });
    // A second connection (the slot lock normally rules it out) appends entry 1.
    const other = await IdbLedgerStore.open(EXTRA_DB);
    open.push(other);
    await other.append({ origin: ORIGIN, start: 1, entries: [new Uint8Array([0xb1])], checkpoint: cp(2) });
    // The first store still believes the log has 1 entry: its write at 1 is refused whole.
    const stale = { origin: ORIGIN, start: 1, entries: [new Uint8Array([2]), new Uint8Array([3])], checkpoint: cp(3) };
    await expect(store.append(stale)).rejects.toThrow(StoreConflictError);
    expect((await store.readEntries(ORIGIN, 0, 10)).map(toHex)).toEqual(['01', 'b1']);
    expect((await store.listLogs())[0]!.size).toBe(2);
    // After a refusal it reads the head again: a gap is refused, the right position accepted.
    await expect(store.append({ origin: ORIGIN, start: 3, entries: [new Uint8Array([4])], checkpoint: cp(4) })).rejects.toThrow(
      /has 2 entries/,
    );
    await store.append({ origin: ORIGIN, start: 2, entries: [new Uint8Array([3])], checkpoint: cp(3) });
    expect((await store.readEntries(ORIGIN, 0, 10)).map(toHex)).toEqual(['01', 'b1', '03']);
    expect((await store.readCheckpoints(ORIGIN)).map((c) => c.size)).toEqual([0, 1, 2, 3]);
  });

  it('reads records of the wrong type as values the core rejects, without throwing', async () => {
    const store = await freshStore();
    await store.createLog(head, cp(0));
    await store.append({ origin: ORIGIN, start: 0, entries: [new Uint8Array([1]), new Uint8Array([2])], checkpoint: cp(2) });
    await store.close();
    await rawEdit(EXTRA_DB, 'heads', (heads) => heads.put({ origin: ORIGIN, verifierKey: 42, size: 'two' }));
    await rawEdit(EXTRA_DB, 'entries', (entries) => entries.put('not bytes', [ORIGIN, 1]));
    await rawEdit(EXTRA_DB, 'checkpoints', (checkpoints) => checkpoints.put(null, [ORIGIN, 2]));
    const again = await IdbLedgerStore.open(EXTRA_DB);
    open.push(again);
    expect(await again.listLogs()).toEqual([{ origin: ORIGIN, verifierKey: '', size: -1 }]);
    expect((await again.readEntries(ORIGIN, 0, 2)).map(toHex)).toEqual(['01', '']);
    expect(await again.readCheckpoints(ORIGIN)).toEqual([cp(0), { size: 2, note: '' }]);
    await expect(again.append({ origin: ORIGIN, start: 2, entries: [new Uint8Array([3])], checkpoint: cp(3) })).rejects.toThrow(
      StoreConflictError,
    );
  });

  it('lets a kernel report wrong-typed records as damage instead of crashing', async () => {
    const store = await freshStore();
    const signer = seedSigner(new Uint8Array(32).fill(3));
    const kernel = await Kernel.open({ store, signer, now: () => 1_700_000_000_000 });
    await kernel.append({ n: 1 });
    await kernel.append({ n: 2 });
    await kernel.close();
    await rawEdit(EXTRA_DB, 'entries', (entries) => entries.put({ evil: true }, [kernel.origin, 0]));
    const again = await IdbLedgerStore.open(EXTRA_DB);
    open.push(again);
    const reopened = await Kernel.open({ store: again, signer, now: () => 1_700_000_000_000 });
    const status = reopened.status();
    expect(status.state).toBe('damaged');
    expect(status.damaged[0]!.problems.map((p) => p.where)).toContain('entry 0');
  });

  it('refuses calls with StoreUnavailableError once another connection deletes the database', async () => {
    const store = await freshStore();
    await store.createLog(head, cp(0));
    await deleteDB(EXTRA_DB); // resolves only because the store gave way
    await expect(store.listLogs()).rejects.toThrow(StoreUnavailableError);
    await expect(store.listLogs()).rejects.toThrow(/deleting or upgrading/);
  });

  it('refuses to open a database written by a newer schema, naming it', async () => {
    await deleteDB(EXTRA_DB);
    (await openDB(EXTRA_DB, 99)).close();
    const error = await IdbLedgerStore.open(EXTRA_DB).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).message).toMatch(new RegExp(`${EXTRA_DB}.*newer`));
    expect((error as Error).cause).toBeInstanceOf(DOMException);
  });

  it('rejects non-numeric read positions as a TypeError', async () => {
    const store = await freshStore();
    await expect(store.readEntries(ORIGIN, Number.NaN, 3)).rejects.toThrow(TypeError);
  });

  it('supports relaxed durability with the same results', async () => {
    await deleteDB(EXTRA_DB);
    const store = await IdbLedgerStore.open(EXTRA_DB, { durability: 'relaxed' });
    open.push(store);
    await store.createLog(head, cp(0));
    await store.append({ origin: ORIGIN, start: 0, entries: [new Uint8Array([9])], checkpoint: cp(1) });
    expect((await store.readEntries(ORIGIN, 0, 1)).map(toHex)).toEqual(['09']);
  });
});
