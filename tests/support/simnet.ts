import { webcrypto } from 'node:crypto';
import { type Signer, webCryptoSigner } from '../../src/crypto/ed25519.js';
import type { Manifest } from '../../src/federation/messages.js';
import { SyncEngine, type SyncOptions } from '../../src/federation/sync-engine.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { MemoryLedgerStore } from '../../src/storage/memory-store.js';

/**
 * A seeded, in-process network of Naos nodes (Yjs testHelper style): virtual time,
 * per-message random delay (hence reordering), loss, duplication and partitions. Every
 * node is a real Kernel over a memory store and a real SyncEngine with real Ed25519
 * signatures; only the wire and the clock are simulated. Same seed → same run.
 */

export interface SimOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly minDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Probability that a message is dropped. */
  readonly loss?: number;
  /** Probability that a message is delivered twice. */
  readonly duplicate?: number;
  readonly tickMs?: number;
  readonly sync?: Partial<
    Pick<SyncOptions, 'heartbeatMs' | 'peerTimeoutMs' | 'requestTimeoutMs' | 'batchBudgetBytes' | 'duplicateCacheSize'>
  >;
  /**
   * Equivocating authors: `[i, j]` makes node j a twin of node i — the same key over a
   * store of its own, so the two can sign two histories of one log (F11).
   */
  readonly twins?: readonly (readonly [number, number])[];
}

export interface SimNode {
  readonly index: number;
  readonly kernel: Kernel;
  readonly engine: SyncEngine;
  readonly signer: Signer;
}

interface InFlight {
  readonly at: number;
  readonly order: number;
  readonly from: number;
  readonly to: number;
  readonly bytes: Uint8Array;
}

/** mulberry32: a tiny seeded PRNG, enough for choosing delays and drops. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MANIFEST: Manifest = {
  region: 'sim',
  shard: 'sim-0',
  types: ['pod-host'],
  capabilities: [],
  trust: 'experimental',
  started: 0,
  software: 'naos-sim',
};

export class SimNet {
  readonly nodes: SimNode[] = [];
  readonly random: () => number;
  time = 0;
  /** Bytes delivered, by message count and size, for cost checks. */
  readonly traffic = { messages: 0, bytes: 0, dropped: 0 };
  #queue: InFlight[] = [];
  #order = 0;
  #group: number[] = [];
  readonly #o: Required<Omit<SimOptions, 'sync' | 'twins'>> & Pick<SimOptions, 'sync' | 'twins'>;

  private constructor(options: SimOptions) {
    this.#o = { minDelayMs: 1, maxDelayMs: 30, loss: 0, duplicate: 0, tickMs: 100, ...options };
    this.random = prng(options.seed);
  }

  static async create(options: SimOptions): Promise<SimNet> {
    const net = new SimNet(options);
    for (let i = 0; i < options.nodes; i++) {
      const twinOf = options.twins?.find(([, j]) => j === i)?.[0];
      await net.addNode(twinOf === undefined ? undefined : net.nodes[twinOf]!.signer);
    }
    for (const node of net.nodes) await node.engine.start();
    return net;
  }

  /** Adds a node with a new key, or with `signer` (a twin of the node that has it). */
  async addNode(signer?: Signer): Promise<SimNode> {
    const index = this.nodes.length;
    signer ??= await webCryptoSigner((await webcrypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify'])) as CryptoKeyPair);
    const kernel = await Kernel.open({ store: new MemoryLedgerStore(), signer, now: () => this.time });
    const engine = new SyncEngine({
      host: kernel,
      signer,
      manifest: MANIFEST,
      now: () => this.time,
      randomBytes: (n) => Uint8Array.from({ length: n }, () => Math.floor(this.random() * 256)),
      send: (bytes, to) => this.#send(index, bytes, to),
      ...this.#o.sync,
    });
    const node = { index, kernel, engine, signer };
    this.nodes.push(node);
    this.#group.push(0);
    return node;
  }

  /** Splits the nodes: `groups[i]` is the partition of node i; only equal groups talk. */
  partition(groups: readonly number[]): void {
    this.#group = this.nodes.map((_, i) => groups[i] ?? 0);
  }

  heal(): void {
    this.#group = this.nodes.map(() => 0);
  }

  /** Advances virtual time by `ms`, delivering messages and ticking every node. */
  async run(ms: number): Promise<void> {
    const end = this.time + ms;
    let nextTick = this.time;
    while (this.time <= end) {
      await this.#settle();
      const next = this.#queue[0];
      if (next && next.at <= Math.min(nextTick, end)) {
        this.#queue.shift();
        this.time = Math.max(this.time, next.at);
        if (this.#group[next.from] === this.#group[next.to]) {
          this.traffic.messages++;
          this.traffic.bytes += next.bytes.length;
          await this.nodes[next.to]!.engine.receive(next.bytes, `sim-${next.from}`);
        }
        continue;
      }
      if (nextTick > end) break;
      this.time = nextTick;
      for (const node of this.nodes) await node.engine.tick();
      nextTick += this.#o.tickMs;
    }
    this.time = end;
  }

  /** Runs until every node has the same state root (true) or `maxMs` passed (false). */
  async converge(maxMs = 60_000, stepMs = 500): Promise<boolean> {
    for (let waited = 0; waited <= maxMs; waited += stepMs) {
      if (this.converged()) return true;
      await this.run(stepMs);
    }
    return this.converged();
  }

  /** Every node (or every one of `among`) has the same state root, i.e. the same entries of every log. */
  converged(among: readonly number[] = this.nodes.map((n) => n.index)): boolean {
    return new Set(among.map((i) => this.nodes[i]!.kernel.stateRoot())).size === 1;
  }

  /** Lets pending async work (signing, pushes) hand its messages to the network. */
  async #settle(): Promise<void> {
    for (let i = 0; i < 3; i++) {
      await Promise.all(this.nodes.map((n) => n.engine.settled()));
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  #send(from: number, bytes: Uint8Array, to?: string): void {
    const targets = to === undefined ? this.nodes.filter((n) => n.index !== from) : this.nodes.filter((n) => n.kernel.nodeId === to);
    for (const target of targets) {
      if (this.random() < this.#o.loss) {
        this.traffic.dropped++;
        continue;
      }
      const copies = this.random() < this.#o.duplicate ? 2 : 1;
      for (let c = 0; c < copies; c++) {
        const delay = this.#o.minDelayMs + this.random() * (this.#o.maxDelayMs - this.#o.minDelayMs);
        this.#insert({ at: this.time + delay, order: this.#order++, from, to: target.index, bytes });
      }
    }
  }

  #insert(item: InFlight): void {
    let lo = 0;
    let hi = this.#queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const m = this.#queue[mid]!;
      if (m.at < item.at || (m.at === item.at && m.order < item.order)) lo = mid + 1;
      else hi = mid;
    }
    this.#queue.splice(lo, 0, item);
  }
}
