import { createTestNode, dial, linked, type TestNode, testRelay, until } from '../support/libp2p-nodes.js';
import { transportContract } from './transport-contract.js';

/**
 * The libp2p sync transport passes the transport contract in Node: real js-libp2p nodes
 * on 127.0.0.1 over WebSockets, with the handshake and one sync stream per connection.
 * Twice: nodes dialing each other's WebSockets listeners, and nodes that cannot listen
 * (as browsers cannot) reaching each other through the relay of the global setup.
 * Node ids are proven, not chosen: each transport reports its own (`nodeId`).
 */
async function mesh(nodes: TestNode[], addressOf: (node: TestNode) => string): Promise<void> {
  for (let i = 0; i < nodes.length; i++) {
    for (let j = i + 1; j < nodes.length; j++) await dial(nodes[i]!, addressOf(nodes[j]!));
  }
  await until(() => nodes.every((a) => nodes.every((b) => a === b || linked(a, b))), 'every pair linked');
}

function harness(variant: 'direct' | 'relayed') {
  const nodes: TestNode[] = [];
  return {
    addressed: true,
    async connect(nodeIds: readonly string[]) {
      for (let i = 0; i < nodeIds.length; i++) {
        nodes.push(
          await createTestNode(variant === 'direct' ? { listen: true } : { relay: testRelay(), sync: { allowLimitedConnections: true } }),
        );
      }
      await mesh(nodes, (node) => (variant === 'direct' ? node.wsAddress() : node.circuitAddress()!));
      return nodes.map((node) => node.transport);
    },
    async teardown() {
      await Promise.all(nodes.map((node) => node.stop()));
    },
  };
}

transportContract('libp2p (direct WebSockets)', () => harness('direct'));
transportContract('libp2p (through the circuit relay)', () => harness('relayed'));
