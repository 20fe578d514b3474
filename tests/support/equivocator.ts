/**
 * An equivocating node, as a process (for the end-to-end tests): one node key, two
 * stores with different histories of its log — "twins" as in
 * tests/unit/sync-equivocation.test.ts. Twin A connects to the always-on peer (a
 * WebSockets multiaddr), syncs its history and leaves; then twin B connects with the
 * other history under the same key. The peer finds the two signed checkpoints, flags the
 * author and gossips the proof to everyone.
 *
 *   node --import tsx tests/support/equivocator.ts --peer /ip4/127.0.0.1/tcp/N/ws/p2p/<id>
 *
 * Prints one JSON line per step ({"step": "a-synced", "nodeId": …}, {"step": "b-linked"})
 * and then runs until SIGTERM.
 */
import '../../server/runtime.js';
import { parseArgs } from 'node:util';
import { Kernel } from '../../src/kernel/kernel.js';
import { MemoryLedgerStore } from '../../src/storage/memory-store.js';
import { NodeFederation } from '../../server/node-federation.js';
import { createTestNode, dial, newSigner, TEST_MANIFEST, type TestNode, until } from './libp2p-nodes.js';

const { values } = parseArgs({ options: { peer: { type: 'string' } } });
const peer = values.peer;
if (!peer) throw new Error('--peer <multiaddr of the always-on peer> is required');
const peerId = peer.slice(peer.lastIndexOf('/p2p/') + 5);

const signer = await newSigner();
const say = (line: object): void => void process.stdout.write(JSON.stringify(line) + '\n');

async function twin(history: string): Promise<{ node: TestNode; kernel: Kernel; federation: NodeFederation }> {
  const kernel = await Kernel.open({ store: new MemoryLedgerStore(), signer, now: Date.now });
  await kernel.append({ equivocator: history });
  const node = await createTestNode({ signer });
  const federation = await NodeFederation.start({ kernel, signer, manifest: TEST_MANIFEST, transports: [node.transport], tickMs: 100 });
  return { node, kernel, federation };
}

const a = await twin('history A');
await dial(a.node, peer);
await until(() => a.node.transport.peers().some((p) => p.peerId === peerId && p.streams > 0), 'twin A linked to the peer');
// The peer holds A's log once its heartbeat carries A's head: wait for its root to cover it.
await until(() => a.federation.engine.peers().some((p) => p.stateRoot === a.kernel.stateRoot()), 'the peer to hold history A', 60_000);
say({ step: 'a-synced', nodeId: a.kernel.nodeId, origin: a.kernel.origin });
await a.federation.close();
await a.node.stop();

const b = await twin('history B');
await dial(b.node, peer);
await until(() => b.node.transport.peers().some((p) => p.peerId === peerId && p.streams > 0), 'twin B linked to the peer', 30_000);
say({ step: 'b-linked', nodeId: b.kernel.nodeId });

const stop = (): void => {
  void b.federation
    .close()
    .then(() => b.node.stop())
    .finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
