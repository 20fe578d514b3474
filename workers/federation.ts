import { BroadcastTransport, syncChannelName } from '../adapters/browser/broadcast-transport.js';
import { type PortLike, PortTransport, type RemoteLink } from '../adapters/libp2p/port-transport.js';
import { SyncLoop, type SyncLoopOptions } from '../adapters/sync-loop.js';
import type { Signer } from '../src/crypto/ed25519.js';
import { handshakeOnlySigner } from '../src/federation/handshake.js';
import { type Manifest, SYNC_LIBP2P, withCapability } from '../src/federation/messages.js';
import type { ForkEvidence, PeerView, RejectionView, SyncEngine, TrafficStats } from '../src/federation/sync-engine.js';
import type { Transport } from '../src/federation/transport.js';
import type { FlaggedLog } from '../src/kernel/api.js';

export interface FederationOptions extends SyncLoopOptions {
  /** Storage/lock namespace; the tabs of one namespace share the channel `<namespace>-sync`. */
  readonly namespace: string;
  /** Transports besides the tab channel (e.g. libp2p, a later issue). */
  readonly transports?: readonly Transport[];
}

/**
 * A live peer with how it is reached: `transport` is `libp2p` when the page's libp2p node
 * has a proven link to it (then `libp2p` says which peer id, whether the connection is
 * direct, since when), else `broadcast-channel` (a tab of this browser: tabs of one
 * browser do not link over libp2p, see docs/BROWSER.md).
 */
export interface FederationPeerView extends PeerView {
  readonly transport: 'libp2p' | 'broadcast-channel';
  readonly libp2p?: {
    readonly peerId: string;
    readonly direct: boolean;
    /** The handshake proved the node id (its key signed this connection's transcript). */
    readonly nodeIdProven: true;
    readonly trust: RemoteLink['trust'];
    readonly since: number;
  };
}

/** What the kernel service shows of the federation. */
export interface FederationPort {
  readonly manifest: Manifest;
  /** Signs handshake transcripts only (src/federation/handshake.ts), for the page's libp2p node. */
  readonly handshakeSigner: Signer;
  peers(): FederationPeerView[];
  /** Authors proven to have signed two histories (F11), with the evidence. */
  flagged(): FlaggedLog[];
  /** Carries sync over the page's libp2p node from now on (one port at a time; a new one replaces the old). */
  attachNetwork(port: PortLike): Promise<void>;
  rejections(): RejectionView[];
  forks(): ForkEvidence[];
  /** Messages and bytes the engine handled (all transports together). */
  traffic(): TrafficStats;
  /** The test/debug partition group this node is in (null: the whole namespace). */
  partitionGroup(): string | null;
  partition(group: string | null): Promise<void>;
  close(): Promise<void>;
}

/**
 * A node's federation in its worker: the sync loop (adapters/sync-loop.ts) over the tab
 * channel (BroadcastChannel) and any further transports.
 *
 * A test/debug affordance: `partition(group)` moves the tab channel to a channel of its
 * own (`<namespace>-sync/partition:<group>`), so only tabs in the same group hear each
 * other; `partition(null)` heals. Other transports are not affected.
 */
export class Federation implements FederationPort {
  readonly handshakeSigner: Signer;
  readonly #loop: SyncLoop;
  #network: PortTransport | undefined;
  readonly #namespace: string;
  #channel: BroadcastTransport;
  #group: string | null = null;

  private constructor(options: FederationOptions) {
    this.handshakeSigner = handshakeOnlySigner(options.signer);
    this.#namespace = options.namespace;
    this.#loop = new SyncLoop(options);
    this.#channel = new BroadcastTransport(syncChannelName(options.namespace));
    this.#loop.mux.add(this.#channel);
    for (const transport of options.transports ?? []) this.#loop.mux.add(transport);
  }

  /** Joins the federation: announces the node, then ticks every `tickMs`. */
  static async start(options: FederationOptions): Promise<Federation> {
    const federation = new Federation(options);
    await federation.#loop.start();
    return federation;
  }

  get engine(): SyncEngine {
    return this.#loop.engine;
  }

  /** What the node says about itself now: its boot manifest, plus `sync/libp2p` once a network is attached. */
  get manifest(): Manifest {
    return this.engine.manifest;
  }

  peers(): FederationPeerView[] {
    const links = new Map((this.#network?.links() ?? []).map((link) => [link.nodeId, link]));
    return this.engine.peers().map((peer) => {
      const link = links.get(peer.nodeId);
      if (!link) return { ...peer, transport: 'broadcast-channel' as const };
      const { peerId, direct, trust, since } = link;
      return { ...peer, transport: 'libp2p' as const, libp2p: { peerId, direct, nodeIdProven: true as const, trust, since } };
    });
  }

  flagged(): FlaggedLog[] {
    return this.engine.flagged();
  }

  async attachNetwork(port: PortLike): Promise<void> {
    if (this.#loop.closed) {
      port.close();
      return;
    }
    // Peers (and the handshakes the page's libp2p node signs from now on) learn that this
    // node also syncs over libp2p.
    const manifest = withCapability(this.manifest, SYNC_LIBP2P);
    if (manifest !== this.manifest) await this.engine.announce(manifest);
    const previous = this.#network;
    const network = new PortTransport(port);
    this.#network = network;
    // A node linked over libp2p hears our state root at once, not at the next heartbeat.
    let linked = new Set<string>();
    network.onLinksChange((links) => {
      const now = new Set(links.map((link) => link.nodeId));
      for (const nodeId of now) if (!linked.has(nodeId)) void this.engine.greet(nodeId).catch(() => undefined);
      linked = now;
    });
    this.#loop.mux.add(network);
    if (previous) await this.#loop.mux.remove(previous);
  }

  rejections(): RejectionView[] {
    return this.engine.rejections();
  }

  forks(): ForkEvidence[] {
    return this.engine.forks();
  }

  traffic(): TrafficStats {
    return this.engine.traffic();
  }

  partitionGroup(): string | null {
    return this.#group;
  }

  async partition(group: string | null): Promise<void> {
    if (this.#loop.closed || group === this.#group) return;
    const next = new BroadcastTransport(syncChannelName(this.#namespace, group ?? undefined));
    await this.#loop.mux.remove(this.#channel);
    this.#loop.mux.add(next);
    this.#channel = next;
    this.#group = group;
  }

  /** Stops ticking and listening, closes the transports; the kernel stays open. */
  async close(): Promise<void> {
    await this.#loop.close();
  }
}
