import { describe, expect, it, vi } from 'vitest';
import { seedSigner } from '../../src/crypto/ed25519.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { type AppendBatch, StoreUnavailableError } from '../../src/storage/ledger-store.js';
import { MemoryLedgerStore, type MemoryLog } from '../../src/storage/memory-store.js';

/** A memory store whose appends can be held back or made to fail, like a slow or full disk. */
class GatedStore extends MemoryLedgerStore {
  held: (() => void)[] = [];
  hold = false;
  fail = false;
  override async append(batch: AppendBatch): Promise<void> {
    if (this.fail) throw new StoreUnavailableError('disk full');
    if (this.hold) await new Promise<void>((resolve) => this.held.push(resolve));
    return super.append(batch);
  }
  release(): void {
    for (const resolve of this.held.splice(0)) resolve();
  }
}

const author = async () => {
  const kernel = await Kernel.open({ store: new MemoryLedgerStore(), signer: seedSigner(new Uint8Array(32).fill(1)), now: () => 1 });
  for (let i = 0; i < 3; i++) await kernel.append({ i });
  return kernel;
};

async function replica(
  store: GatedStore,
  maxUnwrittenEntries?: number,
  scheduleReplicaWrite?: (write: () => void) => void,
  scheduleReplicaRetry?: (retry: () => void) => void,
) {
  return Kernel.open({
    store,
    signer: seedSigner(new Uint8Array(32).fill(2)),
    now: () => 1,
    ...(maxUnwrittenEntries ? { maxUnwrittenEntries } : {}),
    ...(scheduleReplicaWrite ? { scheduleReplicaWrite } : {}),
    ...(scheduleReplicaRetry ? { scheduleReplicaRetry } : {}),
  });
}

/** Counts the store's appends (one per written batch). */
class CountingStore extends GatedStore {
  appends = 0;
  override async append(batch: AppendBatch): Promise<void> {
    this.appends++;
    return super.append(batch);
  }
}

/** An author with 3 entries, and a replica over a counting store whose writes wait for `scheduled` to be run. */
async function scheduledReplica() {
  const a = await author();
  const data = new Map<string, MemoryLog>();
  const store = new CountingStore(data);
  const scheduled: (() => void)[] = [];
  const b = await replica(store, undefined, (write) => scheduled.push(write));
  return { a, data, store, scheduled, b };
}

describe('replicas are used at once and written behind', () => {
  it('a replicated batch is readable and servable while its write is still pending', async () => {
    const a = await author();
    const data = new Map<string, MemoryLog>();
    const store = new GatedStore(data);
    const b = await replica(store);
    store.hold = true;
    const seen: number[] = [];
    b.onChange((head) => seen.push(head.size));
    expect((await b.applyBatch((await a.readBatch(a.origin, 0, 1 << 20))!)).status).toBe('applied');
    expect(seen).toEqual([3]);
    expect(data.get(a.origin)?.head.size ?? 0).toBe(0);
    expect((await b.entries(0, 3, a.origin)).map((e) => e.payload)).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }]);
    const relayed = await b.readBatch(a.origin, 1, 1 << 20);
    expect(relayed?.entries.length).toBe(2);
    expect(b.unpersisted()).toEqual([{ origin: a.origin, entries: 3 }]);
    store.hold = false;
    store.release();
    await b.close();
    expect(data.get(a.origin)!.head.size).toBe(3);
  });

  it('a failed write keeps the entries in use and is retried with the next batch', async () => {
    const a = await author();
    const data = new Map<string, MemoryLog>();
    const store = new GatedStore(data);
    const b = await replica(store);
    store.fail = true;
    await b.applyBatch((await a.readBatch(a.origin, 0, 1 << 20))!);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(b.unpersisted()).toEqual([{ origin: a.origin, entries: 3, failure: 'disk full' }]);
    expect(b.heads().find((h) => h.origin === a.origin)!.size).toBe(3);
    store.fail = false;
    await a.append({ i: 3 });
    await b.applyBatch((await a.readBatch(a.origin, 3, 1 << 20))!);
    await b.close();
    const reopened = await replica(new GatedStore(data));
    expect(reopened.status().state).toBe('ok');
    expect(reopened.heads().find((h) => h.origin === a.origin)!.size).toBe(4);
  });

  it('refuses more of a log whose writes keep failing once too much is waiting', async () => {
    const a = await author();
    const store = new GatedStore();
    const b = await replica(store, 3);
    store.fail = true;
    expect((await b.applyBatch((await a.readBatch(a.origin, 0, 1 << 20))!)).status).toBe('applied');
    await new Promise((resolve) => setTimeout(resolve, 10));
    await a.append({ i: 3 });
    const outcome = await b.applyBatch((await a.readBatch(a.origin, 3, 1 << 20))!);
    expect(outcome).toEqual({ status: 'refused-unwritable', reason: 'disk full' });
  });

  it('waits for its schedule, then writes every batch queued meanwhile in one write; close does not wait for the schedule', async () => {
    const { a, data, store, scheduled, b } = await scheduledReplica();
    await b.applyBatch((await a.readBatch(a.origin, 0, 1 << 20))!);
    await a.append({ i: 3 });
    await b.applyBatch((await a.readBatch(a.origin, 3, 1 << 20))!);
    await new Promise((resolve) => setTimeout(resolve, 10));
    // Both batches are in use; nothing is written until the schedule runs, and only one write was scheduled.
    expect(b.heads().find((h) => h.origin === a.origin)!.size).toBe(4);
    expect(store.appends).toBe(0);
    expect(scheduled).toHaveLength(1);
    expect(b.unpersisted()).toEqual([{ origin: a.origin, entries: 4 }]);
    scheduled.shift()!();
    await vi.waitFor(() => expect(b.unpersisted()).toEqual([]));
    // One write, keeping both batches' checkpoints.
    expect(store.appends).toBe(1);
    expect(data.get(a.origin)!.head.size).toBe(4);
    expect(data.get(a.origin)!.checkpoints.map((c) => c.size)).toEqual([3, 4]);
    // A batch whose schedule never comes is still written by close.
    await a.append({ i: 4 });
    await b.applyBatch((await a.readBatch(a.origin, 4, 1 << 20))!);
    expect(scheduled).toHaveLength(1);
    await b.close();
    expect(data.get(a.origin)!.head.size).toBe(5);
    scheduled.shift()!(); // a late schedule after close writes nothing twice
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(store.appends).toBe(2);
    // What was written in merged batches reads back as the author's log.
    const reopened = await replica(new GatedStore(data));
    expect(reopened.status().state).toBe('ok');
    expect((await reopened.entries(0, 5, a.origin)).map((e) => e.payload)).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }, { i: 3 }, { i: 4 }]);
    expect(reopened.checkpoint(a.origin)).toBe(a.checkpoint());
  });

  it('a failed merged write keeps everything in use and is retried whole', async () => {
    const { a, data, store, scheduled, b } = await scheduledReplica();
    const first = (await a.readBatch(a.origin, 0, 1 << 20))!;
    for (let i = 3; i < 6; i++) await a.append({ i });
    const second = (await a.readBatch(a.origin, 3, 1 << 20))!;
    expect((await b.applyBatch(first)).status).toBe('applied');
    expect((await b.applyBatch(second)).status).toBe('applied');
    store.fail = true;
    scheduled.shift()!();
    await vi.waitFor(() => expect(b.unpersisted()).toEqual([{ origin: a.origin, entries: 6, failure: 'disk full' }]));
    expect(data.get(a.origin)?.head.size ?? 0).toBe(0);
    expect((await b.entries(0, 6, a.origin)).map((e) => e.payload)).toEqual([0, 1, 2, 3, 4, 5].map((i) => ({ i })));
    store.fail = false;
    store.appends = 0;
    await b.close();
    expect(store.appends).toBe(1);
    expect(data.get(a.origin)!.head.size).toBe(6);
    expect(data.get(a.origin)!.checkpoints.map((c) => c.size)).toEqual([3, 6]);
  });

  it('writeReplicasNow writes what waits for its schedule, and retries a failed write; status reports what is unwritten', async () => {
    const { a, data, store, scheduled, b } = await scheduledReplica();
    await b.applyBatch((await a.readBatch(a.origin, 0, 1 << 20))!);
    expect(b.status().unpersisted).toEqual([{ origin: a.origin, entries: 3 }]);
    await b.writeReplicasNow();
    expect(store.appends).toBe(1);
    expect(data.get(a.origin)!.head.size).toBe(3);
    expect(b.status().unpersisted).toBeUndefined();
    // A failed write stays reported, with its reason, until a later call gets it written.
    await a.append({ i: 3 });
    await b.applyBatch((await a.readBatch(a.origin, 3, 1 << 20))!);
    store.fail = true;
    await b.writeReplicasNow();
    expect(b.status().unpersisted).toEqual([{ origin: a.origin, entries: 1, failure: 'disk full' }]);
    store.fail = false;
    await b.writeReplicasNow();
    expect(b.status().unpersisted).toBeUndefined();
    expect(data.get(a.origin)!.head.size).toBe(4);
    // The schedules that come late find nothing left to write.
    for (const write of scheduled.splice(0)) write();
    await b.close();
    expect(store.appends).toBe(3);
  });

  it('a failed write is tried again on its own schedule, one retry pending at a time, and none after close', async () => {
    const a = await author();
    const data = new Map<string, MemoryLog>();
    const store = new CountingStore(data);
    const retries: (() => void)[] = [];
    const b = await replica(store, undefined, undefined, (retry) => retries.push(retry));
    store.fail = true;
    await b.applyBatch((await a.readBatch(a.origin, 0, 1 << 20))!);
    await vi.waitFor(() => expect(b.unpersisted()).toEqual([{ origin: a.origin, entries: 3, failure: 'disk full' }]));
    expect(retries).toHaveLength(1);
    // Still failing: the retry fails and leaves exactly one more.
    retries.shift()!();
    await vi.waitFor(() => expect(store.appends).toBe(2));
    await vi.waitFor(() => expect(retries).toHaveLength(1));
    // The disk has room again: the next retry writes everything, and none is left pending.
    store.fail = false;
    retries.shift()!();
    await vi.waitFor(() => expect(b.unpersisted()).toEqual([]));
    expect(data.get(a.origin)!.head.size).toBe(3);
    expect(retries).toHaveLength(0);
    // A retry that comes after close writes nothing to the closed store.
    await a.append({ i: 3 });
    store.fail = true;
    await b.applyBatch((await a.readBatch(a.origin, 3, 1 << 20))!);
    await vi.waitFor(() => expect(retries).toHaveLength(1));
    await b.close();
    const appends = store.appends;
    store.fail = false;
    retries.shift()!();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(store.appends).toBe(appends);
    expect(data.get(a.origin)!.head.size).toBe(3);
  });

  it("the node's own log is never written behind", async () => {
    const store = new GatedStore();
    const kernel = await replica(store);
    store.hold = true;
    let resolved = false;
    const pending = kernel.append('durable first').then(() => (resolved = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(resolved).toBe(false);
    store.release();
    store.hold = false;
    await pending;
    expect(resolved).toBe(true);
  });
});
