import { describe, expect, it } from 'vitest';
import { MessageDecodeError } from '../../src/federation/messages.js';
import { type Outbox, syncNode, TEST_MANIFEST } from '../support/sync-node.js';

/**
 * SyncEngine.greet: when a transport links a node (a new libp2p connection), the two
 * reconcile at once instead of waiting for the next heartbeat.
 */
describe('SyncEngine.greet', () => {
  it('sends the linked node our state root at once, and the two reconcile without a heartbeat tick', async () => {
    const toA: Outbox = [];
    const toB: Outbox = [];
    const a = await syncNode(1, toB);
    const b = await syncNode(2, toA);
    await a.kernel.append('held by a only');
    await a.engine.start();
    await b.engine.start();
    // Each started alone: what they sent then went nowhere.
    toA.length = 0;
    toB.length = 0;
    await b.engine.greet(a.kernel.nodeId);
    expect(toA.map((m) => m.to)).toEqual([a.kernel.nodeId]);
    await b.engine.greet(b.kernel.nodeId);
    expect(toA).toHaveLength(1);
    // Deliver both ways until nothing is left (no tick: the clock never moves).
    for (let round = 0; round < 50 && (toA.length > 0 || toB.length > 0); round++) {
      for (const { bytes } of toA.splice(0)) expect(await a.engine.receive(bytes, 'b')).toEqual({ accepted: true });
      for (const { bytes } of toB.splice(0)) expect(await b.engine.receive(bytes, 'a')).toEqual({ accepted: true });
      await Promise.all([a.engine.settled(), b.engine.settled()]);
    }
    expect(b.kernel.stateRoot()).toBe(a.kernel.stateRoot());
    // The one entry b lacked came once, and nothing it already held came again.
    expect(b.engine.traffic()).toMatchObject({ entriesIn: 1, entriesDuplicate: 0 });
  });
});

describe('SyncEngine.announce', () => {
  it('tells every peer the new manifest at once; later introductions carry it', async () => {
    const toA: Outbox = [];
    const toB: Outbox = [];
    const a = await syncNode(1, toB);
    const b = await syncNode(2, toA);
    await a.engine.start();
    await b.engine.start();
    for (const { bytes } of toB.splice(0)) await b.engine.receive(bytes, 'a');
    expect(b.engine.peers().find((p) => p.nodeId === a.kernel.nodeId)?.manifest?.capabilities).toEqual([]);
    const next = { ...TEST_MANIFEST, capabilities: ['sync/libp2p'] };
    await a.engine.announce(next);
    expect(a.engine.manifest).toEqual(next);
    expect(toB).toHaveLength(1);
    for (const { bytes } of toB.splice(0)) expect(await b.engine.receive(bytes, 'a')).toEqual({ accepted: true });
    expect(b.engine.peers().find((p) => p.nodeId === a.kernel.nodeId)?.manifest?.capabilities).toEqual(['sync/libp2p']);
  });

  it('refuses a manifest that peers would refuse, and keeps the old one', async () => {
    const outbox: Outbox = [];
    const a = await syncNode(1, outbox);
    await a.engine.start();
    outbox.length = 0;
    const tooMany = { ...TEST_MANIFEST, capabilities: Array.from({ length: 65 }, (_, i) => `c${i}`) };
    await expect(a.engine.announce(tooMany)).rejects.toThrow(MessageDecodeError);
    await expect(a.engine.announce({ ...TEST_MANIFEST, region: 'x'.repeat(65) })).rejects.toThrow(MessageDecodeError);
    expect(a.engine.manifest).toEqual(TEST_MANIFEST);
    expect(outbox).toEqual([]);
  });
});
