import { type BrowserContext, expect, type Page, test } from '@playwright/test';
import { openNode, rawRecord, reloadNode, slotOf } from './support.js';
import { expectConverged, openTabs, syncState } from './tabs.js';

/** Flips the last bit of one stored entry, behind the kernel's back; returns the bytes before and after. */
async function flipLastByte(page: Page, slot: number, origin: string, index: number) {
  const original = await rawRecord(page, { slot, store: 'entries', key: [origin, index] });
  if (!original || !('bytes' in original)) throw new Error(`entry ${index} is not stored as bytes`);
  const tampered = [...original.bytes];
  tampered[tampered.length - 1]! ^= 0x01;
  await rawRecord(page, { slot, store: 'entries', key: [origin, index], put: { bytes: tampered } });
  return { original, tampered };
}

test.describe('an altered IndexedDB record is detected on load; alone, the node uses and repairs nothing', () => {
  test('one flipped byte in one entry', async ({ page }) => {
    const nodeId = await openNode(page);
    const origin = `naos/${nodeId}`;
    for (let i = 0; i < 4; i++) await page.evaluate((n) => naos.append({ n }), i);
    const slot = await slotOf(page);

    const { tampered } = await flipLastByte(page, slot, origin, 1);

    expect(await reloadNode(page)).toBe(nodeId); // the kernel is up…
    const status = await page.evaluate(() => naos.status());
    expect(status.state).toBe('damaged'); // …and says what is wrong
    expect(status.damaged).toHaveLength(1);
    expect(status.damaged[0]!.origin).toBe(origin);
    expect(status.damaged[0]!.problems.map((p) => p.where)).toContain('entry 1');

    const alert = page.getByTestId('damage-alert');
    await expect(alert).toBeVisible();
    await expect(alert).toContainText('Ledger damaged');
    await expect(alert).toContainText('entry 1');
    await expect(page.getByRole('button', { name: 'Append' })).toBeDisabled();

    // Nothing from the damaged log is used…
    expect(await page.evaluate(() => naos.heads())).toEqual([]);
    const refusal = await page.evaluate(() =>
      naos.append({ after: 'tamper' }).then(
        () => 'appended',
        (error: unknown) => ({ name: (error as Error).name, message: (error as Error).message }),
      ),
    );
    expect(refusal).toMatchObject({ name: 'LedgerIntegrityError', message: expect.stringContaining('entry 1') });
    // …and nothing is repaired: the altered bytes are still there, nothing was added.
    expect(await rawRecord(page, { slot, store: 'entries', key: [origin, 1] })).toEqual({ bytes: tampered });
    expect(await rawRecord(page, { slot, store: 'entries', key: [origin, 4] })).toBeUndefined();
    expect(await rawRecord(page, { slot, store: 'heads', key: origin })).toMatchObject({ value: { size: 4 } });

    // Still damaged on the next load: detection does not depend on a one-off check.
    await reloadNode(page);
    expect((await page.evaluate(() => naos.status())).state).toBe('damaged');
  });

  test('an altered checkpoint signature', async ({ page }) => {
    const nodeId = await openNode(page);
    const origin = `naos/${nodeId}`;
    for (let i = 0; i < 2; i++) await page.evaluate((n) => naos.append({ n }), i);
    const slot = await slotOf(page);
    const stored = await rawRecord(page, { slot, store: 'checkpoints', key: [origin, 2] });
    if (!stored || !('value' in stored)) throw new Error('checkpoint 2 missing');
    const record = stored.value as { size: number; note: string };
    // Change one character of the base64 signature (the last line of the note).
    const note = record.note.replace(/(\n— \S+ )(.)/, (_, head: string, c: string) => `${head}${c === 'A' ? 'B' : 'A'}`);
    expect(note).not.toBe(record.note);
    await rawRecord(page, { slot, store: 'checkpoints', key: [origin, 2], put: { value: { ...record, note } } });

    await reloadNode(page);
    const status = await page.evaluate(() => naos.status());
    expect(status.state).toBe('damaged');
    expect(status.damaged[0]!.problems.map((p) => p.where)).toContain('checkpoint 2');
    await expect(page.getByTestId('damage-alert')).toContainText('checkpoint 2');
    expect(await page.evaluate(() => naos.checkpoint().catch((error: unknown) => (error as Error).name))).toBe('LedgerIntegrityError');
  });
});

/** Two tabs; the first appends 4 entries (one checkpoint each) and the second holds them. */
async function authorAndPeerTab(context: BrowserContext) {
  const [a, b] = (await openTabs(context, 2)) as [Page, Page];
  const origin = `naos/${await a.evaluate(() => naos.nodeId())}`;
  for (let i = 0; i < 4; i++) await a.evaluate((n) => naos.append({ n }), i);
  await expectConverged([a, b], { logs: 1 });
  return { a, b, origin, slot: await slotOf(a) };
}

test('a damaged log is re-fetched from a peer tab, verified, and stored in place of the altered records (F6)', async ({ context }) => {
  // One checkpoint per entry, so that the damage is located to one entry.
  const { a, b, origin, slot } = await authorAndPeerTab(context);
  const { original } = await flipLastByte(a, slot, origin, 1);

  // On reload the damage is found; the other tab holds a signed copy, which replaces it.
  await reloadNode(a);
  await expect
    .poll(() => a.evaluate(() => naos.status()), { timeout: 20_000 })
    .toMatchObject({
      state: 'ok',
      damaged: [],
      repaired: [{ origin, size: 4, problems: [expect.objectContaining({ where: 'entry 1' })] }],
    });
  expect(await rawRecord(a, { slot, store: 'entries', key: [origin, 1] })).toEqual(original);
  await expect(a.getByTestId('repaired-notice')).toContainText('entry 1');
  await expect(a.getByTestId('damage-alert')).toHaveCount(0);

  // The node carries on where its log ended, and the other tab takes the new entry.
  expect(await a.evaluate(() => naos.append('after the repair'))).toMatchObject({ index: 4 });
  await expectConverged([a, b], { logs: 1 });
  expect((await syncState(b)).heads.find((h) => h.origin === origin)?.size).toBe(5);
});

test('a tab whose storage lost its newest batches signs nothing at their positions: a peer tab proves them first, then restores them', async ({
  context,
}) => {
  const { a, b, origin, slot } = await authorAndPeerTab(context);
  const lost = await Promise.all([2, 3].map((index) => rawRecord(a, { slot, store: 'entries', key: [origin, index] })));

  // Entries 2 and 3 go, with their checkpoints and the head: what is left still verifies.
  for (const index of [2, 3]) await rawRecord(a, { slot, store: 'entries', key: [origin, index], delete: true });
  for (const size of [3, 4]) await rawRecord(a, { slot, store: 'checkpoints', key: [origin, size], delete: true });
  const head = await rawRecord(a, { slot, store: 'heads', key: origin });
  if (!head || !('value' in head)) throw new Error('no head record');
  await rawRecord(a, { slot, store: 'heads', key: origin, put: { value: { ...(head.value as object), size: 2 } } });

  // Appended as soon as the reloaded page has the API (without the wait after a boot it was
  // signed at index 2 in 2 of 3 runs — a fork): it waits for the other tab, which holds
  // entries 2 and 3 under this node's signature — so it is refused, or lands after them.
  await a.reload({ waitUntil: 'commit' });
  await a.waitForFunction(() => typeof globalThis.naos === 'object');
  const first = await a.evaluate(() =>
    naos.append('first after the reload').then(
      (result) => result,
      (error: unknown) => ({ name: (error as Error).name }),
    ),
  );
  expect(['OwnLogBehindError', 4]).toContain('name' in first ? first.name : first.index);
  await expect.poll(() => a.evaluate(() => naos.status()), { timeout: 20_000 }).toMatchObject({ state: 'ok', damaged: [] });
  await expect.poll(() => a.evaluate(() => naos.status().then((s) => s.restoring)), { timeout: 20_000 }).toBeUndefined();
  expect(await Promise.all([2, 3].map((index) => rawRecord(a, { slot, store: 'entries', key: [origin, index] })))).toEqual(lost);

  const next = await a.evaluate(() => naos.append('after the restore'));
  expect(next.index).toBe('index' in first ? 5 : 4);
  await expectConverged([a, b], { logs: 1 });
  // Nobody saw two histories of this node's log.
  expect(await Promise.all([a, b].map((page) => page.evaluate(() => naos.flagged())))).toEqual([[], []]);
});
