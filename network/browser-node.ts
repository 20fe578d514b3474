import { circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { gossipsub } from '@libp2p/gossipsub';
import { identify } from '@libp2p/identify';
import type { PrivateKey } from '@libp2p/interface';
import { noise } from '@libp2p/noise';
import { ping } from '@libp2p/ping';
import { pubsubPeerDiscovery } from '@libp2p/pubsub-peer-discovery';
import { webRTC } from '@libp2p/webrtc';
import { webSockets } from '@libp2p/websockets';
import { yamux } from '@libp2p/yamux';
import { createLibp2p, type Libp2p } from 'libp2p';
import { DISCOVERY_TOPIC, discoveryDialer, type DiscoveryDialer } from '../adapters/libp2p/discovery-dialer.js';
import { keepConnected, type KeepConnected } from '../adapters/libp2p/keep-connected.js';
import type { BootstrapList } from '../adapters/libp2p/peers-document.js';
import { naosSync, type NaosSyncTransport } from '../adapters/libp2p/sync-transport.js';
import type { Signer } from '../src/crypto/ed25519.js';
import type { Manifest } from '../src/federation/messages.js';

/**
 * The js-libp2p node of one tab (MISSION.md F10), in the page — RTCPeerConnection exists
 * only there, not in workers:
 *
 * - transports: WebSockets (to the relay and always-on peers), circuit relay v2 (reserve
 *   a slot: listen on `/p2p-circuit`; the relay carries signalling only) and WebRTC
 *   (listen on `/webrtc`: other browsers dial `<relay>/p2p-circuit/webrtc/p2p/<us>`, the
 *   SDP offer/answer and ICE candidates go through the relay, then the connection is
 *   browser to browser); noise, yamux; identify, ping;
 * - discovery without being told addresses: gossipsub with pubsub peer discovery on
 *   DISCOVERY_TOPIC, through the relay (which subscribes and forwards), and a
 *   `discoveryDialer` that dials each discovered node's `/webrtc` addresses once per
 *   pair (adapters/libp2p/discovery-dialer.ts);
 * - `keepConnected` to the relays and always-on peers of the bootstrap list, with backoff
 *   and jitter;
 * - the `naosSync` service, proving the node key in the handshake with a signer that
 *   signs handshake transcripts only (the key stays in the kernel worker).
 *
 * Loopback and private addresses may be dialed (the browser default gater refuses them;
 * Naos runs on 127.0.0.1 by default). No STUN/TURN unless the bootstrap list names ICE
 * servers. Chromium needs `--allow-loopback-in-peer-connection` for WebRTC on a
 * loopback-only network (docs/BROWSER.md).
 */
export interface BrowserNodeOptions {
  readonly privateKey: PrivateKey;
  readonly bootstrap: BootstrapList;
  /** Signs handshake transcripts only. */
  readonly signer: Signer;
  readonly manifest: Manifest;
  /** Peers not to dial for WebRTC: the tabs of this browser, which talk over BroadcastChannel. */
  readonly skip: (peerId: string) => boolean;
  /** Peers to dial at once when discovered, whichever peer id sorts first (see DiscoveryDialerInit.eager). */
  readonly eager?: (peerId: string) => boolean;
  /** How often the node announces its addresses on the discovery topic (default 2 s). */
  readonly discoveryIntervalMs?: number;
  /** Find other nodes through the relay (default true; tests that dial by hand turn it off). */
  readonly discovery?: boolean;
}

export type BrowserLibp2p = Libp2p<{
  identify: ReturnType<ReturnType<typeof identify>>;
  ping: ReturnType<ReturnType<typeof ping>>;
  pubsub: ReturnType<ReturnType<typeof gossipsub>>;
  naos: NaosSyncTransport;
  keepConnected: KeepConnected;
  dialer: DiscoveryDialer;
}>;

export async function createBrowserNode(options: BrowserNodeOptions): Promise<BrowserLibp2p> {
  const { bootstrap } = options;
  const relayPeers = new Set(bootstrap.relays.map((r) => r.peerId));
  const alwaysOn = new Set(bootstrap.peers.map((p) => p.peerId));
  // One address per target: keep-connected dials it and retries it with backoff.
  const targets = [
    ...bootstrap.relays.flatMap((r) => r.multiaddrs.filter((a) => !a.includes('/p2p-circuit')).slice(0, 1)),
    ...bootstrap.peers.flatMap((p) => p.multiaddrs.filter((a) => !a.includes('/p2p-circuit')).slice(0, 1)),
  ];
  const iceServers = bootstrap.iceServers.map((s) => ({
    urls: typeof s.urls === 'string' ? s.urls : [...s.urls],
    ...(s.username === undefined ? {} : { username: s.username }),
    ...(s.credential === undefined ? {} : { credential: s.credential }),
  }));
  const node = await createLibp2p({
    privateKey: options.privateKey,
    addresses: { listen: ['/p2p-circuit', '/webrtc'] },
    transports: [webSockets(), webRTC({ rtcConfiguration: { iceServers } }), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // Naos runs on loopback by default; the browser's default gater refuses private addresses.
    connectionGater: { denyDialMultiaddr: () => false },
    peerDiscovery:
      options.discovery === false
        ? []
        : [pubsubPeerDiscovery({ interval: options.discoveryIntervalMs ?? 2000, topics: [DISCOVERY_TOPIC] })],
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub({ allowPublishToZeroTopicPeers: true, emitSelf: false }),
      naos: naosSync({ signer: options.signer, manifest: options.manifest }),
      keepConnected: keepConnected({ targets }),
      dialer: discoveryDialer({
        skip: (peerId) => relayPeers.has(peerId) || alwaysOn.has(peerId) || options.skip(peerId),
        ...(options.eager ? { eager: options.eager } : {}),
      }),
    },
  });
  return node;
}
