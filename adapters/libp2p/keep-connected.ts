import type {
  AbortOptions,
  ComponentLogger,
  Connection,
  Libp2pEvents,
  Logger,
  PeerId,
  Startable,
  TypedEventTarget,
} from '@libp2p/interface';
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr';

/**
 * Stays connected to a few known peers — the relay/bootstrap node, the always-on peer —
 * and rejoins them by itself after they (or the network) went away, without a reconnect
 * storm: after a loss the first attempt waits a random part of the minimum delay, and
 * each failure doubles the delay up to a cap, every delay jittered (so many nodes that
 * lost one relay at the same moment come back spread out). Connections that exist stay
 * untouched: a relay going down ends only the links through it.
 *
 * A libp2p service over a components record, like js-libp2p's own:
 * `services: { keepConnected: keepConnected({ targets: ['/ip4/…/ws/p2p/…'] }) }`.
 */

export interface KeepConnectedInit {
  /** Multiaddrs to stay connected to; each must end in /p2p/<peer id>. */
  readonly targets: readonly string[];
  /** Shortest wait before a retry (default 500 ms). */
  readonly minDelayMs?: number;
  /** Longest wait between retries (default 30 s). */
  readonly maxDelayMs?: number;
  /** Growth of the wait per failed attempt (default 2). */
  readonly factor?: number;
  /** Part of each wait that is random, 0–1 (default 0.5). */
  readonly jitter?: number;
  /** Dial timeout (default 10 s). */
  readonly dialTimeoutMs?: number;
  /** Randomness for the jitter (default Math.random). */
  readonly random?: () => number;
}

export interface KeepConnectedComponents {
  readonly connectionManager: {
    openConnection(peer: Multiaddr, options?: AbortOptions): Promise<Connection>;
    getConnections(peerId?: PeerId): Connection[];
  };
  readonly events: TypedEventTarget<Libp2pEvents>;
  readonly logger: ComponentLogger;
}

export interface KeepConnectedStats {
  readonly attempts: number;
  readonly successes: number;
  readonly failures: number;
  /** Targets currently connected. */
  readonly connected: number;
  /** Retries waiting (one per disconnected target at most). */
  readonly scheduled: number;
  /** The most recent waits chosen before a retry (ms, oldest first; at most 32). */
  readonly recentDelaysMs: readonly number[];
}

export interface BackoffPolicy {
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  readonly factor: number;
  readonly jitter: number;
}

/**
 * The wait before retry number `attempt` (0 = the first after a loss): the base grows
 * as min · factor^attempt up to max, then a `jitter` part of it is random —
 * base · (1 − jitter + jitter · r) for r in [0, 1). Pure: `r` is passed in.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, r: number): number {
  const base = Math.min(policy.maxDelayMs, policy.minDelayMs * policy.factor ** Math.max(0, attempt));
  return Math.round(base * (1 - policy.jitter + policy.jitter * r));
}

interface Target {
  readonly address: Multiaddr;
  readonly peer: string;
  /** Failed attempts since the last success. */
  failures: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  dialing: AbortController | undefined;
}

export class KeepConnected implements Startable {
  readonly [Symbol.toStringTag] = '@naos/keep-connected';
  readonly #c: KeepConnectedComponents;
  readonly #policy: BackoffPolicy;
  readonly #dialTimeoutMs: number;
  readonly #random: () => number;
  readonly #targets: Target[];
  readonly #log: Logger;
  #attempts = 0;
  #successes = 0;
  #failures = 0;
  readonly #recentDelays: number[] = [];
  #started = false;
  readonly #onDisconnect = (event: CustomEvent<PeerId>): void => {
    const target = this.#targets.find((t) => t.peer === event.detail.toString());
    if (target && this.#started) this.#schedule(target);
  };

  constructor(components: KeepConnectedComponents, init: KeepConnectedInit) {
    this.#c = components;
    this.#policy = {
      minDelayMs: init.minDelayMs ?? 500,
      maxDelayMs: init.maxDelayMs ?? 30_000,
      factor: init.factor ?? 2,
      jitter: init.jitter ?? 0.5,
    };
    this.#dialTimeoutMs = init.dialTimeoutMs ?? 10_000;
    this.#random = init.random ?? Math.random;
    this.#log = components.logger.forComponent('naos:keep-connected');
    this.#targets = init.targets.map((text) => {
      const address = multiaddr(text);
      const peer = address
        .getComponents()
        .filter((c) => c.name === 'p2p')
        .at(-1)?.value;
      if (!peer) throw new TypeError(`keepConnected target ${text} does not end in /p2p/<peer id>`);
      return { address, peer, failures: 0, timer: undefined, dialing: undefined };
    });
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#c.events.addEventListener('peer:disconnect', this.#onDisconnect);
  }

  /** Dials every target once the node has started (listening addresses are known by then). */
  afterStart(): void {
    for (const target of this.#targets) void this.#dial(target);
  }

  stop(): void {
    this.#started = false;
    this.#c.events.removeEventListener('peer:disconnect', this.#onDisconnect);
    for (const target of this.#targets) {
      clearTimeout(target.timer);
      target.timer = undefined;
      target.dialing?.abort();
      target.dialing = undefined;
    }
  }

  stats(): KeepConnectedStats {
    return {
      attempts: this.#attempts,
      successes: this.#successes,
      failures: this.#failures,
      connected: this.#targets.filter((t) => this.#connected(t)).length,
      scheduled: this.#targets.filter((t) => t.timer !== undefined).length,
      recentDelaysMs: [...this.#recentDelays],
    };
  }

  #connected(target: Target): boolean {
    return this.#c.connectionManager.getConnections().some((c) => c.remotePeer.toString() === target.peer && c.status === 'open');
  }

  #schedule(target: Target): void {
    if (!this.#started || target.timer !== undefined || target.dialing) return;
    const delay = backoffDelay(target.failures, this.#policy, this.#random());
    this.#recentDelays.push(delay);
    if (this.#recentDelays.length > 32) this.#recentDelays.shift();
    this.#log('retrying %s in %d ms (attempt %d)', target.peer, delay, target.failures + 1);
    target.timer = setTimeout(() => {
      target.timer = undefined;
      void this.#dial(target);
    }, delay);
  }

  async #dial(target: Target): Promise<void> {
    if (!this.#started || target.dialing || this.#connected(target)) return;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.#dialTimeoutMs);
    target.dialing = controller;
    this.#attempts++;
    try {
      await this.#c.connectionManager.openConnection(target.address, { signal: controller.signal });
      this.#successes++;
      target.failures = 0;
    } catch (error) {
      this.#failures++;
      target.failures++;
      this.#log('dial %s failed: %s', target.peer, (error as Error).message);
    } finally {
      clearTimeout(timer);
      target.dialing = undefined;
    }
    if (!this.#connected(target)) this.#schedule(target);
  }
}

export function keepConnected(init: KeepConnectedInit): (components: KeepConnectedComponents) => KeepConnected {
  return (components) => new KeepConnected(components, init);
}
