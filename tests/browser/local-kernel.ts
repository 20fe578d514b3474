import { seedSigner } from '../../src/crypto/ed25519.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { MemoryLedgerStore, type MemoryLog } from '../../src/storage/memory-store.js';
import { KernelService } from '../../workers/kernel-service.js';
import type { KernelRemote } from '../../workers/protocol.js';

/**
 * A kernel in this context, shaped like the worker's remote (every call async), for
 * testing the page side without a worker. Counts calls so tests can prove a call never
 * reached the kernel.
 */
export interface LocalKernel {
  readonly remote: KernelRemote;
  readonly service: KernelService;
  /** The kernel behind the service, for changes that do not come through the page (e.g. another node's log arriving). */
  readonly kernel: Kernel;
  readonly calls: string[];
  readonly data: Map<string, MemoryLog>;
}

export async function localKernel(
  data = new Map<string, MemoryLog>(),
  seed = 5,
  store = new MemoryLedgerStore(data),
): Promise<LocalKernel> {
  const kernel = await Kernel.open({
    store,
    signer: seedSigner(new Uint8Array(32).fill(seed)),
    now: () => 1_700_000_000_000,
  });
  const service = new KernelService(kernel, 0);
  const calls: string[] = [];
  const remote = new Proxy({} as KernelRemote, {
    get(_, name) {
      // Not thenable: awaiting the remote must give the remote itself.
      if (typeof name !== 'string' || name === 'then') return undefined;
      return (...args: unknown[]) => {
        calls.push(name);
        return Promise.resolve().then(() => (service[name as keyof KernelService] as (...a: unknown[]) => unknown).apply(service, args));
      };
    },
  });
  return { remote, service, kernel, calls, data };
}

/** A promise with its settle functions, to control when a fake kernel "starts". */
export function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
