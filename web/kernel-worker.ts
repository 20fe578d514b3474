import * as Comlink from 'comlink';
import { BrowserNetwork } from '../network/browser-network.js';
import { NaosError } from '../src/errors.js';
import {
  type KernelRemote,
  type KernelWorkerEndpoint,
  type LoadProgress,
  type ManifestParams,
  WORKER_READY_MESSAGE,
} from '../workers/protocol.js';

/** The worker could not be loaded or died before its kernel was up. */
export class KernelWorkerError extends NaosError {}

/** sessionStorage key holding this tab's identity slot (per tab, survives reloads). */
export const SLOT_STORAGE_KEY = 'naos.slot';

export interface LaunchOptions {
  /** Storage and lock namespace (default `naos`); tests use their own. */
  readonly namespace?: string;
  /** Where the tab remembers its slot (default sessionStorage). */
  readonly memory?: Pick<Storage, 'getItem' | 'setItem'>;
  readonly onProgress?: (progress: LoadProgress) => void;
  /** What the node announces about itself (region, shard, types, capabilities). */
  readonly manifest?: ManifestParams;
  /** Join the namespace's tab federation (default true). */
  readonly federation?: boolean;
  /** How long a reloaded node's first appends wait to hear from a peer (BootOptions.awaitPeersMs). */
  readonly awaitPeersMs?: number;
  /** How long a replica waits for its IndexedDB write (BootOptions.replicaWriteDelayMs). */
  readonly replicaWriteDelayMs?: number;
}

export interface LaunchedKernel {
  readonly kernel: KernelRemote;
  readonly worker: Worker;
  readonly slot: number;
}

/**
 * Starts a kernel in a module worker and resolves once it is up. Passes the slot this tab
 * remembered and remembers the slot the worker actually got (a duplicated tab inherits
 * the original's sessionStorage but ends up in a slot of its own).
 */
export async function launchKernelWorker(options: LaunchOptions = {}): Promise<LaunchedKernel> {
  const memory = options.memory ?? sessionStorage;
  const worker = new Worker(new URL('../workers/kernel.worker.ts', import.meta.url), { type: 'module', name: 'naos-kernel' });
  try {
    const failed = new Promise<never>((_, reject) => {
      worker.addEventListener('error', (event) => {
        reject(new KernelWorkerError(`the kernel worker failed to load: ${event.message || 'unknown error'}`));
      });
    });
    const listening = new Promise<void>((resolve) => {
      const onMessage = (event: MessageEvent) => {
        if (event.data !== WORKER_READY_MESSAGE) return;
        worker.removeEventListener('message', onMessage);
        resolve();
      };
      worker.addEventListener('message', onMessage);
    });
    await Promise.race([listening, failed]);
    const endpoint = Comlink.wrap<KernelWorkerEndpoint>(worker);
    const remembered = rememberedSlot(memory);
    const started = endpoint.start(
      {
        ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
        ...(remembered === undefined ? {} : { preferredSlot: remembered }),
        ...(options.manifest === undefined ? {} : { manifest: options.manifest }),
        ...(options.federation === undefined ? {} : { federation: options.federation }),
        ...(options.awaitPeersMs === undefined ? {} : { awaitPeersMs: options.awaitPeersMs }),
        ...(options.replicaWriteDelayMs === undefined ? {} : { replicaWriteDelayMs: options.replicaWriteDelayMs }),
      },
      options.onProgress && Comlink.proxy(options.onProgress),
    );
    const kernel = (await Promise.race([started, failed])) as unknown as KernelRemote;
    const { slot } = await kernel.info();
    memory.setItem(SLOT_STORAGE_KEY, String(slot));
    return { kernel, worker, slot };
  } catch (error) {
    worker.terminate();
    throw error;
  }
}

/**
 * The app's KernelStarter: this tab's kernel, in the default namespace, announcing the
 * region/shard/types/capabilities given in the page URL (`?region=eu-west&shard=eu-west-1`).
 */
export async function startKernelWorker(onProgress: (progress: LoadProgress) => void): Promise<KernelRemote> {
  return (await launchKernelWorker({ onProgress, manifest: manifestParamsFrom(location.search) })).kernel;
}

/**
 * The app's NetworkStarter: this tab's libp2p node (network/browser-network.ts), bridged
 * to its kernel worker, unless the URL says `?libp2p=off`. Never rejects: a missing
 * bootstrap list leaves the network `unavailable` with the reason (naos.network()).
 */
export async function startPageNetwork(kernel: KernelRemote): Promise<BrowserNetwork | undefined> {
  if (new URLSearchParams(location.search).get('libp2p') === 'off') {
    await kernel.networkUnavailable().catch(() => undefined);
    return undefined;
  }
  const network = await BrowserNetwork.start({
    kernel: {
      handshakeKey: () => kernel.handshakeKey(),
      signHandshake: (message) => kernel.signHandshake(message),
      manifest: () => kernel.manifest(),
      attachNetwork: (port) => kernel.attachNetwork(Comlink.transfer(port, [port])),
    },
  });
  // No relay or peer to reach (offline, or a server without any): only sibling tabs could
  // answer the kernel's boot wait for peers.
  if (network.state !== 'on') await kernel.networkUnavailable().catch(() => undefined);
  return network;
}

/** The manifest params in a page URL's query string (the worker checks them). */
export function manifestParamsFrom(search: string): ManifestParams {
  const query = new URLSearchParams(search);
  const params: Record<string, string> = {};
  for (const name of ['region', 'shard', 'types', 'capabilities'] as const) {
    const value = query.get(name);
    if (value !== null) params[name] = value;
  }
  return params;
}

function rememberedSlot(memory: Pick<Storage, 'getItem'>): number | undefined {
  const text = memory.getItem(SLOT_STORAGE_KEY);
  return text !== null && /^\d{1,3}$/.test(text) ? Number(text) : undefined;
}
