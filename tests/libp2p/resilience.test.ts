import '../../server/runtime.js';
import type { Libp2p } from 'libp2p';
import { mkdtemp, rm } from 'node:fs/promises';
import { getEventListeners } from 'node:events';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Kernel } from '../../src/kernel/kernel.js';
import { MemoryLedgerStore } from '../../src/storage/memory-store.js';
import { NodeFederation } from '../../server/node-federation.js';
import { createTestNode, dial, linked, TEST_MANIFEST, type TestNode, until } from '../support/libp2p-nodes.js';
import { type RelayProcess, startRelayProcess } from '../support/relay-process.js';

/**
 * Resilience on the Node side (issue 4 §5), with real libp2p nodes and a relay in its own
 * process: killing the relay ends only what went through it; when it comes back, nodes
 * rejoin it by themselves, backing off; and peers joining and leaving over and over leave
 * no connections, streams or listeners behind.
 */

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function federate(node: TestNode): Promise<Kernel> {
  const kernel = await Kernel.open({ store: new MemoryLedgerStore(), signer: node.signer, now: Date.now });
  const federation = await NodeFederation.start({
    kernel,
    signer: node.signer,
    manifest: TEST_MANIFEST,
    transports: [node.transport],
    tickMs: 50,
  });
  cleanups.push(() => federation.close());
  return kernel;
}

const connectedTo = (node: TestNode, peer: string) =>
  node.libp2p.getConnections().some((c) => c.remotePeer.toString() === peer && c.status === 'open');

describe('resilience of the libp2p federation (Node)', () => {
  it('relay killed: direct links keep syncing; relay back: nodes rejoin it by themselves, backing off', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'naos-relay-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const key = join(dir, 'relay.key');
    const port = await freePort();
    let relay: RelayProcess = await startRelayProcess({ port, key });
    cleanups.push(() => relay.kill());
    const relayAddress = relay.multiaddrs[0]!;
    // random() = 0.5: the waits are deterministic, 0.75 × 100 ms × 2^attempt up to 1.6 s.
    const keep = { targets: [relayAddress], minDelayMs: 100, maxDelayMs: 1600, random: () => 0.5 };
    const a = await createTestNode({ listen: true, relay: relayAddress, keep });
    const b = await createTestNode({ listen: true, relay: relayAddress, keep });
    cleanups.push(
      () => a.stop(),
      () => b.stop(),
    );
    const [ka, kb] = [await federate(a), await federate(b)];
    await dial(a, b.wsAddress());
    await until(() => linked(a, b), 'the direct link');

    await relay.kill('SIGKILL');
    await until(() => !connectedTo(a, relay.peerId) && !connectedTo(b, relay.peerId), 'both nodes to notice');
    await ka.append('while the relay is down');
    await until(() => kb.stateRoot() === ka.stateRoot(), 'sync over the direct link');
    expect(linked(a, b)).toBe(true);

    // Let each node fail a few times, one retry pending at a time, each wait longer.
    await until(
      () => a.libp2p.services.keepConnected.stats().failures >= 3 && b.libp2p.services.keepConnected.stats().failures >= 3,
      'retries',
    );
    for (const node of [a, b]) {
      const stats = node.libp2p.services.keepConnected.stats();
      expect(stats.scheduled).toBeLessThanOrEqual(1);
      const delays = stats.recentDelaysMs.slice(-3);
      expect(delays[1]! / delays[0]!).toBe(2);
      expect(delays[2]! / delays[1]!).toBe(2);
    }

    relay = await startRelayProcess({ port, key });
    expect(relay.multiaddrs[0]).toBe(relayAddress);
    await until(() => connectedTo(a, relay.peerId) && connectedTo(b, relay.peerId), 'both nodes back on the relay', 20_000);
    await until(() => a.circuitAddress() !== undefined && b.circuitAddress() !== undefined, 'new reservations', 20_000);
    await kb.append('after the relay came back');
    await until(() => ka.stateRoot() === kb.stateRoot(), 'sync');
  });

  it('churn: peers joining and leaving repeatedly leave no connections, streams or listeners behind', async () => {
    const hub = await createTestNode({ listen: true });
    cleanups.push(() => hub.stop());
    const eventTypes = ['peer:disconnect', 'peer:connect', 'peer:identify', 'connection:open', 'connection:close'] as const;
    const listeners = (libp2p: Libp2p) => eventTypes.map((type) => getEventListeners(libp2p as unknown as EventTarget, type).length);
    const baseline = { connections: hub.libp2p.getConnections().length, listeners: listeners(hub.libp2p) };
    const received: string[] = [];
    hub.transport.onMessage((bytes) => received.push(new TextDecoder().decode(bytes)));

    const rounds = 12;
    for (let round = 0; round < rounds; round++) {
      const guest = await createTestNode({ listen: true });
      const got: string[] = [];
      guest.transport.onMessage((bytes) => got.push(new TextDecoder().decode(bytes)));
      // Alternate who dials, so both sides take each role in the handshake.
      if (round % 2 === 0) await dial(guest, hub.wsAddress());
      else await dial(hub, guest.wsAddress());
      await until(() => linked(hub, guest), `link ${round}`);
      guest.transport.send(new TextEncoder().encode(`hello ${round}`), hub.nodeId);
      hub.transport.send(new TextEncoder().encode(`welcome ${round}`), guest.nodeId);
      await until(() => received.includes(`hello ${round}`) && got.includes(`welcome ${round}`), `messages ${round}`);
      await guest.stop();
    }

    await until(
      () => hub.libp2p.getConnections().length === baseline.connections && hub.transport.stats().linked === 0,
      'the hub to forget every guest',
    );
    expect(hub.transport.stats()).toMatchObject({
      linked: 0,
      streams: 0,
      handshakesInFlight: 0,
      queuedBytes: 0,
      handshakes: rounds,
      refused: {},
    });
    expect(hub.transport.peers()).toEqual([]);
    expect(listeners(hub.libp2p)).toEqual(baseline.listeners);
    expect(hub.libp2p.getConnections().flatMap((c) => c.streams)).toEqual([]);
  });
});
