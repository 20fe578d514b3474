import { expect, type Page } from '@playwright/test';

/** Waits until the page's kernel is up and returns its node id. */
export async function nodeReady(page: Page): Promise<string> {
  await page.waitForFunction(() => typeof globalThis.naos === 'object');
  await page.evaluate(() => naos.ready);
  return page.evaluate(() => naos.nodeId());
}

/** Opens the app in `page` (at `path`, e.g. `/#peers` for a panel) and waits for its kernel. */
export async function openNode(page: Page, path = '/'): Promise<string> {
  await page.goto(path);
  return nodeReady(page);
}

export async function reloadNode(page: Page): Promise<string> {
  await page.reload();
  return nodeReady(page);
}

/** The slot the tab remembers (web/kernel-worker.ts SLOT_STORAGE_KEY). */
export function slotOf(page: Page): Promise<number> {
  return page.evaluate(() => Number(sessionStorage.getItem('naos.slot')));
}

/** Everything that must survive a reload, read through the automation API. */
export function nodeState(page: Page) {
  return page.evaluate(async () => {
    const heads = await naos.heads();
    const size = heads[0]?.size ?? 0;
    return {
      nodeId: await naos.nodeId(),
      heads,
      stateRoot: await naos.stateRoot(),
      checkpoint: await naos.checkpoint(),
      checkpoints: await naos.checkpoints(),
      entries: await naos.entries(0, size),
    };
  });
}

/** A stored value as it crosses page.evaluate: byte arrays travel as number arrays. */
export type RawValue = { readonly bytes: number[] } | { readonly value: unknown };

/**
 * Reads one record of the slot database through a raw IndexedDB connection in the page
 * (behind the kernel's back), and optionally replaces or deletes it in the same
 * transaction. Returns the value that was there before.
 */
export function rawRecord(
  page: Page,
  args: {
    slot: number;
    store: 'entries' | 'checkpoints' | 'heads' | 'identity';
    key: string | (string | number)[];
    put?: RawValue;
    delete?: true;
  },
): Promise<RawValue | undefined> {
  return page.evaluate(async ({ slot, store, key, put, delete: remove }) => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open(`naos-node-${slot}`);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error ?? new Error('open failed'));
    });
    try {
      const tx = db.transaction(store, 'readwrite');
      const done = new Promise<void>((resolve, reject) => {
        tx.oncomplete = () => resolve();
        tx.onerror = () => reject(tx.error ?? new Error('transaction failed'));
      });
      const objects = tx.objectStore(store);
      const before = await new Promise<unknown>((resolve, reject) => {
        const request = objects.get(key);
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error ?? new Error('get failed'));
      });
      if (put) {
        const next = 'bytes' in put ? new Uint8Array(put.bytes) : put.value;
        if (objects.keyPath === null) objects.put(next, key);
        else objects.put(next);
      }
      if (remove) objects.delete(key);
      await done;
      if (before === undefined) return undefined;
      return before instanceof Uint8Array ? { bytes: [...before] } : { value: before };
    } finally {
      db.close();
    }
  }, args);
}

/** The step an agent is at as `page`'s node knows it, or -1 while it knows no such agent. */
export function agentStep(page: Page, id: string): Promise<number> {
  return page.evaluate(
    (agent) =>
      naos.agents.get(agent).then(
        (v) => v.step,
        () => -1,
      ),
    id,
  );
}

/**
 * After `id` moved away from `oldHost` to `newHost`: the old host refuses to step it
 * (AgentNotHostedError), learns of the new host's step `step`, and confirms it by replay.
 */
export async function expectHandedOver(oldHost: Page, id: string, newHost: string, step: number, timeout = 30_000): Promise<void> {
  const tried = await oldHost.evaluate(
    (agent) =>
      naos.agents.send(agent, {}).then(
        () => 'ran',
        (e: unknown) => (e as Error).name,
      ),
    id,
  );
  expect(tried).toBe('AgentNotHostedError');
  await expect.poll(() => agentStep(oldHost, id), { timeout }).toBe(step);
  const replayed = await oldHost.evaluate(([agent, s]) => naos.agents.replay(agent, s), [id, step] as const);
  expect(replayed).toMatchObject({ status: 'confirmed', recordedBy: newHost });
}
