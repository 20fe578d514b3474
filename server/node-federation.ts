import type { Signer } from '../src/crypto/ed25519.js';
import type { Manifest } from '../src/federation/messages.js';
import { SyncEngine, type SyncOptions } from '../src/federation/sync-engine.js';
import { SerialInbox } from '../src/federation/inbox.js';
import { type Transport, TransportMux } from '../src/federation/transport.js';
import type { Kernel } from '../src/kernel/kernel.js';

/**
 * A Node-side node's federation: the SyncEngine over a TransportMux of its transports
 * (the libp2p one here), driven by a tick timer; received messages are handled one at a
 * time in arrival order (as in the simulator the engine is tested with). The browser
 * counterpart is workers/federation.ts, which adds the tab channel.
 */
export interface NodeFederationOptions {
  readonly kernel: Kernel;
  readonly signer: Signer;
  readonly manifest: Manifest;
  readonly transports: readonly Transport[];
  readonly tickMs?: number;
  readonly sync?: Partial<Pick<SyncOptions, 'heartbeatMs' | 'peerTimeoutMs' | 'requestTimeoutMs' | 'messagesPerSecond'>>;
}

const DEFAULT_TICK_MS = 250;

export class NodeFederation {
  readonly engine: SyncEngine;
  readonly #mux = new TransportMux();
  #timer: ReturnType<typeof setInterval> | undefined;
  readonly #inbox = new SerialInbox((bytes, link) => this.engine.receive(bytes, link));
  #closed = false;

  private constructor(options: NodeFederationOptions) {
    this.engine = new SyncEngine({
      host: options.kernel,
      signer: options.signer,
      manifest: options.manifest,
      now: () => Date.now(),
      randomBytes: (length) => crypto.getRandomValues(new Uint8Array(length)),
      send: (bytes, to) => this.#mux.send(bytes, to),
      ...options.sync,
    });
    for (const transport of options.transports) this.#mux.add(transport);
    this.#mux.onMessage((bytes, link) => this.#inbox.push(bytes, link));
  }

  static async start(options: NodeFederationOptions): Promise<NodeFederation> {
    const federation = new NodeFederation(options);
    await federation.engine.start();
    federation.#timer = setInterval(() => void federation.engine.tick().catch(() => undefined), options.tickMs ?? DEFAULT_TICK_MS);
    return federation;
  }

  /** Stops ticking and handling messages, and closes the transports; the kernel stays open. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.engine.close();
    await this.#mux.close();
    await this.#inbox.close();
  }
}
