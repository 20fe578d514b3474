import { Kernel } from '../src/kernel/kernel.js';
import { IdbLedgerStore } from '../adapters/browser/idb-store.js';
import { openBrowserIdentity } from '../adapters/browser/identity.js';
import { claimSlot, DEFAULT_NAMESPACE, otherSlotHeld } from '../adapters/browser/slots.js';
import { startAgents } from './agents.js';
import { Federation } from './federation.js';
import { KernelService } from './kernel-service.js';
import { buildManifest } from './manifest.js';
import type { BootOptions, LoadProgress } from './protocol.js';

/**
 * How long a verified replica batch waits in memory before its IndexedDB write starts; what
 * arrives for the log meanwhile goes in the same write. Not at once: a receiver writing
 * takes a core from the receivers still verifying the same append. Not sooner: every
 * IndexedDB transaction costs the browser CPU, and more as the origin's data grows — with
 * 8 tabs after 240 appends, one append reached all tabs in 7.5 ms with writes 25 ms after,
 * 6.8 ms with 250 ms, 5.0 ms with 1 s (docs/SYNC.md, "Replica writes merged"). A replica
 * not yet written when its tab dies is fetched again from peers; the author's copy is strict.
 * A page being hidden or closed has them written at once (web/kernel-client.ts).
 */
const REPLICA_WRITE_DELAY_MS = 1000;

/**
 * How long after a failed replica write (e.g. over quota) it is tried again when nothing
 * else has tried first; the Node panel shows the failure meanwhile.
 */
const REPLICA_RETRY_MS = 5000;

/**
 * How long, after a boot, the first own appends of a node that has had peers wait to hear
 * from one (KernelOptions.awaitPeersUntil): tabs answer a DISCOVER within milliseconds, and a
 * rollback of this tab's storage shows in the first heads a peer sends.
 */
const AWAIT_PEERS_MS = 1500;

/** The slot database of `slot` in `namespace`, e.g. `naos-node-0`. */
export function slotDatabaseName(namespace: string, slot: number): string {
  return `${namespace}-node-${slot}`;
}

/**
 * Boots a node in the calling context: claims an identity slot (holding its Web Lock for
 * as long as this context lives), opens the slot's identity and ledger store, and opens
 * the kernel, which re-verifies every stored log. A damaged log does not stop the boot —
 * the kernel comes up and reports it in status(). If anything else fails, what was
 * opened is closed and the slot is given back before the error is rethrown.
 */
export async function bootNode(options: BootOptions = {}, onProgress?: (progress: LoadProgress) => void): Promise<KernelService> {
  const namespace = options.namespace ?? DEFAULT_NAMESPACE;
  const claim = await claimSlot({
    namespace,
    ...(options.preferredSlot === undefined ? {} : { preferred: options.preferredSlot }),
    ...(options.preferredWaitMs === undefined ? {} : { preferredWaitMs: options.preferredWaitMs }),
  });
  const dbName = slotDatabaseName(namespace, claim.slot);
  let store: IdbLedgerStore | undefined;
  try {
    const manifest = buildManifest(options.manifest ?? {}, Date.now());
    const identity = await openBrowserIdentity(dbName);
    store = await IdbLedgerStore.open(dbName);
    // Counted from when the node can hear peers, not from here: verifying a large store on
    // open can take longer than the whole wait.
    let peersDeadline = (): void => undefined;
    const awaitPeersUntil = new Promise<void>((resolve) => (peersDeadline = resolve));
    const kernel = await Kernel.open({
      store,
      signer: identity.signer,
      now: () => Date.now(),
      onLoadProgress: (origin, verified, total) => onProgress?.({ origin, verified, total }),
      scheduleReplicaWrite: (write) => setTimeout(write, options.replicaWriteDelayMs ?? REPLICA_WRITE_DELAY_MS),
      scheduleReplicaRetry: (retry) => setTimeout(retry, REPLICA_RETRY_MS),
      ...(options.federation !== false && { awaitPeersUntil }),
    });
    // Tabs of one namespace federate over its BroadcastChannel (workers/federation.ts).
    const federation =
      options.federation === false ? undefined : await Federation.start({ kernel, signer: identity.signer, manifest, namespace });
    setTimeout(peersDeadline, options.awaitPeersMs ?? AWAIT_PEERS_MS);
    // Agents run in sandbox workers started from here (workers/agents.ts).
    const agents =
      options.agents === false ? undefined : startAgents(kernel, federation, { shard: manifest.region, ...(options.agents ?? {}) }).service;
    return new KernelService(kernel, claim.slot, federation, agents, {
      networkUnavailable: async () => {
        if (!(await otherSlotHeld(namespace, claim.slot))) peersDeadline();
      },
    });
  } catch (error) {
    await store?.close();
    claim.release();
    throw error;
  }
}
