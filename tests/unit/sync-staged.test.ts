import { describe, expect, it } from 'vitest';
import { seedSigner } from '../../src/crypto/ed25519.js';
import { decodeEnvelope, type Envelope } from '../../src/federation/messages.js';
import type { Kernel } from '../../src/kernel/kernel.js';
import type { AppendBatch } from '../../src/storage/ledger-store.js';
import { MemoryLedgerStore } from '../../src/storage/memory-store.js';
import { type Outbox, syncNode } from '../support/sync-node.js';

/**
 * A node's own appends reach peers as REPLICATE messages signed while the batch's strict
 * write runs (Kernel.onStaged) and sent once it is done — never before, and never for a
 * write that failed.
 */

/** A store whose appends wait until released, or fail when told to. */
class GatedStore extends MemoryLedgerStore {
  readonly #held: { release: () => void; fail: (error: Error) => void }[] = [];

  get waiting(): number {
    return this.#held.length;
  }

  override append(batch: AppendBatch): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#held.push({ release: () => void super.append(batch).then(resolve, reject), fail: reject });
    });
  }

  release(): void {
    this.#held.shift()!.release();
  }

  fail(error: Error): void {
    this.#held.shift()!.fail(error);
  }
}

const replicates = (outbox: Outbox): Envelope[] => outbox.map((m) => decodeEnvelope(m.bytes)).filter((e) => e.body.type === 'REPLICATE');

const held = (kernel: Kernel, origin: string) => kernel.heads().find((h) => h.origin === origin);

/** Lets every pending promise chain (signing, the send chain) run. */
const drain = () => new Promise((resolve) => setTimeout(resolve, 20));

async function authorAndPeer() {
  const store = new GatedStore();
  const outbox: Outbox = [];
  const key = seedSigner(new Uint8Array(32).fill(1));
  const signed: Uint8Array[] = [];
  const signer = { publicKey: key.publicKey, sign: (message: Uint8Array) => (signed.push(message), key.sign(message)) };
  const author = await syncNode(1, outbox, { store, engine: { signer } });
  const peer = await syncNode(2, []);
  await author.engine.start();
  outbox.length = 0;
  signed.length = 0;
  return { store, outbox, author, peer, envelopesSigned: () => signed.length };
}

describe('REPLICATE of own appends (staged while the write runs)', () => {
  it('is not sent while the write runs, is sent once it is done, and only once', async () => {
    const { store, outbox, author, peer, envelopesSigned } = await authorAndPeer();
    const appended = author.kernel.append({ n: 1 });
    await drain();
    expect(store.waiting).toBe(1);
    // Made ready meanwhile, not sent.
    expect(envelopesSigned()).toBe(1);
    expect(replicates(outbox)).toEqual([]);
    store.release();
    await appended;
    await author.engine.settled();
    const [sent, ...more] = replicates(outbox);
    expect(more).toEqual([]);
    expect(sent!.body).toMatchObject({ type: 'REPLICATE', batch: { origin: author.kernel.origin, start: 0 } });
    // The message is a good one: a peer verifies and stores it.
    expect(await peer.engine.receive(outbox[0]!.bytes, 'a')).toEqual({ accepted: true });
    expect(held(peer.kernel, author.kernel.origin)).toEqual(held(author.kernel, author.kernel.origin));
  });

  it('leaves as the write finishes, before the append resolves or change listeners hear of it', async () => {
    const store = new GatedStore();
    const events: string[] = [];
    const author = await syncNode(1, [], { store, engine: { send: () => events.push('sent') } });
    await author.engine.start();
    events.length = 0;
    author.kernel.onChange(() => events.push('changed'));
    const appended = author.kernel.append({ n: 1 }).then(() => events.push('resolved'));
    await drain();
    expect(events).toEqual([]);
    store.release();
    await appended;
    await author.engine.settled();
    expect(events).toEqual(['sent', 'changed', 'resolved']);
  });

  it('carries each batch in order with its consistency proof', async () => {
    const { store, outbox, author, peer } = await authorAndPeer();
    for (let i = 0; i < 3; i++) {
      const appended = author.kernel.appendMany([i, i + 0.5]);
      await drain();
      store.release();
      await appended;
    }
    await author.engine.settled();
    const sent = replicates(outbox).map((e) =>
      e.body.type === 'REPLICATE' ? [e.body.batch.start, e.body.batch.entries.length, e.body.batch.proof.length > 0] : [],
    );
    expect(sent).toEqual([
      [0, 2, false],
      [2, 2, true],
      [4, 2, true],
    ]);
    for (const { bytes } of outbox) await peer.engine.receive(bytes, 'a');
    expect(peer.kernel.stateRoot()).toBe(author.kernel.stateRoot());
  });

  it('sends nothing for a write that failed; the next append carries the positions again', async () => {
    const { store, outbox, author, peer } = await authorAndPeer();
    const lost = author.kernel.append('never stored');
    await drain();
    store.fail(new Error('disk full'));
    await expect(lost).rejects.toThrow('disk full');
    await author.engine.settled();
    expect(replicates(outbox)).toEqual([]);

    const kept = author.kernel.append('stored');
    await drain();
    store.release();
    await kept;
    await author.engine.settled();
    const [sent] = replicates(outbox);
    expect(sent?.body).toMatchObject({ type: 'REPLICATE', batch: { start: 0 } });
    for (const { bytes } of outbox) expect(await peer.engine.receive(bytes, 'a')).toEqual({ accepted: true });
    expect(held(peer.kernel, author.kernel.origin)).toEqual(held(author.kernel, author.kernel.origin));
    expect(author.kernel.heads()[0]!.size).toBe(1);
  });
});
