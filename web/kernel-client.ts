import { asError } from '../src/errors.js';
import type { KernelRemote, LoadProgress } from '../workers/protocol.js';
import { createNaos, type NaosApi, type NetworkHandle } from './naos-api.js';

/** Starts a kernel somewhere (normally in a worker) and resolves to its API once it is up. */
export type KernelStarter = (onProgress: (progress: LoadProgress) => void) => Promise<KernelRemote>;

/** Starts the page's network for a kernel that is up (undefined: none). Must not reject. */
export type NetworkStarter = (kernel: KernelRemote) => Promise<NetworkHandle | undefined>;

/**
 * The page's handle on its kernel: the public naos API plus what only the UI needs
 * (boot progress while stored logs are re-verified).
 */
export class KernelClient {
  readonly naos: NaosApi;
  /** Settles once the page's network has started (or failed to, or there is none): what the node says of itself may have changed. */
  readonly networkStarted: Promise<void>;
  readonly #remote: Promise<KernelRemote>;
  #progress: LoadProgress | undefined;
  readonly #progressListeners = new Set<(progress: LoadProgress) => void>();

  constructor(start: KernelStarter, options: { readonly network?: NetworkStarter } = {}) {
    let remote: Promise<KernelRemote>;
    try {
      remote = start((progress) => this.#onProgress(progress));
    } catch (error) {
      remote = Promise.reject(asError(error));
    }
    const startNetwork = options.network;
    const network = startNetwork ? remote.then(startNetwork).catch(() => undefined) : Promise.resolve(undefined);
    this.#remote = remote;
    this.naos = createNaos(remote, network);
    this.networkStarted = network.then(() => undefined);
  }

  /** Has the replicas that wait for their scheduled write written now; never rejects. */
  async writeReplicasNow(): Promise<void> {
    try {
      await (await this.#remote).writeReplicasNow();
    } catch {
      // No kernel (its boot failed) or it is gone: nothing to write.
    }
  }

  /** Latest boot progress, if any log has been verified in part. */
  get progress(): LoadProgress | undefined {
    return this.#progress;
  }

  onProgress(listener: (progress: LoadProgress) => void): () => void {
    this.#progressListeners.add(listener);
    return () => void this.#progressListeners.delete(listener);
  }

  #onProgress(progress: LoadProgress): void {
    this.#progress = progress;
    for (const listener of this.#progressListeners) listener(progress);
  }
}

/**
 * A node writes the replicas it receives about a second after they arrive
 * (workers/boot.ts). When its page is hidden (it may be frozen or discarded next) or
 * closed, it is asked to write them at once. On close this is best effort — the browser
 * may stop the worker before the write ends — and what is lost is sent again by peers.
 * Returns a function that stops listening.
 */
export function writeReplicasWhenHidden(client: KernelClient, view: Window = window): () => void {
  const write = (): void => void client.writeReplicasNow();
  const onVisibility = (): void => {
    if (view.document.visibilityState === 'hidden') write();
  };
  view.addEventListener('pagehide', write);
  view.document.addEventListener('visibilitychange', onVisibility);
  return () => {
    view.removeEventListener('pagehide', write);
    view.document.removeEventListener('visibilitychange', onVisibility);
  };
}
