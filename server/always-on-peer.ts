import './runtime.js';
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { identify } from '@libp2p/identify';
import { noise } from '@libp2p/noise';
import { ping } from '@libp2p/ping';
import { webSockets } from '@libp2p/websockets';
import { yamux } from '@libp2p/yamux';
import { createLibp2p, type Libp2p } from 'libp2p';
import { join } from 'node:path';
import { keepConnected, type KeepConnected } from '../adapters/libp2p/keep-connected.js';
import { naosSync, type NaosSyncTransport } from '../adapters/libp2p/sync-transport.js';
import { openNodeKernel, type NodeKernel } from '../adapters/node/node-kernel.js';
import { type Manifest, SYNC_LIBP2P } from '../src/federation/messages.js';
import { wsListenAddress } from './listen-address.js';
import { loadOrCreateLibp2pKey } from './libp2p-key.js';
import { NodeFederation } from './node-federation.js';

/**
 * The always-on headless Node kernel (F10; a pod host and bridge): a Kernel over the
 * durable LevelDB store of its data dir (`openNodeKernel`, the same the CLI uses), and a
 * SyncEngine over the libp2p sync transport. It listens on WebSockets (so browsers and
 * other Node peers dial it directly), keeps connected to the relays it is given, and
 * replicates every log it hears of — there is no data-location policy yet (F28), so every
 * log is allowed. Its libp2p key lives next to the node key (`libp2p.key`), so its
 * peer id and addresses survive restarts.
 */
export interface AlwaysOnPeerOptions {
  readonly dataDir: string;
  readonly host: string;
  /** TCP port of the WebSockets listener; 0 picks a free one. */
  readonly port: number;
  /** Relay/bootstrap multiaddrs (each ending in /p2p/<id>) to stay connected to and reserve a slot on. */
  readonly relays?: readonly string[];
  readonly announce?: readonly string[];
  readonly region?: string;
  readonly tickMs?: number;
  readonly heartbeatMs?: number;
  /** Sync over relayed (limited) connections too (only with a relay started `unlimited`). */
  readonly allowLimitedConnections?: boolean;
}

export interface AlwaysOnPeer {
  readonly node: NodeKernel;
  readonly libp2p: Libp2p<{ naos: NaosSyncTransport; keepConnected: KeepConnected }>;
  readonly federation: NodeFederation;
  readonly nodeId: string;
  readonly peerId: string;
  readonly manifest: Manifest;
  /** Dialable addresses: the WebSockets listener, and relayed ones once a reservation is made. */
  multiaddrs(): string[];
  stop(): Promise<void>;
}

export const PEER_SOFTWARE = 'naos-peer/0.1.0';
/** How long after a start the peer's own appends wait to hear from a peer (KernelOptions.awaitPeersUntil). */
const AWAIT_PEERS_MS = 10_000;

export async function startAlwaysOnPeer(options: AlwaysOnPeerOptions): Promise<AlwaysOnPeer> {
  // Its own log takes only equivocation records, but a LevelDB that dropped its last
  // writes is a rollback like any other: after a restart, browsers reconnect within
  // seconds and show it before anything is signed again (docs/THREAT_MODEL.md).
  // The wait is counted once the peer can hear others (verifying many logs on open takes time).
  let peersDeadline = (): void => undefined;
  const awaitPeersUntil = new Promise<void>((resolve) => (peersDeadline = resolve));
  const node = await openNodeKernel(options.dataDir, { create: true, awaitPeersUntil });
  try {
    const { privateKey } = await loadOrCreateLibp2pKey(join(node.dataDir, 'libp2p.key'));
    const manifest: Manifest = {
      region: options.region ?? 'local',
      shard: `${options.region ?? 'local'}-0`,
      types: ['pod-host', 'bridge'],
      capabilities: ['replicate-all', 'always-on', SYNC_LIBP2P],
      trust: 'experimental',
      started: Date.now(),
      software: PEER_SOFTWARE,
    };
    const relays = options.relays ?? [];
    const libp2p = await createLibp2p({
      privateKey,
      addresses: {
        listen: [wsListenAddress(options.host, options.port), ...(relays.length > 0 ? ['/p2p-circuit'] : [])],
        ...(options.announce && options.announce.length > 0 ? { announce: [...options.announce] } : {}),
      },
      transports: [webSockets(), circuitRelayTransport()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionManager: { maxConnections: 1024, inboundConnectionThreshold: 1000, maxIncomingPendingConnections: 256 },
      services: {
        identify: identify(),
        ping: ping(),
        naos: naosSync({ signer: node.signer, manifest, allowLimitedConnections: options.allowLimitedConnections ?? false }),
        keepConnected: keepConnected({ targets: relays }),
      },
    });
    const federation = await NodeFederation.start({
      kernel: node.kernel,
      signer: node.signer,
      manifest,
      transports: [libp2p.services.naos],
      ...(options.tickMs === undefined ? {} : { tickMs: options.tickMs }),
      ...(options.heartbeatMs === undefined ? {} : { sync: { heartbeatMs: options.heartbeatMs } }),
    });
    setTimeout(peersDeadline, AWAIT_PEERS_MS).unref();
    let stopped = false;
    return {
      node,
      libp2p,
      federation,
      nodeId: node.kernel.nodeId,
      peerId: libp2p.peerId.toString(),
      manifest,
      multiaddrs: () => libp2p.getMultiaddrs().map(String),
      async stop() {
        if (stopped) return;
        stopped = true;
        await federation.close();
        await libp2p.stop();
        await node.close();
      },
    };
  } catch (error) {
    await node.close();
    throw error;
  }
}
