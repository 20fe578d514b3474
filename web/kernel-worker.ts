import * as Comlink from 'comlink';
import { NaosError } from '../src/errors.js';
import { type KernelRemote, type KernelWorkerEndpoint, type LoadProgress, WORKER_READY_MESSAGE } from '../workers/protocol.js';

/** The worker could not be loaded or died before its kernel was up. */
export class KernelWorkerError extends NaosError {}

/** sessionStorage key holding this tab's identity slot (per tab, survives reloads). */
export const SLOT_STORAGE_KEY = 'naos.slot';

/**
 * Starts the kernel in a module worker and resolves to its API. Passes the slot this tab
 * remembered, and remembers the slot the worker actually got (a duplicated tab inherits
 * the original's sessionStorage but ends up in a slot of its own).
 */
export async function startKernelWorker(onProgress: (progress: LoadProgress) => void): Promise<KernelRemote> {
  const worker = new Worker(new URL('../workers/kernel.worker.ts', import.meta.url), { type: 'module', name: 'naos-kernel' });
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
  const remembered = rememberedSlot();
  const started = endpoint.start(remembered === undefined ? {} : { preferredSlot: remembered }, Comlink.proxy(onProgress));
  const kernel = (await Promise.race([started, failed])) as unknown as KernelRemote;
  const { slot } = await kernel.info();
  sessionStorage.setItem(SLOT_STORAGE_KEY, String(slot));
  return kernel;
}

function rememberedSlot(): number | undefined {
  const text = sessionStorage.getItem(SLOT_STORAGE_KEY);
  return text !== null && /^\d{1,3}$/.test(text) ? Number(text) : undefined;
}
