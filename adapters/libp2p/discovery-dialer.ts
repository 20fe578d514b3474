import type {
  ComponentLogger,
  Connection,
  Libp2pEvents,
  Logger,
  PeerId,
  PeerInfo,
  Startable,
  TypedEventTarget,
  AbortOptions,
} from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';
import { backoffDelay, type BackoffPolicy } from './keep-connected.js';

/**
 * Turns discovered peers into direct connections (issue 4 §2): js-libp2p 3 reports
 * `peer:discovery` (here: pubsub peer discovery through the relay) but dials nobody by
 * itself. For each discovered peer that offers a direct-capable address — by default
 * `/webrtc` (signalled through the relay, then browser to browser) — it dials exactly
 * those addresses, never the relayed circuit alone, so the connection that results is
 * direct and carries sync.
 *
 * - **One connection per pair**: of two nodes that discover each other, only the one
 *   whose peer id sorts first dials; the other waits `patienceMs` before it dials too
 *   (in case the first never saw it).
 * - **No storms**: one dial per peer at a time, failures back off (min · 2^n, capped,
 *   jittered, as keep-connected), at most `maxConcurrentDials` at once.
 * - `skip(peerId)` excludes peers (the tabs of this browser, which talk over
 *   BroadcastChannel; relays; peers dialed by other means).
 */
export interface DiscoveryDialerInit {
  /** Addresses worth dialing (default: those containing `/webrtc`). */
  readonly dialable?: (address: Multiaddr) => boolean;
  /** Peers not to dial (checked at every attempt). */
  readonly skip?: (peerId: string) => boolean;
  /**
   * Peers to dial as soon as they are discovered, whichever id sorts first: peers this
   * node was linked to before it restarted, which may still believe the old connection
   * open and so will not dial (default: none).
   */
  readonly eager?: (peerId: string) => boolean;
  /** How long the peer whose id sorts second waits for the other to dial (default 6 s). */
  readonly patienceMs?: number;
  /** A peer not announced again for this long is forgotten (default 60 s). */
  readonly forgetMs?: number;
  readonly minDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly dialTimeoutMs?: number;
  readonly maxConcurrentDials?: number;
  readonly random?: () => number;
  readonly now?: () => number;
}

export interface DiscoveryDialerComponents {
  readonly peerId: PeerId;
  readonly connectionManager: {
    openConnection(peer: Multiaddr | Multiaddr[], options?: AbortOptions): Promise<Connection>;
    getConnections(peerId?: PeerId): Connection[];
  };
  readonly events: TypedEventTarget<Libp2pEvents>;
  readonly logger: ComponentLogger;
}

export interface DiscoveryDialerStats {
  /** Peers discovered (distinct, ever). */
  readonly discovered: number;
  readonly attempts: number;
  readonly successes: number;
  readonly failures: number;
  /** Dials running now. */
  readonly dialing: number;
  /** Milliseconds each successful dial took (most recent 64, oldest first). */
  readonly recentDialMs: readonly number[];
  /** Error names of failed dials (most recent 16). */
  readonly recentErrors: readonly string[];
}

interface Candidate {
  readonly peerId: PeerId;
  addresses: Multiaddr[];
  /** When the peer was first seen (again, after a dropped link): the second dialer's patience runs from here. */
  firstSeen: number;
  lastSeen: number;
  failures: number;
  notBefore: number;
  dialing: AbortController | undefined;
  /** When its last link dropped: no dial until it announces itself again after that. */
  droppedAt: number | undefined;
}

export class DiscoveryDialer implements Startable {
  readonly [Symbol.toStringTag] = '@naos/discovery-dialer';
  readonly #c: DiscoveryDialerComponents;
  readonly #dialable: (address: Multiaddr) => boolean;
  readonly #skip: (peerId: string) => boolean;
  readonly #eager: (peerId: string) => boolean;
  readonly #patienceMs: number;
  readonly #forgetMs: number;
  readonly #policy: BackoffPolicy;
  readonly #dialTimeoutMs: number;
  readonly #maxConcurrent: number;
  readonly #random: () => number;
  readonly #now: () => number;
  readonly #log: Logger;
  readonly #self: string;
  readonly #candidates = new Map<string, Candidate>();
  readonly #recentDialMs: number[] = [];
  readonly #recentErrors: string[] = [];
  #discovered = 0;
  #attempts = 0;
  #successes = 0;
  #failures = 0;
  #dialing = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #started = false;
  readonly #onDiscovery = (event: CustomEvent<PeerInfo>): void => this.#discover(event.detail);
  /**
   * A link dropped: the peer may be gone or restarting. Dialing it until it announces
   * itself again would only fail and pile up backoff, which would then delay the redial
   * once it is back; so wait for its next announcement and dial at once.
   */
  readonly #onDisconnect = (event: CustomEvent<PeerId>): void => {
    const candidate = this.#candidates.get(event.detail.toString());
    if (!candidate) return;
    candidate.droppedAt = this.#now();
    // Back to one dialer per pair: the peer whose id sorts second waits its turn again.
    candidate.firstSeen = candidate.droppedAt;
    candidate.failures = 0;
    candidate.notBefore = 0;
  };

  constructor(components: DiscoveryDialerComponents, init: DiscoveryDialerInit = {}) {
    this.#c = components;
    this.#dialable = init.dialable ?? ((address) => address.toString().includes('/webrtc'));
    this.#skip = init.skip ?? (() => false);
    this.#eager = init.eager ?? (() => false);
    this.#patienceMs = init.patienceMs ?? 6000;
    this.#forgetMs = init.forgetMs ?? 60_000;
    this.#policy = { minDelayMs: init.minDelayMs ?? 500, maxDelayMs: init.maxDelayMs ?? 30_000, factor: 2, jitter: 0.5 };
    this.#dialTimeoutMs = init.dialTimeoutMs ?? 15_000;
    this.#maxConcurrent = init.maxConcurrentDials ?? 4;
    this.#random = init.random ?? Math.random;
    this.#now = init.now ?? Date.now;
    this.#log = components.logger.forComponent('naos:discovery-dialer');
    this.#self = components.peerId.toString();
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#c.events.addEventListener('peer:discovery', this.#onDiscovery);
    this.#c.events.addEventListener('peer:disconnect', this.#onDisconnect);
    this.#timer = setInterval(() => this.#sweep(), 500);
  }

  stop(): void {
    this.#started = false;
    clearInterval(this.#timer);
    this.#c.events.removeEventListener('peer:discovery', this.#onDiscovery);
    this.#c.events.removeEventListener('peer:disconnect', this.#onDisconnect);
    for (const candidate of this.#candidates.values()) candidate.dialing?.abort();
    this.#candidates.clear();
  }

  stats(): DiscoveryDialerStats {
    return {
      discovered: this.#discovered,
      attempts: this.#attempts,
      successes: this.#successes,
      failures: this.#failures,
      dialing: this.#dialing,
      recentDialMs: [...this.#recentDialMs],
      recentErrors: [...this.#recentErrors],
    };
  }

  #discover(info: PeerInfo): void {
    const key = info.id.toString();
    if (!this.#started || key === this.#self) return;
    const addresses = info.multiaddrs.filter((a) => this.#dialable(a));
    if (addresses.length === 0) return;
    let candidate = this.#candidates.get(key);
    if (!candidate) {
      this.#discovered++;
      // Bounded: forget the oldest idle candidate beyond 1024.
      if (this.#candidates.size >= 1024) {
        const idle = [...this.#candidates.entries()].find(([, c]) => !c.dialing);
        if (idle) this.#candidates.delete(idle[0]);
      }
      candidate = {
        peerId: info.id,
        addresses,
        firstSeen: this.#now(),
        lastSeen: this.#now(),
        failures: 0,
        notBefore: 0,
        dialing: undefined,
        droppedAt: undefined,
      };
      this.#candidates.set(key, candidate);
    } else {
      candidate.addresses = addresses;
      candidate.lastSeen = this.#now();
    }
    this.#consider(candidate);
  }

  #sweep(): void {
    const now = this.#now();
    for (const [key, candidate] of this.#candidates) {
      // Not announced for a while (gone, or no longer discoverable): forget it.
      if (!candidate.dialing && now - candidate.lastSeen > this.#forgetMs) {
        this.#candidates.delete(key);
        continue;
      }
      this.#consider(candidate);
    }
  }

  #connected(peerId: PeerId): boolean {
    return this.#c.connectionManager.getConnections(peerId).some((c) => c.status === 'open' && c.limits == null);
  }

  #consider(candidate: Candidate): void {
    const key = candidate.peerId.toString();
    if (!this.#started || candidate.dialing || this.#dialing >= this.#maxConcurrent) return;
    if (this.#skip(key) || this.#connected(candidate.peerId)) return;
    const now = this.#now();
    if (now < candidate.notBefore) return;
    if (candidate.droppedAt !== undefined && candidate.lastSeen <= candidate.droppedAt) return;
    // The peer whose id sorts first dials; the other only if nothing came after a while.
    if (this.#self > key && !this.#eager(key) && now - candidate.firstSeen < this.#patienceMs) return;
    void this.#dial(candidate);
  }

  async #dial(candidate: Candidate): Promise<void> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.#dialTimeoutMs);
    candidate.dialing = controller;
    this.#dialing++;
    this.#attempts++;
    const started = this.#now();
    try {
      await this.#c.connectionManager.openConnection(candidate.addresses, { signal: controller.signal });
      this.#successes++;
      candidate.failures = 0;
      push(this.#recentDialMs, this.#now() - started, 64);
    } catch (error) {
      this.#failures++;
      push(this.#recentErrors, (error as Error).name, 16);
      candidate.notBefore = this.#now() + backoffDelay(candidate.failures, this.#policy, this.#random());
      candidate.failures++;
      this.#log('dial %p failed: %s', candidate.peerId, (error as Error).message);
    } finally {
      clearTimeout(timer);
      candidate.dialing = undefined;
      this.#dialing--;
    }
  }
}

function push<T>(list: T[], value: T, max: number): void {
  list.push(value);
  if (list.length > max) list.shift();
}

export function discoveryDialer(init: DiscoveryDialerInit = {}): (components: DiscoveryDialerComponents) => DiscoveryDialer {
  return (components) => new DiscoveryDialer(components, init);
}

/**
 * The gossipsub topic Naos nodes announce their addresses on (pubsub peer discovery). The
 * relay subscribes to it, so announcements reach every node connected to the relay.
 */
export const DISCOVERY_TOPIC = 'naos/discovery/1.0.0';
