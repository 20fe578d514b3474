import { describe, expect, it } from 'vitest';
import { seedSigner } from '../../src/crypto/ed25519.js';
import { decodeEnvelope } from '../../src/federation/messages.js';
import { SyncEngine } from '../../src/federation/sync-engine.js';
import { Kernel } from '../../src/kernel/kernel.js';
import type { AppendBatch, LedgerStore } from '../../src/storage/ledger-store.js';
import { MemoryLedgerStore, type MemoryLog } from '../../src/storage/memory-store.js';

const now = () => 1_700_000_000_000;

/** A memory store that records what the kernel asks of it. */
function recordingStore(data = new Map<string, MemoryLog>()) {
  const inner = new MemoryLedgerStore(data);
  const appends: Pick<AppendBatch, 'origin' | 'durability'>[] = [];
  const reads: { origin: string; start: number; end: number }[] = [];
  const store: LedgerStore = {
    listLogs: () => inner.listLogs(),
    createLog: (head, checkpoint) => inner.createLog(head, checkpoint),
    replaceLog: (replacement) => inner.replaceLog(replacement),
    append: (batch) => {
      appends.push({ origin: batch.origin, durability: batch.durability });
      return inner.append(batch);
    },
    readEntries: (origin, start, end) => {
      reads.push({ origin, start, end });
      return inner.readEntries(origin, start, end);
    },
    countEntries: (origin) => inner.countEntries(origin),
    readCheckpoints: (origin) => inner.readCheckpoints(origin),
    close: () => inner.close(),
  };
  return { store, appends, reads, data };
}

describe('kernel I/O for replication', () => {
  it('stores its own batches with the store’s durability and replicas as relaxed', async () => {
    const a = recordingStore();
    const b = recordingStore();
    const author = await Kernel.open({ store: a.store, signer: seedSigner(new Uint8Array(32).fill(1)), now });
    const replica = await Kernel.open({ store: b.store, signer: seedSigner(new Uint8Array(32).fill(2)), now });
    await author.appendMany([1, 2, 3]);
    expect(a.appends).toEqual([{ origin: author.origin, durability: undefined }]);
    const batch = (await author.readBatch(author.origin, 0, 1 << 20))!;
    expect(await replica.applyBatch(batch)).toEqual({ status: 'applied', size: 3 });
    expect(b.appends).toEqual([{ origin: author.origin, durability: 'relaxed' }]);
  });

  it('serves a just-committed own batch from memory, identical to what storage holds', async () => {
    const { store, reads } = recordingStore();
    const kernel = await Kernel.open({ store, signer: seedSigner(new Uint8Array(32).fill(3)), now });
    await kernel.appendMany(['a', 'b']);
    await kernel.append('c');
    reads.length = 0;
    const pushed = (await kernel.readBatch(kernel.origin, 2, 1 << 20))!;
    const all = (await kernel.readBatch(kernel.origin, 0, 1 << 20))!;
    expect(reads).toEqual([]);
    expect(pushed.entries).toEqual(await kernel.readEntryBytes(2, 3));
    expect(all.entries).toEqual(await kernel.readEntryBytes(0, 3));
    // entries() still reads (and re-checks) the store.
    await kernel.entries(0, 3);
    expect(reads.length).toBeGreaterThan(0);
  });

  it('reads from storage what is no longer in memory (after a reopen)', async () => {
    const { store, data } = recordingStore();
    const signer = seedSigner(new Uint8Array(32).fill(4));
    const kernel = await Kernel.open({ store, signer, now });
    await kernel.appendMany(['a', 'b']);
    await kernel.close();
    const again = recordingStore(data);
    const reopened = await Kernel.open({ store: again.store, signer, now });
    again.reads.length = 0;
    expect((await reopened.readBatch(reopened.origin, 0, 1 << 20))!.entries).toHaveLength(2);
    expect(again.reads).toEqual([{ origin: reopened.origin, start: 0, end: 2 }]);
  });
});

describe('sync with a damaged replica', () => {
  it('repairs a damaged replica with one fetch, and does not pull it again and again', async () => {
    const authorSigner = seedSigner(new Uint8Array(32).fill(5));
    const victimSigner = seedSigner(new Uint8Array(32).fill(6));
    const author = await Kernel.open({ store: new MemoryLedgerStore(), signer: authorSigner, now });
    await author.appendMany([1, 2, 3]);
    // The victim held a copy of the author's log, which was then damaged on its disk.
    const victimData = new Map<string, MemoryLog>();
    const first = await Kernel.open({ store: new MemoryLedgerStore(victimData), signer: victimSigner, now });
    await first.applyBatch((await author.readBatch(author.origin, 0, 1 << 20))!);
    await first.close();
    victimData.get(author.origin)!.entries[1]![4]! ^= 1;
    const victim = await Kernel.open({ store: new MemoryLedgerStore(victimData), signer: victimSigner, now });
    expect(victim.status().damaged.map((d) => d.origin)).toEqual([author.origin]);

    let time = now();
    const queue: { to: 'author' | 'victim'; bytes: Uint8Array }[] = [];
    const pulls: string[] = [];
    const engine = (kernel: Kernel, signer: typeof authorSigner, sendTo: 'author' | 'victim') =>
      new SyncEngine({
        host: kernel,
        signer,
        manifest: { region: 't', shard: 't', types: [], capabilities: [], trust: 'experimental', started: 0, software: 'test' },
        now: () => time,
        randomBytes: (n) => new Uint8Array(n).fill(sendTo === 'author' ? 1 : 2),
        send: (bytes) => {
          const body = decodeEnvelope(bytes).body;
          if (body.type === 'REQUEST' && body.want === 'entries') pulls.push(body.origin);
          queue.push({ to: sendTo, bytes });
        },
      });
    const engines = { author: engine(author, authorSigner, 'victim'), victim: engine(victim, victimSigner, 'author') };
    await engines.author.start();
    await engines.victim.start();
    for (let step = 0; step < 100; step++) {
      time += 100;
      await Promise.all([engines.author.tick(), engines.victim.tick()]);
      await Promise.all([engines.author.settled(), engines.victim.settled()]);
      while (queue.length > 0) {
        const { to, bytes } = queue.shift()!;
        await engines[to].receive(bytes, 'test');
        await Promise.all([engines.author.settled(), engines.victim.settled()]);
      }
    }
    // 10 s of heartbeats: the damaged log is fetched once, which repairs it (F6), and not
    // over and over (the victim's own log is fetched by the author once, which is fine).
    expect(pulls.filter((origin) => origin === author.origin)).toHaveLength(1);
    expect(victim.status()).toMatchObject({ state: 'ok', damaged: [], repaired: [{ origin: author.origin, size: 3 }] });
    expect(victim.stateRoot()).toBe(author.stateRoot());
  });
});

describe('entries altered by a relaying peer are not fork evidence against their author', () => {
  async function authorAndReplica() {
    const author = await Kernel.open({ store: new MemoryLedgerStore(), signer: seedSigner(new Uint8Array(32).fill(7)), now });
    const replica = await Kernel.open({ store: new MemoryLedgerStore(), signer: seedSigner(new Uint8Array(32).fill(8)), now });
    await author.appendMany(['a', 'b']);
    await author.appendMany(['c', 'd']);
    return { author, replica };
  }
  const altered = (entries: readonly Uint8Array[], index: number) =>
    entries.map((bytes, i) => {
      if (i !== index) return bytes;
      const copy = bytes.slice();
      copy[copy.length - 1]! ^= 1;
      return copy;
    });

  it('a held batch with an altered entry under the genuine checkpoint is a root mismatch', async () => {
    const { author, replica } = await authorAndReplica();
    const batch = (await author.readBatch(author.origin, 0, 1 << 20))!;
    await replica.applyBatch(batch);
    await expect(replica.applyBatch({ ...batch, entries: altered(batch.entries, 1) })).rejects.toMatchObject({ reason: 'root-mismatch' });
  });

  it('a batch overlapping the held part with an altered entry there is a root mismatch; the signed extension still applies', async () => {
    const { author, replica } = await authorAndReplica();
    await replica.applyBatch((await author.readBatch(author.origin, 0, 1))!); // entries 0..1
    const batch = (await author.readBatch(author.origin, 0, 1 << 20))!; // entries 0..3
    expect(batch.entries).toHaveLength(4);
    await expect(replica.applyBatch({ ...batch, entries: altered(batch.entries, 0) })).rejects.toMatchObject({ reason: 'root-mismatch' });
    // The held tree was restored exactly: the genuine batch applies.
    expect(await replica.applyBatch(batch)).toEqual({ status: 'applied', size: 4 });
    expect(replica.stateRoot()).toBe(author.stateRoot());
  });

  it('a signed different history is still a fork', async () => {
    const signer = seedSigner(new Uint8Array(32).fill(9));
    const honest = await Kernel.open({ store: new MemoryLedgerStore(), signer, now });
    const twin = await Kernel.open({ store: new MemoryLedgerStore(), signer, now: () => now() + 1 });
    await honest.appendMany(['a', 'b']);
    await twin.appendMany(['a', 'B', 'c']);
    const replica = await Kernel.open({ store: new MemoryLedgerStore(), signer: seedSigner(new Uint8Array(32).fill(10)), now });
    await replica.applyBatch((await honest.readBatch(honest.origin, 0, 1 << 20))!);
    await expect(replica.applyBatch((await twin.readBatch(twin.origin, 0, 1 << 20))!)).rejects.toMatchObject({ reason: 'fork' });
  });
});
