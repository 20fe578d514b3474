import type { Signer } from '../src/crypto/ed25519.js';
import { SerialInbox } from '../src/federation/inbox.js';
import type { Manifest } from '../src/federation/messages.js';
import { SyncEngine, type SyncHost, type SyncOptions } from '../src/federation/sync-engine.js';
import { TransportMux } from '../src/federation/transport.js';

/** The engine timings a caller may change (tests shorten them). */
export type SyncTimings = Partial<Pick<SyncOptions, 'heartbeatMs' | 'peerTimeoutMs' | 'requestTimeoutMs' | 'messagesPerSecond'>>;

export interface SyncLoopOptions {
  readonly kernel: SyncHost;
  readonly signer: Signer;
  readonly manifest: Manifest;
  /** How often the engine ticks (heartbeats, peer expiry, request timeouts). */
  readonly tickMs?: number;
  readonly sync?: SyncTimings;
}

export const DEFAULT_TICK_MS = 250;

/**
 * A node's sync loop, the same in a tab's worker (workers/federation.ts) and in a Node
 * process (server/node-federation.ts): the SyncEngine over a TransportMux, received
 * messages handled one at a time in arrival order (as in the simulator the engine is
 * tested with), driven by a tick timer. Platform-neutral: it uses only what Web Workers
 * and Node both have — the wall clock, `crypto.getRandomValues`, `setInterval`.
 */
export class SyncLoop {
  readonly engine: SyncEngine;
  /** The transports the engine sends over and hears from; the owner adds and removes them. */
  readonly mux = new TransportMux();
  readonly #inbox = new SerialInbox((bytes, link) => this.engine.receive(bytes, link));
  readonly #tickMs: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(options: SyncLoopOptions) {
    this.#tickMs = options.tickMs ?? DEFAULT_TICK_MS;
    this.engine = new SyncEngine({
      host: options.kernel,
      signer: options.signer,
      manifest: options.manifest,
      now: () => Date.now(),
      randomBytes: (length) => crypto.getRandomValues(new Uint8Array(length)),
      send: (bytes, to) => this.mux.send(bytes, to),
      ...options.sync,
    });
    this.mux.onMessage((bytes, link) => this.#inbox.push(bytes, link));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Announces the node, then ticks until closed. */
  async start(): Promise<void> {
    await this.engine.start();
    if (this.#closed) return;
    this.#timer = setInterval(() => void this.engine.tick().catch(() => undefined), this.#tickMs);
  }

  /** Stops ticking and handling messages, and closes the transports; the kernel stays open. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.engine.close();
    await this.mux.close();
    await this.#inbox.close();
  }
}
