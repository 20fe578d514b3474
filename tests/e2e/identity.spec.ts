import { expect, type Page, test } from '@playwright/test';
import { nodeReady, openNode, rawRecord, reloadNode, slotOf } from './support.js';

/** True while some context of the origin holds the lock of `slot`, asked from `page`. */
function slotHeld(page: Page, slot: number): Promise<boolean> {
  return page.evaluate(
    async (name) => ((await navigator.locks.query()).held ?? []).some((lock) => lock.name === name),
    `naos-slot-${slot}`,
  );
}

test('two live tabs never share an identity; each reload gets its own back', async ({ context }) => {
  const a = await context.newPage();
  const b = await context.newPage();
  const idA = await openNode(a);
  const idB = await openNode(b);
  expect(idA).not.toBe(idB);
  expect(await slotOf(a)).not.toBe(await slotOf(b));
  await expect(a.getByTestId('node-id')).toHaveText(idA);
  await expect(b.getByTestId('node-id')).toHaveText(idB);

  expect(await reloadNode(a)).toBe(idA);
  expect(await reloadNode(b)).toBe(idB);
  // Both at once: each waits for its own slot, neither takes the other's.
  await Promise.all([a.reload(), b.reload()]);
  expect([await nodeReady(a), await nodeReady(b)]).toEqual([idA, idB]);
});

test('a duplicated tab (sessionStorage copied) gets an identity of its own and leaves the original alone', async ({ context }) => {
  const original = await context.newPage();
  const originalId = await openNode(original);
  const originalSlot = await slotOf(original);

  const duplicate = await context.newPage();
  // What tab duplication does: the new tab starts with a copy of the original's sessionStorage.
  await duplicate.addInitScript((slot) => {
    if (sessionStorage.getItem('naos.slot') === null) sessionStorage.setItem('naos.slot', String(slot));
  }, originalSlot);
  const duplicateId = await openNode(duplicate);
  expect(duplicateId).not.toBe(originalId);
  expect(await slotOf(duplicate)).not.toBe(originalSlot);

  // The original keeps working as itself.
  expect(await original.evaluate(() => naos.append({ still: 'mine' }))).toMatchObject({ index: 0 });
  expect(await original.evaluate(() => naos.nodeId())).toBe(originalId);
  // The duplicate now remembers its own slot and comes back to it.
  expect(await reloadNode(duplicate)).toBe(duplicateId);
});

test('a closed tab frees its slot: the next new tab becomes that node', async ({ context }) => {
  const first = await context.newPage();
  const firstId = await openNode(first);
  const watcher = await context.newPage();
  await watcher.goto('/favicon.svg'); // same origin, no kernel of its own
  await first.close();
  await expect.poll(() => slotHeld(watcher, 0)).toBe(false);
  const next = await context.newPage();
  expect(await openNode(next)).toBe(firstId);
});

test('the private key is stored as a non-extractable CryptoKey in the slot database', async ({ page }) => {
  await openNode(page);
  const slot = await slotOf(page);
  const facts = await page.evaluate(async (dbName) => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open(dbName);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error ?? new Error('open failed'));
    });
    const record = await new Promise<{ privateKey: CryptoKey; publicKey: CryptoKey }>((resolve, reject) => {
      const request = db.transaction('identity').objectStore('identity').get('node');
      request.onsuccess = () => resolve(request.result as { privateKey: CryptoKey; publicKey: CryptoKey });
      request.onerror = () => reject(request.error ?? new Error('get failed'));
    });
    db.close();
    const exported = await crypto.subtle.exportKey('pkcs8', record.privateKey).then(
      () => 'exported',
      (error: unknown) => (error as Error).name,
    );
    return {
      isCryptoKey: record.privateKey instanceof CryptoKey,
      algorithm: record.privateKey.algorithm.name,
      extractable: record.privateKey.extractable,
      exported,
    };
  }, `naos-node-${slot}`);
  expect(facts).toEqual({ isCryptoKey: true, algorithm: 'Ed25519', extractable: false, exported: 'InvalidAccessError' });
  // And nothing else in the database holds key material in the clear.
  expect(await rawRecord(page, { slot, store: 'identity', key: 'node' })).toBeDefined();
});
