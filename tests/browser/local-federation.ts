import { seedSigner } from '../../src/crypto/ed25519.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { MemoryLedgerStore } from '../../src/storage/memory-store.js';
import { KernelClient } from '../../web/kernel-client.js';
import { Federation } from '../../workers/federation.js';
import { KernelService } from '../../workers/kernel-service.js';
import { buildManifest } from '../../workers/manifest.js';
import type { KernelRemote } from '../../workers/protocol.js';

let counter = 0;

export interface LocalNode {
  readonly kernel: Kernel;
  readonly federation: Federation;
  readonly service: KernelService;
  readonly client: KernelClient;
}

/**
 * `count` nodes in this page, each a real Kernel (memory store) with a real Federation
 * over a BroadcastChannel of a fresh namespace — the worker's setup without the workers.
 * Quick heartbeats so tests do not wait long.
 */
export async function localFederation(count: number, firstSeed = 40): Promise<{ nodes: LocalNode[]; close: () => Promise<void> }> {
  const namespace = `naos-test-fed-${Date.now()}-${counter++}`;
  const nodes: LocalNode[] = [];
  for (let i = 0; i < count; i++) {
    const signer = seedSigner(new Uint8Array(32).fill(firstSeed + i));
    const kernel = await Kernel.open({ store: new MemoryLedgerStore(), signer, now: () => Date.now() });
    const federation = await Federation.start({
      kernel,
      signer,
      namespace,
      manifest: buildManifest({ region: `r${i}` }, Date.now()),
      tickMs: 50,
      sync: { heartbeatMs: 200, peerTimeoutMs: 1500, requestTimeoutMs: 1000 },
    });
    const service = new KernelService(kernel, i, federation);
    nodes.push({ kernel, federation, service, client: new KernelClient(() => Promise.resolve(remoteOf(service))) });
  }
  return {
    nodes,
    close: async () => {
      await Promise.all(nodes.map((n) => n.service.close()));
    },
  };
}

/** The service shaped like the worker's comlink remote (every call async, results cloned). */
function remoteOf(service: KernelService): KernelRemote {
  return new Proxy({} as KernelRemote, {
    get(_, name) {
      if (typeof name !== 'string' || name === 'then') return undefined;
      return (...args: unknown[]) =>
        Promise.resolve().then(() => {
          const result = (service[name as keyof KernelService] as (...a: unknown[]) => unknown).apply(service, args);
          return result instanceof Promise ? result.then(clone) : clone(result);
        });
    },
  });
}

const clone = (value: unknown): unknown => (value === undefined ? undefined : structuredClone(value));
