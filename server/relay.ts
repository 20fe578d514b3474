import './runtime.js';
import { circuitRelayServer } from '@libp2p/circuit-relay-v2';
import { gossipsub } from '@libp2p/gossipsub';
import { identify } from '@libp2p/identify';
import type { PrivateKey } from '@libp2p/interface';
import { noise } from '@libp2p/noise';
import { ping } from '@libp2p/ping';
import { pubsubPeerDiscovery } from '@libp2p/pubsub-peer-discovery';
import { webSockets } from '@libp2p/websockets';
import { yamux } from '@libp2p/yamux';
import { createLibp2p, type Libp2p } from 'libp2p';
import { DISCOVERY_TOPIC } from '../adapters/libp2p/discovery-dialer.js';
import { wsListenAddress } from './listen-address.js';

/**
 * The relay/bootstrap node (F10): a js-libp2p node listening on WebSockets, running a
 * circuit-relay-v2 server (so browsers, which cannot listen, can reserve a slot and be
 * reached through it to set up direct WebRTC connections), identify and ping. It keeps
 * no ledger and takes part in no sync. It is also where nodes find each other: it runs
 * gossipsub and subscribes (listening only) to the discovery topic, so the addresses each
 * browser announces there (pubsub peer discovery) reach every other node connected to it.
 *
 * Limits are set for many local pages: libp2p's default inbound threshold (5 connections
 * per second per host) refuses the sixth page opened at once, and 15 reservations are
 * far too few for one machine's tabs.
 */
export interface RelayOptions {
  readonly host: string;
  /** TCP port of the WebSockets listener; 0 picks a free one. */
  readonly port: number;
  /** The relay's libp2p identity (persist it so its address stays the same). */
  readonly privateKey?: PrivateKey;
  /** Addresses to announce instead of the listening ones (e.g. behind a proxy). */
  readonly announce?: readonly string[];
  /** Most reservations (relayed listeners) at once (default 1024). */
  readonly maxReservations?: number;
  /**
   * Relayed connections without data/time limits. Off by default — the relay is for
   * signalling; sync runs on direct connections — but tests that sync Node peers through
   * the relay turn it on.
   */
  readonly unlimited?: boolean;
  /**
   * Bytes one relayed connection may carry before the relay closes it (default 4 MiB;
   * libp2p's own default, 128 KiB, is used up by ≈14 WebRTC signalling rounds between
   * the same two nodes, which share one relayed connection: the round in flight is then
   * reset and fails). Relayed connections also end after libp2p's default 2 minutes.
   */
  readonly circuitDataLimitBytes?: number;
  /** Inbound connections per second accepted from one host (default 1000). */
  readonly inboundConnectionThreshold?: number;
  readonly maxConnections?: number;
}

/** Enough for hundreds of WebRTC signalling rounds (≈9 KiB each) on one relayed connection. */
const DEFAULT_CIRCUIT_DATA_LIMIT = 4 * 1024 * 1024;

export interface RelayNode {
  readonly libp2p: Libp2p;
  readonly peerId: string;
  /** Dialable addresses, each ending in /p2p/<relay peer id>. */
  multiaddrs(): string[];
  stop(): Promise<void>;
}

export async function startRelay(options: RelayOptions): Promise<RelayNode> {
  const libp2p = await createLibp2p({
    ...(options.privateKey ? { privateKey: options.privateKey } : {}),
    addresses: {
      listen: [wsListenAddress(options.host, options.port)],
      ...(options.announce && options.announce.length > 0 ? { announce: [...options.announce] } : {}),
    },
    transports: [webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    peerDiscovery: [pubsubPeerDiscovery({ topics: [DISCOVERY_TOPIC], listenOnly: true })],
    connectionManager: {
      maxConnections: options.maxConnections ?? 2048,
      inboundConnectionThreshold: options.inboundConnectionThreshold ?? 1000,
      maxIncomingPendingConnections: 256,
    },
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub({ allowPublishToZeroTopicPeers: true }),
      relay: circuitRelayServer({
        reservations: {
          maxReservations: options.maxReservations ?? 1024,
          applyDefaultLimit: !options.unlimited,
          defaultDataLimit: BigInt(options.circuitDataLimitBytes ?? DEFAULT_CIRCUIT_DATA_LIMIT),
        },
        maxInboundHopStreams: 1024,
        maxOutboundStopStreams: 1024,
      }),
    },
  });
  return {
    libp2p,
    peerId: libp2p.peerId.toString(),
    multiaddrs: () => libp2p.getMultiaddrs().map(String),
    stop: async () => {
      await libp2p.stop();
    },
  };
}
