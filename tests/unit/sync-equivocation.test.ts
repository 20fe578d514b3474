import { describe, expect, it } from 'vitest';
import { webcrypto } from 'node:crypto';
import { webCryptoSigner } from '../../src/crypto/ed25519.js';
import { encodeEnvelope, signingBytes, type Body, type UnsignedEnvelope } from '../../src/federation/messages.js';
import { nodeIdFromPublicKey } from '../../src/identity/node-id.js';
import { encodeEntry } from '../../src/ledger/entry.js';
import { type Equivocation, makeEquivocation, verifyEquivocation } from '../../src/ledger/equivocation.js';
import { SimNet } from '../support/simnet.js';

/**
 * F11 over the simulated network: an author with one key and two stores (nodes 0 and 1,
 * twins) signs two histories, each seen by one half of the federation. When the halves
 * meet, the equivocation is proven from the two signed checkpoints, gossiped, recorded in
 * the ledger, and every node flags the author — including nodes that only ever saw one of
 * the histories, and nodes that never talk to a node that found the proof itself.
 */

const A = [2, 3, 4];
const B = [5, 6];
const HONEST = [...A, ...B];

async function splitFederation(seed: number, sizes: { a: number; b: number }) {
  // Nodes 0 and 1 are the twins; 2–4 see only history A, 5–6 only history B.
  const net = await SimNet.create({ seed, nodes: 7, twins: [[0, 1]] });
  const [author, twin] = [net.nodes[0]!, net.nodes[1]!];
  net.partition([0, 1, 0, 0, 0, 1, 1]);
  await author.kernel.appendMany(Array.from({ length: sizes.a }, (_, i) => `history A ${i}`));
  await twin.kernel.appendMany(Array.from({ length: sizes.b }, (_, i) => `history B ${i}`));
  await net.run(3000);
  for (const i of A) expect(held(net, i)).toEqual({ size: sizes.a, root: author.kernel.heads()[0]!.root });
  for (const i of B) expect(held(net, i)).toEqual({ size: sizes.b, root: twin.kernel.heads()[0]!.root });
  return { net, author, twin };
}

function held(net: SimNet, index: number): { size: number; root: string } | undefined {
  const origin = net.nodes[0]!.kernel.origin;
  const head = net.nodes[index]!.kernel.heads().find((h) => h.origin === origin);
  return head && { size: head.size, root: head.root };
}

async function everyoneFlags(net: SimNet, who: readonly number[], maxMs = 30_000): Promise<boolean> {
  const author = net.nodes[0]!.kernel.nodeId;
  for (let waited = 0; waited <= maxMs; waited += 250) {
    if (who.every((i) => net.nodes[i]!.kernel.flagged().some((f) => f.author === author))) return true;
    await net.run(250);
  }
  return false;
}

describe('equivocation over the simulated network (F11)', () => {
  for (const [what, sizes] of [
    ['two roots at the same size', { a: 3, b: 3 }],
    ['a longer second history (proof by consistency)', { a: 3, b: 5 }],
    ['a shorter second history', { a: 5, b: 2 }],
  ] as const) {
    it(`every node flags the author: ${what}`, async () => {
      const { net, author } = await splitFederation(10 + sizes.a * 7 + sizes.b, sizes);
      // The twins go quiet; the two halves meet.
      net.partition([8, 9, 0, 0, 0, 0, 0]);
      expect(await everyoneFlags(net, HONEST)).toBe(true);

      for (const i of HONEST) {
        const [flag] = net.nodes[i]!.kernel.flagged();
        expect(flag).toMatchObject({ origin: author.kernel.origin, author: author.kernel.nodeId, forkSize: Math.min(sizes.a, sizes.b) });
        // The proof stands on its own.
        expect((await verifyEquivocation(JSON.parse(JSON.stringify(flag!.evidence)))).author).toBe(author.kernel.nodeId);
        expect(net.nodes[i]!.engine.flagged()).toHaveLength(1);
      }
      // What each node accepted before the fork was known is kept.
      for (const i of A) expect(held(net, i)!.size).toBe(sizes.a);
      for (const i of B) expect(held(net, i)!.size).toBe(sizes.b);
      // The rest of the federation converges; the flagged log no longer counts.
      expect(await net.converge(30_000)).toBe(false); // the silent twins differ …
      expect(net.converged(HONEST)).toBe(true); // … every honest node agrees
      // The proof is in the ledger: one record, replicated to everyone.
      const records = net.nodes[2]!.kernel.timeline(1000).filter((e) => e.kind === 'naos.equivocation');
      expect(records.length).toBeGreaterThanOrEqual(1);
      expect(new Set(HONEST.map((i) => net.nodes[i]!.kernel.flagged()[0]!.record?.origin)).size).toBeLessThanOrEqual(records.length);
    });
  }

  it('a node that only ever saw one history and never met the other side is told by gossip', async () => {
    const { net, author } = await splitFederation(31, { a: 3, b: 3 });
    // Node 4 is cut off from everyone but node 2; node 2 meets the B side.
    net.partition([8, 9, 0, 0, 7, 0, 0]);
    expect(await everyoneFlags(net, [2, 3, 5, 6])).toBe(true);
    expect(net.nodes[4]!.kernel.flagged()).toEqual([]);
    net.partition([8, 9, 0, 0, 0, 0, 0]);
    expect(await everyoneFlags(net, [4])).toBe(true);
    expect(net.nodes[4]!.kernel.flagged()[0]!.author).toBe(author.kernel.nodeId);
    expect(held(net, 4)!.size).toBe(3);
  });

  it('a flagged author can write on, but its entries past the fork point reach no one', async () => {
    const { net, author } = await splitFederation(41, { a: 2, b: 2 });
    net.partition([8, 9, 0, 0, 0, 0, 0]);
    expect(await everyoneFlags(net, HONEST)).toBe(true);
    net.partition([0, 9, 0, 0, 0, 0, 0]); // the author (history A) comes back
    await author.kernel.appendMany(['after the fork', 'and more']);
    await net.run(3000);
    for (const i of A) expect(held(net, i)!.size).toBe(2);
    for (const i of B) expect(held(net, i)!.size).toBe(2);
    expect(net.converged(HONEST)).toBe(true);
  });

  it('forged evidence is refused, counted against its sender, and flags no one', async () => {
    const net = await SimNet.create({ seed: 51, nodes: 3 });
    const [victim, honest] = [net.nodes[0]!, net.nodes[1]!];
    await honest.kernel.appendMany([1, 2]);
    expect(await net.converge(10_000)).toBe(true);
    const keys = (await webcrypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify'])) as CryptoKeyPair;
    const liar = await webCryptoSigner(keys);
    const liarId = nodeIdFromPublicKey(liar.publicKey);
    let seq = 0;
    const send = async (body: Body) => {
      const unsigned: UnsignedEnvelope = { v: 1, from: liarId, key: liar.publicKey, session: new Uint8Array(8).fill(7), seq: seq++, body };
      return victim.engine.receive(encodeEnvelope({ ...unsigned, sig: await liar.sign(signingBytes(unsigned)) }), 'liar');
    };
    const checkpoint = honest.kernel.checkpoint();
    const claims: [Equivocation, string][] = [
      // The same checkpoint twice does not contradict itself.
      [
        makeEquivocation({
          origin: honest.kernel.origin,
          verifierKey: honest.kernel.verifierKey,
          notes: [
            { note: checkpoint, size: 2 },
            { note: checkpoint.replace('\n2\n', '\n2\n'), size: 2 },
          ],
        }),
        'evidence:malformed',
      ],
      // A checkpoint "signed" by the liar for the honest node's log.
      [
        {
          origin: honest.kernel.origin,
          verifierKey: honest.kernel.verifierKey,
          a: checkpoint,
          b: checkpoint.replace(/\n\n— /, '\nextension\n\n— '),
        },
        'evidence:bad-checkpoint',
      ],
      // A record whose key is not the log's.
      [{ origin: honest.kernel.origin, verifierKey: victim.kernel.verifierKey, a: checkpoint, b: checkpoint }, 'evidence:bad-key'],
    ];
    for (const [evidence, reason] of claims) expect(await send({ type: 'EVIDENCE', evidence })).toEqual({ accepted: false, reason });
    expect(victim.kernel.flagged()).toEqual([]);
    expect(
      victim.engine
        .rejections()
        .filter((r) => r.sender === liarId)
        .map((r) => r.reason),
    ).toEqual(['evidence:malformed', 'evidence:bad-checkpoint', 'evidence:bad-key']);
    await net.run(2000);
    expect(net.converged()).toBe(true);
  });

  it('a relaying peer that alters entries under a genuine checkpoint gets the batch refused, not the author flagged', async () => {
    const net = await SimNet.create({ seed: 61, nodes: 2 });
    const [victim, author] = [net.nodes[0]!, net.nodes[1]!];
    await author.kernel.appendMany(['a', 'b']);
    expect(await net.converge(10_000)).toBe(true);
    await author.kernel.append('c');
    const genuine = (await author.kernel.readBatch(author.kernel.origin, 1, 1 << 20))!;
    const substitute = encodeEntry({
      v: 1,
      kind: 'data',
      author: author.kernel.nodeId,
      seq: 2,
      time: { wall: 1, count: 0 },
      payload: 'forged',
    });
    const forged = { ...genuine, entries: [genuine.entries[0]!, substitute] };
    const keys = (await webcrypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify'])) as CryptoKeyPair;
    const relay = await webCryptoSigner(keys);
    const unsigned: UnsignedEnvelope = {
      v: 1,
      from: nodeIdFromPublicKey(relay.publicKey),
      key: relay.publicKey,
      session: new Uint8Array(8).fill(5),
      seq: 0,
      body: { type: 'REPLICATE', batch: forged },
    };
    const result = await victim.engine.receive(encodeEnvelope({ ...unsigned, sig: await relay.sign(signingBytes(unsigned)) }), 'relay');
    expect(result.accepted).toBe(false);
    expect(result.reason).toMatch(/^batch:/);
    expect(result.reason).not.toBe('batch:fork');
    await net.run(2000);
    expect(victim.kernel.flagged()).toEqual([]);
    expect(net.converged()).toBe(true);
  });
});
