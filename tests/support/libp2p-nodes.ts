import '../../server/runtime.js';
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { identify } from '@libp2p/identify';
import { noise } from '@libp2p/noise';
import { ping } from '@libp2p/ping';
import { webSockets } from '@libp2p/websockets';
import { yamux } from '@libp2p/yamux';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p, type Libp2p } from 'libp2p';
import { webcrypto } from 'node:crypto';
import { keepConnected, type KeepConnected, type KeepConnectedInit } from '../../adapters/libp2p/keep-connected.js';
import { naosSync, type NaosSyncInit, type NaosSyncTransport } from '../../adapters/libp2p/sync-transport.js';
import { type Signer, webCryptoSigner } from '../../src/crypto/ed25519.js';
import { nodeIdFromPublicKey } from '../../src/identity/node-id.js';
import { TEST_MANIFEST } from './test-manifest.js';

/**
 * Real js-libp2p nodes for tests, on 127.0.0.1 over WebSockets: noise, yamux, identify,
 * ping, the Naos sync service, optionally a WebSockets listener, a relay reservation
 * (listening on /p2p-circuit through `relay`) and keep-connected targets.
 */
export interface TestNode {
  readonly libp2p: Libp2p<{ naos: NaosSyncTransport; keepConnected: KeepConnected }>;
  readonly transport: NaosSyncTransport;
  readonly signer: Signer;
  readonly nodeId: string;
  readonly peerId: string;
  multiaddrs(): string[];
  /** The direct WebSockets address (needs `listen`). */
  wsAddress(): string;
  /** The relayed address (needs `relay`), once the reservation is made. */
  circuitAddress(): string | undefined;
  stop(): Promise<void>;
}

export { TEST_MANIFEST };

export async function newSigner(): Promise<Signer> {
  return webCryptoSigner((await webcrypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify'])) as CryptoKeyPair);
}

export interface TestNodeOptions {
  readonly signer?: Signer;
  readonly listen?: boolean;
  /** Reserve a slot on this relay (a multiaddr ending in /p2p/<relay>). */
  readonly relay?: string;
  readonly keep?: KeepConnectedInit;
  readonly sync?: Partial<NaosSyncInit>;
}

export async function createTestNode(options: TestNodeOptions = {}): Promise<TestNode> {
  const signer = options.signer ?? (await newSigner());
  const listen = [...(options.listen ? ['/ip4/127.0.0.1/tcp/0/ws'] : []), ...(options.relay ? ['/p2p-circuit'] : [])];
  const libp2p = await createLibp2p({
    addresses: { listen },
    transports: [webSockets(), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { inboundConnectionThreshold: 1000 },
    services: {
      identify: identify(),
      ping: ping(),
      naos: naosSync({ signer, manifest: TEST_MANIFEST, ...options.sync }),
      keepConnected: keepConnected(options.keep ?? { targets: options.relay ? [options.relay] : [] }),
    },
  });
  const node: TestNode = {
    libp2p,
    transport: libp2p.services.naos,
    signer,
    nodeId: nodeIdFromPublicKey(signer.publicKey),
    peerId: libp2p.peerId.toString(),
    multiaddrs: () => libp2p.getMultiaddrs().map(String),
    wsAddress: () => node.multiaddrs().find((a) => !a.includes('/p2p-circuit'))!,
    circuitAddress: () => node.multiaddrs().find((a) => a.includes('/p2p-circuit')),
    stop: async () => {
      await libp2p.stop();
    },
  };
  if (options.relay) await until(() => node.circuitAddress() !== undefined, `a reservation on ${options.relay}`);
  return node;
}

export async function dial(from: TestNode, address: string): Promise<void> {
  await from.libp2p.dial(multiaddr(address), { signal: AbortSignal.timeout(10_000) });
}

/** Both sides have finished the handshake and have a sync stream with each other. */
export function linked(a: TestNode, b: TestNode): boolean {
  const ab = a.transport.peers().find((p) => p.nodeId === b.nodeId);
  const ba = b.transport.peers().find((p) => p.nodeId === a.nodeId);
  return (ab?.streams ?? 0) > 0 && (ba?.streams ?? 0) > 0;
}

export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The relay started by the Node project's global setup (tests/support/relay.global-setup.ts). */
export function testRelay(): string {
  const address = process.env['NAOS_TEST_RELAY'];
  if (!address) throw new Error('NAOS_TEST_RELAY is not set: the relay global setup did not run (vitest --project node)');
  return address;
}
