import { webcrypto } from 'node:crypto';
import * as dagCbor from '@ipld/dag-cbor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { webCryptoSigner, type Signer } from '../../src/crypto/ed25519.js';
import {
  type Body,
  decodeEnvelope,
  encodeEnvelope,
  MAX_MESSAGE_BYTES,
  MessageDecodeError,
  signingBytes,
  type UnsignedEnvelope,
} from '../../src/federation/messages.js';
import { nodeIdFromPublicKey } from '../../src/identity/node-id.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { MemoryLedgerStore } from '../../src/storage/memory-store.js';
import { SimNet } from '../support/simnet.js';

/** A hostile sender: signs whatever it likes with its own key, and can lie in any field. */
async function hostile(): Promise<{
  signer: Signer;
  nodeId: string;
  send: (body: Body, tweak?: Partial<Record<string, unknown>>) => Promise<Uint8Array>;
}> {
  const keys = (await webcrypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify'])) as CryptoKeyPair;
  const signer = await webCryptoSigner(keys);
  const nodeId = nodeIdFromPublicKey(signer.publicKey);
  let seq = 0;
  const session = new Uint8Array(8).fill(9);
  return {
    signer,
    nodeId,
    send: async (body, tweak = {}) => {
      // Any field may be a lie (tweak); the signature is honest over what is sent.
      const unsigned = { v: 1, from: nodeId, key: signer.publicKey, session, seq: seq++, body, ...tweak } as UnsignedEnvelope;
      const sig = await signer.sign(signingBytes(unsigned));
      return encodeEnvelope({ ...unsigned, sig });
    },
  };
}

async function victimAndAuthor() {
  const net = await SimNet.create({ seed: 11, nodes: 2 });
  const [victim, author] = net.nodes as [(typeof net.nodes)[0], (typeof net.nodes)[0]];
  await author.kernel.appendMany([1, 2, 3]);
  expect(await net.converge(10_000)).toBe(true);
  return { net, victim, author };
}

describe('bad peers are refused, counted, and change nothing', () => {
  it('malformed bytes, bad signatures, stolen identities, replays and wrong addressing', async () => {
    const { victim, author } = await victimAndAuthor();
    const evil = await hostile();
    const root = victim.kernel.stateRoot();
    const beat: Body = { type: 'HEARTBEAT', root: new Uint8Array(32), logs: 1 };
    const good = await evil.send(beat);

    expect(await victim.engine.receive(new Uint8Array([1, 2, 3]), 'x')).toMatchObject({
      accepted: false,
      reason: 'malformed:not-dag-cbor',
    });
    expect(await victim.engine.receive(dagCbor.encode({ hello: 'world' }), 'x')).toMatchObject({ reason: 'malformed:bad-shape' });
    expect(await victim.engine.receive(new Uint8Array(MAX_MESSAGE_BYTES + 1), 'x')).toMatchObject({ reason: 'malformed:oversized' });

    const flipped = good.slice();
    flipped[flipped.length - 1]! ^= 1;
    expect(await victim.engine.receive(flipped, 'x')).toMatchObject({ reason: 'bad-signature' });
    // Claiming the author's node id with our own key.
    expect(await victim.engine.receive(await evil.send(beat, { from: author.kernel.nodeId }), 'x')).toMatchObject({
      reason: 'bad-identity',
    });

    expect(await victim.engine.receive(good, 'x')).toEqual({ accepted: true });
    // The same bytes again are dropped before any signature check …
    expect(await victim.engine.receive(good, 'x')).toMatchObject({ reason: 'duplicate' });
    expect(
      await victim.engine.receive(await evil.send({ type: 'REQUEST', to: author.kernel.nodeId, id: 1, want: 'heads', have: [] }), 'x'),
    ).toMatchObject({
      reason: 'not-addressed-here',
    });

    const reasons = victim.engine.rejections().map((r) => `${r.sender}:${r.reason}`);
    expect(reasons).toEqual(expect.arrayContaining(['link:x:malformed:not-dag-cbor', 'link:x:bad-signature', 'link:x:bad-identity']));
    expect(victim.kernel.stateRoot()).toBe(root);
  });

  it('a replay older than the duplicate cache is refused by the (session, seq) window', async () => {
    const net = await SimNet.create({ seed: 12, nodes: 1, sync: { duplicateCacheSize: 2 } });
    const victim = net.nodes[0]!;
    const evil = await hostile();
    const beat: Body = { type: 'HEARTBEAT', root: new Uint8Array(32), logs: 0 };
    const first = await evil.send(beat);
    expect(await victim.engine.receive(first, 'x')).toEqual({ accepted: true });
    for (let i = 0; i < 3; i++) expect(await victim.engine.receive(await evil.send(beat), 'x')).toEqual({ accepted: true });
    expect(await victim.engine.receive(first, 'x')).toMatchObject({ accepted: false, reason: 'replay' });
    expect(victim.engine.rejections()).toContainEqual({ sender: evil.nodeId, reason: 'replay', count: 1 });
    // Replays are anyone's doing: they do not count against the node replayed.
    expect(victim.engine.peers().find((p) => p.nodeId === evil.nodeId)!.rejected).toBe(0);
  });

  it('forged entries and checkpoints are refused and counted against the signed sender', async () => {
    const { victim, author } = await victimAndAuthor();
    const evil = await hostile();
    const batch = (await author.kernel.readBatch(author.kernel.origin, 0, 1 << 20))!;
    const forgedEntry = batch.entries.map((e, i) => (i === 1 ? e.slice(0, -1) : e));
    const otherNode = await Kernel.open({ store: new MemoryLedgerStore(), signer: evil.signer, now: () => 0 });
    await otherNode.append('x');
    const cases: [Body, string][] = [
      [{ type: 'REPLICATE', batch: { ...batch, start: 0, entries: forgedEntry } }, 'batch:bad-entry'],
      [{ type: 'REPLICATE', batch: { ...batch, checkpoint: otherNode.checkpoint() } }, 'batch:bad-checkpoint'],
      [{ type: 'REPLICATE', batch: { ...batch, verifierKey: otherNode.verifierKey } }, 'batch:bad-key'],
    ];
    const root = victim.kernel.stateRoot();
    for (const [body, reason] of cases) {
      expect(await victim.engine.receive(await evil.send(body), 'x')).toMatchObject({ accepted: false, reason });
    }
    expect(victim.kernel.stateRoot()).toBe(root);
    const evilPeer = victim.engine.peers().find((p) => p.nodeId === evil.nodeId);
    expect(evilPeer?.rejected).toBe(3);
  });

  it('a flood is cut off by the rate limit and the node keeps serving honest peers', async () => {
    const { net, victim, author } = await victimAndAuthor();
    const evil = await hostile();
    let refused = 0;
    for (let i = 0; i < 3000; i++) {
      const result = await victim.engine.receive(await evil.send({ type: 'DISCOVER' }), 'flood-link');
      if (result.reason === 'flood') refused++;
    }
    expect(refused).toBeGreaterThan(0);
    await author.kernel.append('still flowing');
    expect(await net.converge(10_000)).toBe(true);
  }, 60_000);

  it('fuzz: random and mutated messages never throw, never change state', async () => {
    const { victim } = await victimAndAuthor();
    const evil = await hostile();
    const sample = await evil.send({ type: 'HEARTBEAT', root: new Uint8Array(32), logs: 0 });
    const root = victim.kernel.stateRoot();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 400 }),
          fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([at, byte]) => {
            const copy = sample.slice();
            copy[at % copy.length] = byte;
            return copy;
          }),
        ),
        async (bytes) => {
          const result = await victim.engine.receive(bytes, 'fuzz');
          expect(typeof result.accepted).toBe('boolean');
        },
      ),
      { numRuns: 1500 },
    );
    expect(victim.kernel.stateRoot()).toBe(root);
  }, 60_000);

  it('decodeEnvelope refuses every shape violation with MessageDecodeError', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        let bytes: Uint8Array;
        try {
          bytes = dagCbor.encode(value);
        } catch {
          return;
        }
        expect(() => decodeEnvelope(bytes)).toThrow(MessageDecodeError);
      }),
      { numRuns: 2000 },
    );
  });
});
