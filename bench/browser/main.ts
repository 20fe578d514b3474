import * as Comlink from 'comlink';
import type { LedgerBench } from './ledger.worker.js';

/**
 * The benchmark page: starts the benchmark worker (the kernel runs in a worker in the
 * app too) and exposes it to the driver as `globalThis.naosBench`.
 */
const worker = new Worker(new URL('./ledger.worker.ts', import.meta.url), { type: 'module' });
const ready = new Promise<void>((resolve) => {
  worker.addEventListener('message', function onReady(event: MessageEvent) {
    if (event.data === 'bench-ready') {
      worker.removeEventListener('message', onReady);
      resolve();
    }
  });
});
const remote = Comlink.wrap<LedgerBench>(worker);
(globalThis as unknown as { naosBench: unknown }).naosBench = {
  ready,
  run: async (name: keyof LedgerBench, params: unknown) => {
    await ready;
    return (remote[name] as (p: unknown) => Promise<unknown>)(params);
  },
};
