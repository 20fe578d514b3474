import { describe, expect, it } from 'vitest';
import { seedSigner } from '../../src/crypto/ed25519.js';
import { decodeEnvelope } from '../../src/federation/messages.js';
import { SyncEngine } from '../../src/federation/sync-engine.js';
import { Kernel, OwnLogBehindError } from '../../src/kernel/kernel.js';
import { hlcCompare } from '../../src/ledger/hlc.js';
import { LedgerIntegrityError } from '../../src/ledger/integrity.js';
import { BatchRejectedError } from '../../src/ledger/log-batch.js';
import { type LogReplacement, StoreUnavailableError } from '../../src/storage/ledger-store.js';
import { MemoryLedgerStore, type MemoryLog } from '../../src/storage/memory-store.js';
import { sameSize, twoHistories } from '../support/twins.js';

/**
 * F6 repair: a log found damaged on open is re-fetched from peers, verified as a log not
 * held yet, and replaces the damaged records only once complete — for the node's own log,
 * never shorter than anything its damaged records claim.
 */
const MANIFEST = { region: 't', shard: 't', types: [], capabilities: [], trust: 'experimental', started: 0, software: 't' } as const;

/** The sync engines' clock: still, unless a test moves it. */
let clock = 0;

interface Node {
  readonly data: Map<string, MemoryLog>;
  readonly kernel: Kernel;
  readonly engine: SyncEngine;
  readonly outbox: Uint8Array[];
  /** Origins of the entries this node asked for. */
  readonly pulls: string[];
}

async function node(
  seed: number,
  data = new Map<string, MemoryLog>(),
  store = new MemoryLedgerStore(data),
  awaitPeersUntil?: Promise<unknown>,
): Promise<Node> {
  const signer = seedSigner(new Uint8Array(32).fill(seed));
  const kernel = await Kernel.open({ store, signer, now: () => 1_000, ...(awaitPeersUntil && { awaitPeersUntil }) });
  const outbox: Uint8Array[] = [];
  const pulls: string[] = [];
  const engine = new SyncEngine({
    host: kernel,
    signer,
    manifest: MANIFEST,
    now: () => clock,
    randomBytes: (n) => crypto.getRandomValues(new Uint8Array(n)),
    send: (bytes) => {
      const body = decodeEnvelope(bytes).body;
      if (body.type === 'REQUEST' && body.want === 'entries') pulls.push(body.origin);
      outbox.push(bytes);
    },
  });
  await engine.start();
  return { data, kernel, engine, outbox, pulls };
}

/** Reopens a node over the same stored data (a reload), optionally through another store object. */
async function reopen(from: Node, seed: number, store?: MemoryLedgerStore, awaitPeersUntil?: Promise<unknown>): Promise<Node> {
  from.engine.close();
  return node(seed, from.data, store, awaitPeersUntil);
}

/**
 * Each node greets the other (its state root), then every message is delivered both ways
 * until nothing is left (the clock never moves). `deliverToA` may drop messages to a.
 */
async function exchange(a: Node, b: Node, deliverToA: (bytes: Uint8Array) => boolean = () => true): Promise<void> {
  await a.engine.greet(b.kernel.nodeId);
  await b.engine.greet(a.kernel.nodeId);
  for (let round = 0; round < 100 && (a.outbox.length > 0 || b.outbox.length > 0); round++) {
    for (const bytes of a.outbox.splice(0)) await b.engine.receive(bytes, 'a');
    for (const bytes of b.outbox.splice(0)) if (deliverToA(bytes)) await a.engine.receive(bytes, 'b');
    await Promise.all([a.engine.settled(), b.engine.settled()]);
  }
}

function flipLastByte(data: Map<string, MemoryLog>, origin: string, index: number): Uint8Array {
  const log = data.get(origin)!;
  const tampered = log.entries[index]!.slice();
  tampered[tampered.length - 1]! ^= 0x01;
  log.entries[index] = tampered;
  return tampered;
}

/** Node a appends `count` entries, one checkpoint each; node b replicates them. */
async function authorAndReplica(count: number): Promise<{ a: Node; b: Node }> {
  const a = await node(1);
  const b = await node(2);
  for (let i = 0; i < count; i++) await a.kernel.append({ n: i });
  await exchange(a, b);
  return { a, b };
}

const payloads = async (kernel: Kernel, origin: string) => (await kernel.entries(0, kernel.heldSize(origin), origin)).map((e) => e.payload);

describe('repairing a damaged log from peers (F6)', () => {
  it("re-fetches the node's own log from a peer, replaces the damaged records, and appends again", async () => {
    const { a, b } = await authorAndReplica(5);
    expect(b.kernel.heldSize(a.kernel.origin)).toBe(5);
    const original = a.data.get(a.kernel.origin)!.entries.map((e) => e.slice());
    flipLastByte(a.data, a.kernel.origin, 2);

    const damaged = await reopen(a, 1);
    expect(damaged.kernel.status()).toMatchObject({
      state: 'damaged',
      damaged: [
        {
          origin: a.kernel.origin,
          problems: expect.arrayContaining([expect.objectContaining({ where: 'entry 2' })]) as unknown,
          repair: { have: 0, need: 5 },
        },
      ],
      repaired: [],
    });
    await expect(damaged.kernel.append('refused')).rejects.toThrow(LedgerIntegrityError);

    await exchange(damaged, b);
    expect(damaged.kernel.status()).toMatchObject({
      state: 'ok',
      damaged: [],
      repaired: [
        { origin: a.kernel.origin, size: 5, problems: expect.arrayContaining([expect.objectContaining({ where: 'entry 2' })]) as unknown },
      ],
    });
    // The stored records are the author's again, byte for byte.
    expect(damaged.data.get(a.kernel.origin)!.entries).toEqual(original);
    expect(await payloads(damaged.kernel, a.kernel.origin)).toEqual([0, 1, 2, 3, 4].map((n) => ({ n })));
    // The clock and position carry on after the restored entries; the peer takes the new one.
    expect(await damaged.kernel.append('after the repair')).toMatchObject({ index: 5 });
    await exchange(damaged, b);
    expect(b.kernel.stateRoot()).toBe(damaged.kernel.stateRoot());

    // What was stored verifies on the next open.
    const again = await reopen(damaged, 1);
    expect(again.kernel.status()).toMatchObject({ state: 'ok', damaged: [], repaired: [] });
    expect(again.kernel.heldSize(a.kernel.origin)).toBe(6);
  });

  it('does not replace its own log with a copy shorter than what its damaged records claim', async () => {
    const { a, b } = await authorAndReplica(3);
    // Two more that the peer never received.
    await a.kernel.append({ n: 3 });
    await a.kernel.append({ n: 4 });
    const tampered = flipLastByte(a.data, a.kernel.origin, 1);

    const damaged = await reopen(a, 1);
    b.outbox.length = 0;
    await exchange(damaged, b);
    // The peer's 3 entries are verified and held aside; 5 are needed (entries 3 and 4 may
    // have been sent elsewhere: signing new ones at those positions would be a fork).
    expect(damaged.kernel.status()).toMatchObject({ state: 'damaged', damaged: [{ repair: { have: 3, need: 5 } }] });
    expect(damaged.data.get(a.kernel.origin)!.entries[1]).toEqual(tampered);
    expect(damaged.data.get(a.kernel.origin)!.head.size).toBe(5);
    await expect(damaged.kernel.append('refused')).rejects.toThrow(LedgerIntegrityError);
    await expect(damaged.kernel.entries(0, 1, a.kernel.origin)).rejects.toThrow(LedgerIntegrityError);
    // Meeting the peer again does not fetch what the copy already holds.
    const pulled = damaged.pulls.length;
    await exchange(damaged, b);
    await exchange(damaged, b);
    expect(damaged.pulls.slice(pulled)).toEqual([]);
  });

  it("repairs a replica of another node's log, and the two agree again", async () => {
    const { a, b } = await authorAndReplica(4);
    flipLastByte(b.data, a.kernel.origin, 0);

    const damaged = await reopen(b, 2);
    expect(damaged.kernel.status()).toMatchObject({
      state: 'damaged',
      damaged: [{ origin: a.kernel.origin, repair: { have: 0, need: 1 } }],
    });
    await exchange(a, damaged);
    expect(damaged.kernel.status()).toMatchObject({ state: 'ok', repaired: [{ origin: a.kernel.origin, size: 4 }] });
    expect(damaged.kernel.stateRoot()).toBe(a.kernel.stateRoot());
    expect(await payloads(damaged.kernel, a.kernel.origin)).toEqual([0, 1, 2, 3].map((n) => ({ n })));
  });

  it('refuses a forged copy: nothing is staged or stored, and the log stays damaged', async () => {
    const { a, b } = await authorAndReplica(3);
    flipLastByte(a.data, a.kernel.origin, 0);
    const damaged = await reopen(a, 1);

    const genuine = (await b.kernel.readBatch(a.kernel.origin, 0, 1 << 20))!;
    const forged = {
      ...genuine,
      entries: genuine.entries.map((e, i) => (i === 1 ? Uint8Array.from(e, (x, j) => (j === e.length - 1 ? x ^ 1 : x)) : e)),
    };
    await expect(damaged.kernel.applyBatch(forged)).rejects.toThrow(BatchRejectedError);
    const otherKey = { ...genuine, verifierKey: b.kernel.verifierKey };
    await expect(damaged.kernel.applyBatch(otherKey)).rejects.toThrow(BatchRejectedError);
    expect(damaged.kernel.status()).toMatchObject({ state: 'damaged', damaged: [{ repair: { have: 0, need: 3 } }] });
    expect(damaged.kernel.heldSize(a.kernel.origin)).toBe(0);

    // The genuine copy still repairs it afterwards.
    expect(await damaged.kernel.applyBatch(genuine)).toEqual({ status: 'applied', size: 3 });
    expect(damaged.kernel.status().state).toBe('ok');
  });

  it('keeps the verified copy when the store fails to replace, and retries with the next batch', async () => {
    const { a, b } = await authorAndReplica(2);
    const tampered = flipLastByte(a.data, a.kernel.origin, 1);

    class FailingOnce extends MemoryLedgerStore {
      failures = 1;
      override replaceLog(replacement: LogReplacement): Promise<void> {
        if (this.failures-- > 0) return Promise.reject(new StoreUnavailableError('disk full'));
        return super.replaceLog(replacement);
      }
    }
    const store = new FailingOnce(a.data);
    const damaged = await reopen(a, 1, store);
    const batch = (await b.kernel.readBatch(a.kernel.origin, 0, 1 << 20))!;
    await expect(damaged.kernel.applyBatch(batch)).rejects.toThrow(StoreUnavailableError);
    expect(damaged.kernel.status()).toMatchObject({ state: 'damaged', damaged: [{ repair: { have: 2, need: 2 } }] });
    expect(a.data.get(a.kernel.origin)!.entries[1]).toEqual(tampered);
    // The same batch again is a duplicate of the copy, which is now written.
    expect(await damaged.kernel.applyBatch(batch)).toEqual({ status: 'applied', size: 2 });
    expect(damaged.kernel.status().state).toBe('ok');
    expect(a.data.get(a.kernel.origin)!.entries[1]).not.toEqual(tampered);
  });
  it('takes nothing past the fork point of an author proven to have equivocated, also into a repair copy', async () => {
    const open = (seed: number, data = new Map<string, MemoryLog>()) =>
      Kernel.open({ store: new MemoryLedgerStore(data), signer: seedSigner(new Uint8Array(32).fill(seed)), now: () => 1_000 });
    const { honest, twin } = await twoHistories(3, 3);
    const data = new Map<string, MemoryLog>();
    const replica = await open(2, data);
    const batch = (await honest.readBatch(honest.origin, 0, 1 << 20))!;
    await replica.applyBatch(batch);
    await replica.close();
    flipLastByte(data, honest.origin, 0);
    const damaged = await open(2, data);
    const { flag } = await damaged.recordEquivocation(sameSize(honest, twin));
    expect(flag.forkSize).toBe(3);
    await honest.append('history A 3');
    const longer = (await honest.readBatch(honest.origin, 0, 1 << 20))!;
    expect(await damaged.applyBatch(longer)).toEqual({ status: 'refused-flagged', forkSize: 3 });
    expect(damaged.status()).toMatchObject({ state: 'damaged', damaged: [{ origin: honest.origin, repair: { have: 0 } }] });
  });
});

describe('after its storage was rolled back, a node signs nothing where it already signed', () => {
  /** Deletes the newest own entries consistently (entries, checkpoints, head): the log still verifies. */
  function rollBack(data: Map<string, MemoryLog>, origin: string, size: number): void {
    const log = data.get(origin)!;
    log.entries = log.entries.slice(0, size);
    log.checkpoints = log.checkpoints.filter((c) => c.size <= size);
    log.head = { ...log.head, size };
  }
  const isBatchResponse = (bytes: Uint8Array) => {
    const body = decodeEnvelope(bytes).body;
    return body.type === 'RESPONSE' && 'batch' in body;
  };

  it('refuses appends while a peer proves a longer own log, restores it from the peer, then appends after it', async () => {
    const { a, b } = await authorAndReplica(5);
    rollBack(a.data, a.kernel.origin, 3);
    const rolledBack = await reopen(a, 1);
    expect(rolledBack.kernel.status()).toMatchObject({ state: 'ok', damaged: [] });
    expect(rolledBack.kernel.heldSize(a.kernel.origin)).toBe(3);

    // The peer's heads arrive (its copy: 5 entries under this node's signature), its batches do not.
    await exchange(rolledBack, b, (bytes) => !isBatchResponse(bytes));
    expect(rolledBack.kernel.status().restoring).toEqual({ have: 3, signed: 5 });
    await expect(rolledBack.kernel.append('would be a fork')).rejects.toThrow(OwnLogBehindError);
    expect(rolledBack.kernel.heldSize(a.kernel.origin)).toBe(3);

    // The unanswered request times out; the next exchange fetches the lost entries.
    clock += 10_000;
    await rolledBack.engine.tick();
    await exchange(rolledBack, b);
    expect(rolledBack.kernel.status().restoring).toBeUndefined();
    expect(await rolledBack.kernel.append('after the restore')).toMatchObject({ index: 5 });
    // Its time comes after the restored entries' (the wall clock here stands still).
    const [restored, next] = await rolledBack.kernel.entries(4, 6);
    expect(hlcCompare(next!.time, restored!.time)).toBeGreaterThan(0);
    await exchange(rolledBack, b);
    expect(b.kernel.stateRoot()).toBe(rolledBack.kernel.stateRoot());
    expect([b.kernel.flagged(), rolledBack.kernel.flagged()]).toEqual([[], []]);
  });

  /** Whether `promise` has settled after every pending microtask and I/O callback ran. */
  const settled = async (promise: Promise<unknown>) => {
    let done = false;
    promise.then(
      () => (done = true),
      () => (done = true),
    );
    await new Promise((resolve) => setImmediate(resolve));
    return done;
  };
  /** A deadline that never comes: only a peer can end the wait. */
  const NEVER = new Promise<never>(() => undefined);

  it('right after open, waits to hear a peer before signing: a rollback is caught before the first append', async () => {
    const { a, b } = await authorAndReplica(5);
    rollBack(a.data, a.kernel.origin, 3);
    const rolledBack = await reopen(a, 1, undefined, NEVER);
    const first = rolledBack.kernel.append('would be a fork');
    expect(await settled(first)).toBe(false);
    expect(rolledBack.kernel.status().awaitingPeers).toBe(true);

    await exchange(rolledBack, b, (bytes) => !isBatchResponse(bytes));
    await expect(first).rejects.toThrow(OwnLogBehindError);
    expect(rolledBack.kernel.status()).toMatchObject({ restoring: { have: 3, signed: 5 } });
    expect(rolledBack.kernel.status().awaitingPeers).toBeUndefined();

    clock += 10_000;
    await rolledBack.engine.tick();
    await exchange(rolledBack, b);
    expect(await rolledBack.kernel.append('after the restore')).toMatchObject({ index: 5 });
    await exchange(rolledBack, b);
    expect([b.kernel.flagged(), rolledBack.kernel.flagged()]).toEqual([[], []]);
    await rolledBack.kernel.close();
  });

  it('goes ahead as soon as a peer with the same state root is heard', async () => {
    const { a, b } = await authorAndReplica(2);
    const reopened = await reopen(a, 1, undefined, NEVER);
    const next = reopened.kernel.append('next');
    expect(await settled(next)).toBe(false);
    await exchange(reopened, b);
    expect(await next).toMatchObject({ index: 2 });
    expect(reopened.kernel.status().awaitingPeers).toBeUndefined();
    await reopened.kernel.close();
  });

  it('goes ahead when awaitPeersUntil settles with no peer heard (even by rejecting); a node that holds nothing does not wait', async () => {
    const { a } = await authorAndReplica(2);
    let timeUp!: (reason: Error) => void;
    const alone = await reopen(a, 1, undefined, new Promise((_, reject) => (timeUp = reject)));
    const next = alone.kernel.append('next');
    expect(await settled(next)).toBe(false);
    timeUp(new Error('time is up'));
    expect(await next).toMatchObject({ index: 2 });

    // Holds no entries: it has signed nothing a peer could hold, and has met no one.
    const fresh = await node(7, undefined, undefined, NEVER);
    expect(await fresh.kernel.append('first')).toMatchObject({ index: 0 });
    expect(fresh.kernel.status().awaitingPeers).toBeUndefined();
    await Promise.all([alone.kernel.close(), fresh.kernel.close()]);
  });

  it('while it waits, a proof of equivocation is taken at once (the sync engine is not held up) and recorded once a peer is heard', async () => {
    const { a, b } = await authorAndReplica(1);
    const reopened = await reopen(a, 1, undefined, NEVER);
    const { honest, twin } = await twoHistories(2, 2, 9);
    // Waiting for the record's append here would hang (the wait never ends by itself).
    expect((await reopened.kernel.recordEquivocation(sameSize(honest, twin))).status).toBe('new');
    expect(reopened.kernel.flagged().map((f) => [f.origin, f.record])).toEqual([[honest.origin, undefined]]);

    await exchange(reopened, b);
    await expect.poll(() => reopened.kernel.flagged()[0]!.record).toEqual({ origin: a.kernel.origin, index: 1 });
    expect((await reopened.kernel.entries(1, 2))[0]!.kind).toBe('naos.equivocation');
    await reopened.kernel.close();
  });

  it('close() ends the wait: appends queued before it still complete', async () => {
    const { a } = await authorAndReplica(1);
    const reopened = await reopen(a, 1, undefined, NEVER);
    const queued = reopened.kernel.append('queued');
    await reopened.kernel.close();
    expect(await queued).toMatchObject({ index: 1 });
  });

  it('ignores a smaller or equal own checkpoint, and a peer with nothing newer', async () => {
    const { a, b } = await authorAndReplica(3);
    a.kernel.noteOwnCheckpoint(2);
    a.kernel.noteOwnCheckpoint(3);
    a.kernel.noteOwnCheckpoint(Number.NaN);
    await exchange(a, b);
    expect(a.kernel.status().restoring).toBeUndefined();
    expect(await a.kernel.append('next')).toMatchObject({ index: 3 });
  });
});
