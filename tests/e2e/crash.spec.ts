import { expect, test } from '@playwright/test';
import { nodeReady, openNode } from './support.js';

const BATCH = 500;
const BATCHES = 100;

for (const crash of ['close the tab', 'navigate away'] as const) {
  test(`${crash} in the middle of an append burst: only whole batches remain`, async ({ context }) => {
    const page = await context.newPage();
    const nodeId = await openNode(page);
    const slot = Number(await page.evaluate(() => sessionStorage.getItem('naos.slot')));

    // Fire every batch at once without waiting; each appendMany is one all-or-nothing batch.
    await page.evaluate(
      ({ batch, batches }) => {
        for (let b = 0; b < batches; b++) {
          const values = Array.from({ length: batch }, (_, i) => ({ b, i, pad: 'x'.repeat(64) }));
          void naos.appendMany(values).catch(() => undefined);
        }
      },
      { batch: BATCH, batches: BATCHES },
    );
    // Crash once some batches are durable but (almost certainly) not all.
    await expect
      .poll(() => page.evaluate(() => naos.heads().then((heads) => heads[0]?.size ?? 0)), { intervals: [50] })
      .toBeGreaterThanOrEqual(2 * BATCH);
    let again = page;
    if (crash === 'close the tab') {
      await page.close();
      // Reopen as "reopen closed tab" would: its sessionStorage comes back.
      again = await context.newPage();
      await again.addInitScript((s) => sessionStorage.setItem('naos.slot', String(s)), slot);
    } else {
      await page.goto('about:blank');
    }
    await again.goto('/');
    expect(await nodeReady(again)).toBe(nodeId);
    const status = await again.evaluate(() => naos.status());
    expect(status.state).toBe('ok');
    const [head] = await again.evaluate(() => naos.heads());
    const size = head!.size;
    expect(size % BATCH).toBe(0); // a batch boundary: no partial batch survived
    expect(size).toBeGreaterThanOrEqual(2 * BATCH);
    expect(size).toBeLessThan(BATCH * BATCHES); // the crash really came mid-burst
    const sizes = (await again.evaluate(() => naos.checkpoints())).map((c) => c.size);
    expect(sizes.at(-1)).toBe(size);
    // The last stored batch is complete and in order.
    const last = await again.evaluate((range) => naos.entries(range.start, range.end), { start: size - BATCH, end: size });
    expect(last.map((e) => e.payload)).toEqual(Array.from({ length: BATCH }, (_, i) => ({ b: size / BATCH - 1, i, pad: 'x'.repeat(64) })));
    // And the node keeps appending after the crash.
    expect(await again.evaluate(() => naos.append('after the crash'))).toMatchObject({ index: size });
  });
}
