import { describe, expect, it } from 'vitest';
import { seedSigner } from '../../src/crypto/ed25519.js';
import { encodeEnvelope, signingBytes, type UnsignedEnvelope } from '../../src/federation/messages.js';
import { SyncEngine } from '../../src/federation/sync-engine.js';
import { nodeIdFromPublicKey } from '../../src/identity/node-id.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { MemoryLedgerStore } from '../../src/storage/memory-store.js';

describe('a message that claims to come from the receiving node itself', () => {
  it('is refused as bad-identity when another key signed it, and dropped quietly when it is a genuine echo', async () => {
    const own = seedSigner(new Uint8Array(32).fill(1));
    const other = seedSigner(new Uint8Array(32).fill(2));
    const kernel = await Kernel.open({ store: new MemoryLedgerStore(), signer: own, now: () => 0 });
    const sent: Uint8Array[] = [];
    const engine = new SyncEngine({
      host: kernel,
      signer: own,
      manifest: { region: 't', shard: 't', types: [], capabilities: [], trust: 'experimental', started: 0, software: 't' },
      now: () => 0,
      randomBytes: (n) => new Uint8Array(n),
      send: (bytes) => sent.push(bytes),
    });
    await engine.start();
    const envelope = async (signer: typeof own) => {
      const unsigned: UnsignedEnvelope = {
        v: 1,
        from: kernel.nodeId,
        key: signer.publicKey,
        session: new Uint8Array(8).fill(3),
        seq: 0,
        body: { type: 'HEARTBEAT', root: new Uint8Array(32), logs: 0 },
      };
      return encodeEnvelope({ ...unsigned, sig: await signer.sign(signingBytes(unsigned)) });
    };
    expect(nodeIdFromPublicKey(other.publicKey)).not.toBe(kernel.nodeId);
    expect(await engine.receive(await envelope(other), 'x')).toEqual({ accepted: false, reason: 'bad-identity' });
    expect(await engine.receive(sent[0]!, 'x')).toEqual({ accepted: false, reason: 'own-message' });
    expect(engine.rejections()).toEqual([{ sender: 'link:x', reason: 'bad-identity', count: 1 }]);
  });
});
