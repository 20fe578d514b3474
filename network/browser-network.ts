import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import type { DiscoveryDialerStats } from '../adapters/libp2p/discovery-dialer.js';
import type { KeepConnectedStats } from '../adapters/libp2p/keep-connected.js';
import { type BootstrapList, fetchBootstrapList } from '../adapters/libp2p/peers-document.js';
import { PortBridge } from '../adapters/libp2p/port-transport.js';
import type { NaosSyncStats } from '../adapters/libp2p/sync-transport.js';
import type { Signer } from '../src/crypto/ed25519.js';
import { asError } from '../src/errors.js';
import type { Manifest } from '../src/federation/messages.js';
import { type BrowserLibp2p, createBrowserNode } from './browser-node.js';
import { SiblingTabs } from './sibling-tabs.js';

/**
 * A tab's connection to the federation beyond its browser: its own js-libp2p node in the
 * page (network/browser-node.ts), bridged to the kernel worker's Federation over a
 * MessagePort (adapters/libp2p/port-transport.ts). The kernel worker lends the handshake
 * its node key through `signHandshake`, which signs handshake transcripts and nothing
 * else.
 *
 * Every tab is its own node (MISSION.md): each has its own libp2p node, relay slot and
 * WebRTC links to remote nodes. Tabs of one browser never link to each other over
 * libp2p — they share a BroadcastChannel — so they announce their peer ids to each other
 * (network/sibling-tabs.ts) and skip each other when dialing.
 *
 * `setEnabled(false)` stops the libp2p node (the worker sees its libp2p peers go; the
 * tab channel is untouched); `setEnabled(true)` starts a new one with the same peer id.
 */
export interface NetworkKernel {
  handshakeKey(): Promise<Uint8Array>;
  signHandshake(message: Uint8Array): Promise<Uint8Array>;
  manifest(): Promise<Manifest | undefined>;
  /** Hands the worker its end of the bridge (transferred). */
  attachNetwork(port: MessagePort): Promise<void>;
}

export type NetworkState = 'starting' | 'on' | 'off' | 'no-bootstrap' | 'unavailable';

export interface NetworkConnection {
  readonly peerId: string;
  /** No relay limits: a WebRTC or WebSockets connection, not a relayed circuit. */
  readonly direct: boolean;
  readonly transport: 'webrtc' | 'websockets' | 'circuit-relay' | 'other';
  readonly remoteAddr: string;
  readonly streams: number;
}

export interface NetworkStatus {
  readonly state: NetworkState;
  /** Why the network is off or unavailable. */
  readonly reason?: string;
  readonly peerId?: string;
  readonly multiaddrs: readonly string[];
  readonly relays: readonly { readonly peerId: string; readonly connected: boolean }[];
  /** A relay reservation is held (a `/p2p-circuit` address is listed). */
  readonly reserved: boolean;
  readonly connections: readonly NetworkConnection[];
  /** Tabs of this browser known to the page (not dialed over libp2p). */
  readonly siblings: number;
  readonly sync?: NaosSyncStats;
  readonly dialer?: DiscoveryDialerStats;
  readonly keepConnected?: KeepConnectedStats;
}

export interface BrowserNetworkOptions {
  readonly kernel: NetworkKernel;
  /** Where the bootstrap list is (default `/.well-known/peers.json` of this origin). */
  readonly peersUrl?: string | URL;
  /** Storage namespace: tabs of one namespace are siblings. */
  readonly namespace?: string;
  readonly discoveryIntervalMs?: number;
}

export class BrowserNetwork {
  readonly #options: BrowserNetworkOptions;
  #state: NetworkState = 'starting';
  #reason: string | undefined;
  #bootstrap: BootstrapList | undefined;
  #signer: Signer | undefined;
  #manifest: Manifest | undefined;
  #privateKey: PrivateKey | undefined;
  #bridge: PortBridge | undefined;
  #siblings: SiblingTabs | undefined;
  #node: BrowserLibp2p | undefined;
  /**
   * Peers the last node had direct links to. After a restart (same peer id) they may still
   * hold the old, dead connection for a while and so will not dial: the new node dials them.
   */
  #linkedBefore = new Set<string>();
  /** The latest start or stop, so they run one after the other. */
  #transition: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(options: BrowserNetworkOptions) {
    this.#options = options;
  }

  /**
   * Fetches the bootstrap list and starts the libp2p node. Never rejects: without a
   * bootstrap list (offline, a server without peers.json) the state is `unavailable`
   * with the reason; with an empty one, `no-bootstrap`.
   */
  static async start(options: BrowserNetworkOptions): Promise<BrowserNetwork> {
    const network = new BrowserNetwork(options);
    try {
      network.#bootstrap = await fetchBootstrapList(options.peersUrl ?? new URL('/.well-known/peers.json', location.href), {
        signal: AbortSignal.timeout(10_000),
      });
    } catch (error) {
      network.#state = 'unavailable';
      network.#reason = asError(error).message;
      return network;
    }
    if (network.#bootstrap.relays.length === 0 && network.#bootstrap.peers.length === 0) {
      network.#state = 'no-bootstrap';
      network.#reason = 'the bootstrap list names no relay and no peer';
      return network;
    }
    try {
      const { kernel } = options;
      const publicKey = await kernel.handshakeKey();
      network.#signer = { publicKey, sign: (message) => kernel.signHandshake(message) };
      network.#privateKey = await generateKeyPair('Ed25519');
      const channel = new MessageChannel();
      network.#bridge = new PortBridge(channel.port1);
      await kernel.attachNetwork(channel.port2);
      // Read after attaching: the kernel now lists `sync/libp2p`, and the handshakes say so.
      const manifest = await kernel.manifest();
      if (!manifest) throw new Error('the kernel runs without federation');
      network.#manifest = manifest;
      network.#siblings = new SiblingTabs(`${options.namespace ?? 'naos'}-libp2p-tabs`);
      await network.setEnabled(true);
    } catch (error) {
      network.#state = 'unavailable';
      network.#reason = asError(error).message;
    }
    return network;
  }

  get state(): NetworkState {
    return this.#state;
  }

  /** The running libp2p node (undefined while off). */
  get libp2p(): BrowserLibp2p | undefined {
    return this.#node;
  }

  /** Starts (true) or stops (false) the libp2p node; resolves when done. */
  setEnabled(enabled: boolean): Promise<void> {
    const next = this.#transition.then(() => (enabled ? this.#startNode() : this.#stopNode('stopped by request')));
    this.#transition = next.catch(() => undefined);
    return next;
  }

  status(): NetworkStatus {
    const node = this.#node;
    const base = {
      state: this.#state,
      ...(this.#reason === undefined ? {} : { reason: this.#reason }),
      siblings: this.#siblings?.size ?? 0,
    };
    if (!node) return { ...base, multiaddrs: [], relays: [], reserved: false, connections: [] };
    const connections = node.getConnections().map((c) => ({
      peerId: c.remotePeer.toString(),
      direct: c.limits == null,
      transport: transportOf(c.multiplexer, c.remoteAddr.toString(), c.limits == null),
      remoteAddr: c.remoteAddr.toString(),
      streams: c.streams.length,
    }));
    const multiaddrs = node.getMultiaddrs().map(String);
    return {
      ...base,
      peerId: node.peerId.toString(),
      multiaddrs,
      relays: (this.#bootstrap?.relays ?? []).map((r) => ({ peerId: r.peerId, connected: connections.some((c) => c.peerId === r.peerId) })),
      reserved: multiaddrs.some((a) => a.includes('/p2p-circuit')),
      connections,
      sync: node.services.naos.stats(),
      dialer: node.services.dialer.stats(),
      keepConnected: node.services.keepConnected.stats(),
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#transition;
    await this.#stopNode('closed');
    this.#bridge?.close();
    this.#siblings?.close();
  }

  async #startNode(): Promise<void> {
    if (this.#closed || this.#node || !this.#bootstrap || !this.#signer || !this.#manifest || !this.#privateKey) return;
    this.#state = 'starting';
    this.#reason = undefined;
    const siblings = this.#siblings;
    const linkedBefore = this.#linkedBefore;
    try {
      const node = await createBrowserNode({
        privateKey: this.#privateKey,
        bootstrap: this.#bootstrap,
        signer: this.#signer,
        manifest: this.#manifest,
        skip: (peerId) => siblings?.has(peerId) ?? false,
        eager: (peerId) => linkedBefore.has(peerId),
        ...(this.#options.discoveryIntervalMs === undefined ? {} : { discoveryIntervalMs: this.#options.discoveryIntervalMs }),
      });
      this.#node = node;
      siblings?.announce(node.peerId.toString());
      // A sibling that connects anyway (it had not heard of us yet) is let go: the tab
      // channel already carries everything between us.
      node.addEventListener('peer:connect', (event) => {
        const peer = event.detail.toString();
        if (siblings?.has(peer)) void node.hangUp(event.detail).catch(() => undefined);
      });
      this.#bridge?.use(node.services.naos);
      this.#state = 'on';
    } catch (error) {
      this.#state = 'unavailable';
      this.#reason = asError(error).message;
    }
  }

  async #stopNode(reason: string): Promise<void> {
    const node = this.#node;
    this.#node = undefined;
    if (node) {
      const direct = node.getConnections().filter((c) => c.limits == null);
      this.#linkedBefore = new Set(direct.map((c) => c.remotePeer.toString()).slice(0, MAX_REMEMBERED_LINKS));
    }
    this.#bridge?.use(undefined);
    this.#siblings?.announce(undefined);
    if (this.#state === 'on' || this.#state === 'starting') {
      this.#state = 'off';
      this.#reason = reason;
    }
    await Promise.resolve(node?.stop()).catch(() => undefined);
  }
}

/** Peers remembered across a restart of the node (bounded). */
const MAX_REMEMBERED_LINKS = 256;

function transportOf(multiplexer: string | undefined, remoteAddr: string, direct: boolean): NetworkConnection['transport'] {
  if (!direct) return 'circuit-relay';
  if (multiplexer === '/webrtc' || remoteAddr.includes('/webrtc')) return 'webrtc';
  if (remoteAddr.includes('/ws')) return 'websockets';
  return 'other';
}
