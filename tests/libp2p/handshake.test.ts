import '../../server/runtime.js';
import { identify } from '@libp2p/identify';
import type { Stream } from '@libp2p/interface';
import { noise } from '@libp2p/noise';
import { ping } from '@libp2p/ping';
import { lpStream } from '@libp2p/utils';
import { webSockets } from '@libp2p/websockets';
import { yamux } from '@libp2p/yamux';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p, type Libp2p } from 'libp2p';
import { afterEach, describe, expect, it } from 'vitest';
import { withLength } from '../../adapters/libp2p/frames.js';
import { SYNC_PROTOCOL } from '../../adapters/libp2p/sync-transport.js';
import type { Signer } from '../../src/crypto/ed25519.js';
import {
  decodeHandshakeMessage,
  encodeHandshakeMessage,
  HANDSHAKE_PROTOCOL,
  HandshakeInitiator,
  type HandshakeMessage,
  NonceRegistry,
} from '../../src/federation/handshake.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { MemoryLedgerStore } from '../../src/storage/memory-store.js';
import { NodeFederation } from '../../server/node-federation.js';
import { createTestNode, dial, linked, newSigner, TEST_MANIFEST, type TestNode, until } from '../support/libp2p-nodes.js';
import { startRelayProcess } from '../support/relay-process.js';

/**
 * The handshake between real libp2p nodes: who may link, and what happens to those who
 * may not. The hostile side is a plain libp2p node speaking the protocol by hand.
 */

const stoppers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stoppers.splice(0).map((stop) => stop()));
});

async function node(options: Parameters<typeof createTestNode>[0] = {}): Promise<TestNode> {
  const created = await createTestNode({ listen: true, ...options });
  stoppers.push(() => created.stop());
  return created;
}

/** A libp2p node without the Naos service, to speak the protocol by hand. */
async function bare(): Promise<Libp2p> {
  const libp2p = await createLibp2p({
    transports: [webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify(), ping: ping() },
  });
  stoppers.push(async () => {
    await libp2p.stop();
  });
  return libp2p;
}

/** Runs the initiator's side by hand; `tamper` may change our proof before it is sent. */
async function handshakeByHand(
  from: Libp2p,
  to: TestNode,
  signer: Signer,
  options: { nonce?: Uint8Array; tamper?: (proof: HandshakeMessage) => HandshakeMessage } = {},
): Promise<{ result: HandshakeMessage; stream: Stream }> {
  const stream = await from.dialProtocol(multiaddr(to.wsAddress()), HANDSHAKE_PROTOCOL);
  const lp = lpStream(stream);
  const side = new HandshakeInitiator({
    signer,
    manifest: TEST_MANIFEST,
    self: from.peerId.toString(),
    remote: to.peerId,
    nonce: options.nonce ?? crypto.getRandomValues(new Uint8Array(32)),
    nonces: new NonceRegistry(),
  });
  await lp.write(encodeHandshakeMessage(side.challenge()));
  const { reply } = await side.onResponse(decodeHandshakeMessage((await lp.read()).subarray()));
  await lp.write(encodeHandshakeMessage(options.tamper ? options.tamper(reply) : reply));
  return { result: decodeHandshakeMessage((await lp.read()).subarray()), stream };
}

function refusalReason(message: HandshakeMessage): string | undefined {
  return message.type === 'result' && !message.ok ? message.reason : undefined;
}

const connectedTo = (libp2p: Libp2p, peer: string) =>
  libp2p.getConnections().some((c) => c.remotePeer.toString() === peer && c.status === 'open');

describe('the libp2p handshake', () => {
  it('links two nodes: node id ↔ peer id known, manifests exchanged, trust experimental whatever is claimed', async () => {
    const a = await node({ sync: { manifest: { ...TEST_MANIFEST, trust: 'verified', region: 'eu' } } });
    const b = await node();
    await dial(a, b.wsAddress());
    await until(() => linked(a, b), 'a link');
    const [seen, ...more] = b.transport.peers();
    expect(more).toEqual([]);
    expect(seen).toMatchObject({ peerId: a.peerId, nodeId: a.nodeId, trust: 'experimental', streams: 1, direct: true });
    expect(seen!.manifest).toMatchObject({ trust: 'verified', region: 'eu' });
    expect(a.transport.peerIdOf(b.nodeId)).toBe(b.peerId);
    expect(a.transport.stats()).toMatchObject({ linked: 1, streams: 1, handshakes: 1, refused: {} });
  });

  it('leaves limited (relayed) connections to signalling by default; a direct connection carries sync', async () => {
    const relay = await startRelayProcess(); // default relay limits, as npm start runs it
    stoppers.push(() => relay.kill());
    const a = await node({ relay: relay.multiaddrs[0]! });
    const b = await node({ relay: relay.multiaddrs[0]! });
    const relayed = await a.libp2p.dial(multiaddr(b.circuitAddress()));
    expect(relayed.limits).toBeDefined();
    // Identify has run over it (so the handshake would have started by now)…
    await until(() => b.libp2p.getConnections(a.libp2p.peerId).length > 0, 'the relayed connection');
    await until(async () => (await a.libp2p.peerStore.get(b.libp2p.peerId)).protocols.includes(HANDSHAKE_PROTOCOL), 'identify');
    // … and nothing was linked over it.
    expect([a.transport.stats().handshakes, b.transport.stats().handshakes, a.transport.stats().linked]).toEqual([0, 0, 0]);
    await dial(a, b.wsAddress());
    await until(() => linked(a, b), 'a direct link');
    expect(a.transport.peers()[0]).toMatchObject({ nodeId: b.nodeId, direct: true });
  });

  it('a federation of kernels syncs over it', async () => {
    const [a, b] = [await node(), await node()];
    const kernels = await Promise.all([a, b].map((n) => Kernel.open({ store: new MemoryLedgerStore(), signer: n.signer, now: Date.now })));
    const federations = await Promise.all(
      [a, b].map((n, i) =>
        NodeFederation.start({ kernel: kernels[i]!, signer: n.signer, manifest: TEST_MANIFEST, transports: [n.transport], tickMs: 50 }),
      ),
    );
    stoppers.push(async () => {
      await Promise.all(federations.map((f) => f.close()));
    });
    await dial(a, b.wsAddress());
    await kernels[0]!.appendMany(Array.from({ length: 200 }, (_, i) => ({ i })));
    await kernels[1]!.append('from b');
    await until(
      () => kernels[0]!.stateRoot() === kernels[1]!.stateRoot() && kernels[1]!.heads().some((h) => h.size === 200),
      'convergence',
    );
    expect(federations[1]!.engine.peers().map((p) => p.nodeId)).toEqual([a.nodeId]);
  });

  it('refuses a bad signature, says why, and closes the connection', async () => {
    const victim = await node();
    const mallory = await bare();
    const { result } = await handshakeByHand(mallory, victim, await newSigner(), {
      tamper: (proof) => {
        if (proof.type !== 'proof') return proof;
        const sig = proof.identity.sig.slice();
        sig[0]! ^= 1;
        return { ...proof, identity: { ...proof.identity, sig } };
      },
    });
    expect(refusalReason(result)).toMatch(/^bad-signature/);
    await until(() => !connectedTo(mallory, victim.peerId), 'the connection closed');
    expect(victim.transport.stats()).toMatchObject({ linked: 0, refused: { 'bad-signature': 1 } });
  });

  it('refuses a replayed challenge', async () => {
    const victim = await node();
    const mallory = await bare();
    const signer = await newSigner();
    const nonce = crypto.getRandomValues(new Uint8Array(32));
    expect((await handshakeByHand(mallory, victim, signer, { nonce })).result).toEqual({ type: 'result', ok: true });
    let replayed: HandshakeMessage | undefined;
    try {
      replayed = (await handshakeByHand(mallory, victim, signer, { nonce })).result;
    } catch {
      // The victim refused before answering: the stream ended.
    }
    if (replayed) expect(refusalReason(replayed)).toMatch(/^replayed-nonce/);
    await until(() => victim.transport.stats().refused['replayed-nonce'] === 1, 'the refusal');
    await until(() => !connectedTo(mallory, victim.peerId), 'the connection closed');
  });

  it('refuses a node id claimed by a second live peer id, and keeps the first', async () => {
    const victim = await node();
    const signer = await newSigner();
    const first = await node({ signer });
    const clone = await node({ signer });
    await dial(first, victim.wsAddress());
    await until(() => linked(first, victim), 'the first link');
    await dial(clone, victim.wsAddress());
    await until(
      () => (victim.transport.stats().refused['node-id-in-use'] ?? 0) + (clone.transport.stats().refused['refused-by-peer'] ?? 0) > 0,
      'the refusal',
    );
    await until(() => !connectedTo(clone.libp2p, victim.peerId), 'the clone disconnected');
    expect(victim.transport.peers().map((p) => p.peerId)).toEqual([first.peerId]);
    expect(victim.transport.peerIdOf(first.nodeId)).toBe(first.peerId);
  });

  it('accepts no sync stream before a handshake, and aborts one that sends an oversized frame', async () => {
    const victim = await node();
    const got: Uint8Array[] = [];
    victim.transport.onMessage((bytes) => got.push(bytes));
    const mallory = await bare();
    try {
      const early = await mallory.dialProtocol(multiaddr(victim.wsAddress()), SYNC_PROTOCOL);
      early.send(withLength(new Uint8Array([1, 2, 3])));
    } catch {
      // The victim may have reset the stream already: that is the point.
    }
    await until(() => victim.transport.stats().refused['sync-before-handshake'] === 1, 'the refusal');

    const signer = await newSigner();
    expect((await handshakeByHand(mallory, victim, signer)).result).toEqual({ type: 'result', ok: true });
    const stream = await mallory.dialProtocol(multiaddr(victim.wsAddress()), SYNC_PROTOCOL);
    stream.send(withLength(new TextEncoder().encode('fine')));
    await until(() => got.length === 1, 'a frame');
    // A length prefix of 5 MiB: refused before the frame is buffered.
    stream.send(new Uint8Array([0x80, 0x80, 0xc0, 0x02]));
    await until(() => victim.transport.stats().refused['oversized-frame'] === 1, 'the abort');
    expect(new TextDecoder().decode(got[0])).toBe('fine');
  });
});
