import * as Comlink from 'comlink';
import { bootNode } from './boot.js';
import { type BootOptions, type KernelWorkerEndpoint, type LoadProgress, WORKER_READY_MESSAGE } from './protocol.js';

// The kernel's worker: boots one node and hands the page its API over comlink.
//
// The worker, not the page, takes the slot's Web Lock: the lock is then held by exactly
// the context that holds the slot's private key and database connection, and it is let
// go exactly when they are (tab closed, reloaded, crashed, or worker terminated), so a
// slot is never "owned" by a page whose kernel is gone. The page only remembers the slot
// number in sessionStorage (which workers cannot reach) and passes it in.

let started: Promise<unknown> | undefined;

const endpoint: KernelWorkerEndpoint = {
  async start(options: BootOptions, onProgress?: (progress: LoadProgress) => void) {
    if (started) throw new Error('this worker has already started its kernel');
    const booting = bootNode(options, onProgress);
    started = booting;
    return Comlink.proxy(await booting);
  },
};

Comlink.expose(endpoint);
self.postMessage(WORKER_READY_MESSAGE);
