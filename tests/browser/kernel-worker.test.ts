import { deleteDB } from 'idb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KernelClient, writeReplicasWhenHidden } from '../../web/kernel-client.js';
import { type LaunchedKernel, launchKernelWorker, SLOT_STORAGE_KEY, startPageNetwork } from '../../web/kernel-worker.js';
import type { KernelRemote } from '../../workers/protocol.js';

// The real worker bundle, started the way the app starts it, in a namespace of its own.
let counter = 0;
const namespaces: string[] = [];
const freshNamespace = () => {
  namespaces.push(`naos-test-worker-${Date.now()}-${counter++}`);
  return namespaces.at(-1)!;
};

/** A tab's sessionStorage stand-in. */
function tabMemory(initial?: number) {
  const map = new Map<string, string>(initial === undefined ? [] : [[SLOT_STORAGE_KEY, String(initial)]]);
  return { getItem: (key: string) => map.get(key) ?? null, setItem: (key: string, value: string) => void map.set(key, value), map };
}

async function isHeld(name: string): Promise<boolean> {
  return ((await navigator.locks.query()).held ?? []).some((lock) => lock.name === name);
}

describe('kernel worker', () => {
  const launched: LaunchedKernel[] = [];
  const keep = (k: LaunchedKernel) => (launched.push(k), k);
  afterEach(async () => {
    launched.splice(0).forEach((k) => k.worker.terminate());
    // Deletion waits until the terminated workers' connections are gone.
    await Promise.all(namespaces.splice(0).flatMap((ns) => [0, 1].map((slot) => deleteDB(`${ns}-node-${slot}`))));
  });

  it('boots a kernel, holds its slot lock in the worker and remembers the slot', async () => {
    const namespace = freshNamespace();
    const memory = tabMemory();
    const { kernel, slot } = keep(await launchKernelWorker({ namespace, memory }));
    expect(slot).toBe(0);
    expect(memory.map.get(SLOT_STORAGE_KEY)).toBe('0');
    expect(await isHeld(`${namespace}-slot-0`)).toBe(true);
    expect(await kernel.append({ from: 'worker test' })).toMatchObject({ index: 0 });
    expect((await kernel.status()).state).toBe('ok');
  });

  it('gives two live kernels different slots and ids; a terminated worker frees its slot for its tab', async () => {
    const namespace = freshNamespace();
    const first = keep(await launchKernelWorker({ namespace, memory: tabMemory() }));
    const second = keep(await launchKernelWorker({ namespace, memory: tabMemory() }));
    const [firstId, secondId] = [await first.kernel.nodeId(), await second.kernel.nodeId()];
    expect(firstId).not.toBe(secondId);
    expect(second.slot).toBe(1);
    await first.kernel.append('written before the reload');

    first.worker.terminate(); // what a reload does to the old document's worker
    const reloaded = keep(await launchKernelWorker({ namespace, memory: tabMemory(first.slot) }));
    expect(reloaded.slot).toBe(first.slot);
    expect(await reloaded.kernel.nodeId()).toBe(firstId);
    expect((await reloaded.kernel.entries(0, 1)).map((e) => e.payload)).toEqual(['written before the reload']);
  });

  it('reports boot progress while it re-verifies a stored log', async () => {
    const namespace = freshNamespace();
    const first = keep(await launchKernelWorker({ namespace, memory: tabMemory() }));
    const values = Array.from({ length: 5000 }, (_, i) => i);
    for (let i = 0; i < values.length; i += 1000) await first.kernel.appendMany(values.slice(i, i + 1000));
    first.worker.terminate();
    const progress: { verified: number; total: number }[] = [];
    const again = keep(await launchKernelWorker({ namespace, memory: tabMemory(first.slot), onProgress: (p) => progress.push(p) }));
    expect((await again.kernel.heads())[0]!.size).toBe(5000);
    await expect.poll(() => progress.at(-1)).toMatchObject({ verified: 5000, total: 5000 });
    expect(progress[0]!.verified).toBeLessThan(5000); // more than one step was reported
  });

  it('a reloaded node alone, its network reaching no peer, stops waiting for peers at once; with another tab open it waits', async () => {
    const namespace = freshNamespace();
    const patient = { namespace, awaitPeersMs: 600_000 };
    const first = keep(await launchKernelWorker({ ...patient, memory: tabMemory() }));
    await first.kernel.append('held before the reload');
    first.worker.terminate();

    // Alone: its append waits for a peer until the page says its network reaches none; nobody could answer, so it goes ahead.
    const alone = keep(await launchKernelWorker({ ...patient, memory: tabMemory(first.slot) }));
    const appended = alone.kernel.append('after the reload');
    await expect.poll(async () => (await alone.kernel.status()).awaitingPeers).toBe(true);
    await alone.kernel.networkUnavailable();
    await expect(appended).resolves.toMatchObject({ index: 1 });
    expect((await alone.kernel.status()).awaitingPeers).toBeUndefined();

    // Another tab of the namespace is open (here one without federation, so it never answers): it may hold the log, so the wait goes on.
    const other = keep(await launchKernelWorker({ ...patient, memory: tabMemory(), federation: false }));
    expect(other.slot).not.toBe(first.slot);
    alone.worker.terminate();
    const beside = keep(await launchKernelWorker({ ...patient, memory: tabMemory(first.slot) }));
    expect(beside.slot).toBe(first.slot);
    void beside.kernel.append('beside another tab').catch(() => undefined);
    await expect.poll(async () => (await beside.kernel.status()).awaitingPeers).toBe(true);
    await beside.kernel.networkUnavailable();
    expect((await beside.kernel.status()).awaitingPeers).toBe(true);
    expect((await beside.kernel.heads()).find((h) => h.size > 0)?.size).toBe(2);
  });

  it('a page being hidden or closed has the replicas it received written at once, not when their write was due', async () => {
    const namespace = freshNamespace();
    const late = { namespace, replicaWriteDelayMs: 600_000 };
    const author = keep(await launchKernelWorker({ ...late, memory: tabMemory() }));
    const receiver = keep(await launchKernelWorker({ ...late, memory: tabMemory() }));
    const { origin } = await author.kernel.info();
    const unpersisted = async () => (await receiver.kernel.status()).unpersisted;
    // The receiving page (a stand-in window, so that the test runner's own page is left alone).
    const document = Object.assign(new EventTarget(), { visibilityState: 'visible' });
    const view = Object.assign(new EventTarget(), { document }) as unknown as Window;
    const stop = writeReplicasWhenHidden(new KernelClient(() => Promise.resolve(receiver.kernel)), view);

    await author.kernel.append('one');
    await expect.poll(unpersisted).toEqual([{ origin, entries: 1 }]);
    view.dispatchEvent(new Event('pagehide'));
    await expect.poll(unpersisted).toBeUndefined();

    await author.kernel.append('two');
    await expect.poll(unpersisted).toEqual([{ origin, entries: 1 }]);
    document.visibilityState = 'hidden';
    document.dispatchEvent(new Event('visibilitychange'));
    await expect.poll(unpersisted).toBeUndefined();
    stop();

    // Written, not only reported so: the receiver's storage holds both after it is gone.
    receiver.worker.terminate();
    author.worker.terminate();
    const reopened = keep(await launchKernelWorker({ namespace, memory: tabMemory(receiver.slot), federation: false }));
    expect((await reopened.kernel.heads()).find((h) => h.origin === origin)?.size).toBe(2);
  });

  it('the page tells its kernel when its network reaches no peer (here: no bootstrap list is served)', async () => {
    const networkUnavailable = vi.fn(() => Promise.resolve());
    const network = await startPageNetwork({ networkUnavailable } as unknown as KernelRemote);
    expect(network?.state).toBe('unavailable');
    expect(networkUnavailable).toHaveBeenCalledOnce();
  });
});
