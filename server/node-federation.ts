import { SyncLoop, type SyncLoopOptions } from '../adapters/sync-loop.js';
import type { SyncEngine } from '../src/federation/sync-engine.js';
import type { Transport } from '../src/federation/transport.js';

/**
 * A Node-side node's federation: the sync loop (adapters/sync-loop.ts) over its
 * transports (the libp2p one here). The browser counterpart is workers/federation.ts,
 * which adds the tab channel.
 */
export interface NodeFederationOptions extends SyncLoopOptions {
  readonly transports: readonly Transport[];
}

export class NodeFederation {
  readonly #loop: SyncLoop;

  private constructor(options: NodeFederationOptions) {
    this.#loop = new SyncLoop(options);
    for (const transport of options.transports) this.#loop.mux.add(transport);
  }

  get engine(): SyncEngine {
    return this.#loop.engine;
  }

  static async start(options: NodeFederationOptions): Promise<NodeFederation> {
    const federation = new NodeFederation(options);
    await federation.#loop.start();
    return federation;
  }

  /** Stops ticking and handling messages, and closes the transports; the kernel stays open. */
  async close(): Promise<void> {
    await this.#loop.close();
  }
}
