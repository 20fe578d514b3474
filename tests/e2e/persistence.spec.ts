import { expect, test } from '@playwright/test';
import { nodeReady, nodeState, openNode, reloadNode } from './support.js';

test('entries, roots, checkpoints and node id survive a reload', async ({ page }) => {
  const nodeId = await openNode(page);
  expect(nodeId).toMatch(/^[a-z2-7]{32}$/);
  const values = [{ n: 1 }, 'two', [3, 3, 3], null, { nested: { deep: true } }];
  for (const value of values) await page.evaluate((v) => naos.append(v), value);
  await page.evaluate(() => naos.appendMany([{ batch: 1 }, { batch: 2 }]));

  const before = await nodeState(page);
  expect(before.heads).toEqual([{ origin: `naos/${nodeId}`, size: 7, root: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown }]);
  expect(before.entries.map((e) => e.payload)).toEqual([...values, { batch: 1 }, { batch: 2 }]);
  expect(before.checkpoints.map((c) => c.size)).toEqual([0, 1, 2, 3, 4, 5, 7]);
  expect(before.checkpoint).toContain(`naos/${nodeId}\n7\n`);
  await expect(page.getByTestId('log-size')).toHaveText('7');

  await reloadNode(page);
  expect(await nodeState(page)).toEqual(before);
  expect(await page.evaluate(() => naos.status())).toEqual({ state: 'ok', nodeId, damaged: [], repaired: [] });
  await expect(page.getByTestId('node-id')).toHaveText(nodeId);
  await expect(page.getByTestId('log-size')).toHaveText('7');
  await expect(page.getByTestId('log-root')).toHaveText(before.heads[0]!.root);
  await expect(page.getByTestId('checkpoint')).toContainText(`naos/${nodeId}\n7\n`, { useInnerText: true });

  // A brand-new tab after this one is gone opens the same node too (lowest free slot).
  await page.goto('about:blank');
  await page.goto('/');
  expect(await nodeReady(page)).toBe(nodeId);
  expect((await nodeState(page)).stateRoot).toBe(before.stateRoot);
});
