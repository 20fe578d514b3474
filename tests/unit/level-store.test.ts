import { mkdtempSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { LevelLedgerStore, levelLayout } from '../../adapters/node/level-store.js';
import { toHex, utf8 } from '../../src/bytes.js';
import { seedSigner } from '../../src/crypto/ed25519.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { StoreConflictError, StoreUnavailableError, type StoredCheckpoint } from '../../src/storage/ledger-store.js';

/** LevelDB-specific behaviour beyond the shared contract (tests/contract/level-store.node.test.ts). */

const root = mkdtempSync(join(tmpdir(), 'naos-level-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (): string => join(root, `db-${dirs++}`);
const open: LevelLedgerStore[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close().catch(() => undefined)));
});

async function openStore(dir: string): Promise<LevelLedgerStore> {
  const store = await LevelLedgerStore.open(dir);
  open.push(store);
  return store;
}

const ORIGIN = 'naos/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const head = (origin = ORIGIN) => ({ origin, verifierKey: `${origin}+00000000+AQ==`, size: 0 });
const cp = (size: number): StoredCheckpoint => ({ size, note: `note ${size}\n` });
const signer = seedSigner(new Uint8Array(32).fill(5));

describe('LevelLedgerStore', () => {
  it('lets exactly one of two concurrent appends at the same position through', async () => {
    const store = await openStore(freshDir());
    await store.createLog(head(), cp(0));
    const results = await Promise.allSettled([
      store.append({ origin: ORIGIN, start: 0, entries: [utf8('first')], checkpoint: cp(1) }),
      store.append({ origin: ORIGIN, start: 0, entries: [utf8('second')], checkpoint: cp(1) }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(StoreConflictError);
    expect((await store.readEntries(ORIGIN, 0, 5)).map((b) => new TextDecoder().decode(b))).toEqual(['first']);
  });

  it('keeps origins that are prefixes of each other apart', async () => {
    const store = await openStore(freshDir());
    const short = 'naos/a';
    const long = 'naos/ab';
    await store.createLog(head(short), cp(0));
    await store.createLog(head(long), cp(0));
    await store.append({ origin: long, start: 0, entries: [utf8('L0'), utf8('L1')], checkpoint: cp(2) });
    await store.append({ origin: short, start: 0, entries: [utf8('S0')], checkpoint: cp(1) });
    expect(await store.countEntries(short)).toBe(1);
    expect(await store.countEntries(long)).toBe(2);
    expect((await store.readCheckpoints(short)).map((c) => c.size)).toEqual([0, 1]);
    expect((await store.readEntries(long, 0, 9)).map((b) => new TextDecoder().decode(b))).toEqual(['L0', 'L1']);
  });

  it('creates a replica log without a checkpoint', async () => {
    const store = await openStore(freshDir());
    await store.createLog(head());
    expect(await store.readCheckpoints(ORIGIN)).toEqual([]);
    await store.append({ origin: ORIGIN, start: 0, entries: [utf8('r')], checkpoint: cp(1) });
    expect(await store.readCheckpoints(ORIGIN)).toEqual([cp(1)]);
  });

  it('refuses to create a log over stray entries left without a head', async () => {
    const dir = freshDir();
    let store = await openStore(dir);
    await store.createLog(head(), cp(0));
    await store.append({ origin: ORIGIN, start: 0, entries: [utf8('x')], checkpoint: cp(1) });
    await store.close();
    const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
    await db.del(levelLayout.headKey(ORIGIN));
    await db.close();
    store = await openStore(dir);
    expect(await store.listLogs()).toEqual([]);
    await expect(store.createLog(head(), cp(0))).rejects.toThrow(/refusing to overwrite/);
    expect(await store.countEntries(ORIGIN)).toBe(1);
  });

  it('turns an unreadable head record into a log the kernel reports as damaged', async () => {
    const dir = freshDir();
    let store = await openStore(dir);
    const kernel = await Kernel.open({ store, signer, now: () => 1 });
    await kernel.append('x');
    await kernel.close();
    const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
    await db.put(levelLayout.headKey(kernel.origin), utf8('{not json'));
    await db.close();
    store = await openStore(dir);
    expect(await store.listLogs()).toEqual([{ origin: kernel.origin, verifierKey: '', size: 0 }]);
    const again = await Kernel.open({ store, signer, now: () => 1 });
    expect(again.status().state).toBe('damaged');
    expect(again.status().damaged[0]!.problems[0]!.where).toBe('head');
  });

  it('refuses a second open of the same directory with StoreUnavailableError', async () => {
    const dir = freshDir();
    await openStore(dir);
    const second = LevelLedgerStore.open(dir);
    await expect(second).rejects.toThrow(StoreUnavailableError);
    await expect(second).rejects.toThrow(/in use by another process/);
  });

  it('wraps LevelDB failures in StoreUnavailableError with the cause', async () => {
    const file = join(root, `plain-file-${dirs++}`);
    writeFileSync(file, 'not a directory');
    const error = (await LevelLedgerStore.open(join(file, 'db')).catch((e: unknown) => e)) as StoreUnavailableError;
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error.message).toContain(join(file, 'db'));
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('survives a torn write: a batch cut off mid-record is dropped whole on reopen', async () => {
    const dir = freshDir();
    const store = await openStore(dir);
    const kernel = await Kernel.open({ store, signer, now: () => 1 });
    await kernel.appendMany([1, 2, 3]);
    const before = { heads: kernel.heads(), note: kernel.checkpoint() };
    // One ~600 KB batch: the last record of LevelDB's write-ahead log.
    await kernel.appendMany(Array.from({ length: 60 }, (_, i) => ({ i, pad: 'p'.repeat(10_000) })));
    await kernel.close();
    const logs = readdirSync(dir).filter((name) => name.endsWith('.log'));
    const newest = join(dir, logs.sort().at(-1)!);
    const size = statSync(newest).size;
    expect(size).toBeGreaterThan(600_000);
    // Cut the file in the middle of the big batch, as a crash during the write would.
    truncateSync(newest, size - 300_000);

    const reopened = await Kernel.open({ store: await openStore(dir), signer, now: () => 1 });
    expect(reopened.status().state).toBe('ok');
    expect(reopened.heads()).toEqual(before.heads);
    expect(reopened.checkpoint()).toBe(before.note);
    const [next] = await reopened.appendMany(['after the tear']);
    expect(next!.index).toBe(3);
    await reopened.close();
  });

  it('reads ranges with odd bounds like the memory store does', async () => {
    const store = await openStore(freshDir());
    await store.createLog(head(), cp(0));
    await store.append({ origin: ORIGIN, start: 0, entries: [utf8('a'), utf8('b')], checkpoint: cp(2) });
    expect((await store.readEntries(ORIGIN, -5, 1)).map(toHex)).toEqual(['61']);
    expect(await store.readEntries(ORIGIN, 1, 1)).toEqual([]);
    expect(await store.readEntries(ORIGIN, 2, 1)).toEqual([]);
    expect((await store.readEntries(ORIGIN, 1, Number.POSITIVE_INFINITY)).map(toHex)).toEqual(['62']);
  });
});
