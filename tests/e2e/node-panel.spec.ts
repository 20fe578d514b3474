import { expect, test } from '@playwright/test';
import { openNode } from './support.js';

test('append through the form, then prove and verify the entry in the UI', async ({ page }) => {
  await openNode(page);
  await expect(page.getByTestId('log-size')).toHaveText('0');

  const value = page.getByLabel('JSON value');
  await value.fill('{"greeting": "hello", "n": [1, 2, 3]}');
  await page.getByRole('button', { name: 'Append' }).click();
  await expect(page.getByTestId('append-message')).toContainText('Appended entry #0');
  await value.fill('"second"');
  await page.getByRole('button', { name: 'Append' }).click();
  await expect(page.getByTestId('append-message')).toContainText('Appended entry #1');
  await expect(page.getByTestId('log-size')).toHaveText('2');
  expect((await page.evaluate(() => naos.entries(0, 2))).map((e) => e.payload)).toEqual([{ greeting: 'hello', n: [1, 2, 3] }, 'second']);

  await page.getByLabel('Entry index').fill('0');
  await page.getByRole('button', { name: 'Prove' }).click();
  const verdict = page.getByTestId('verdict');
  await expect(verdict).toContainText('✓ Entry 0 is included in the tree of size 2');
  await expect(verdict).toContainText('✓ That root is the one this node signed in its checkpoint at size 2');
  const shown = JSON.parse(await page.getByTestId('proof').inputValue()) as { proof: string[]; root: string };
  expect(shown.root).toBe((await page.evaluate(() => naos.heads()))[0]!.root);
  expect(shown.proof).toHaveLength(1);

  // Edit one hash of the proof: the real verifier must say no.
  const broken = { ...shown, proof: [shown.proof[0]!.replace(/^./, (c) => (c === '0' ? '1' : '0'))] };
  await page.getByTestId('proof').fill(JSON.stringify(broken));
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(verdict).toContainText('✗ Verification failed');
  await expect(verdict).not.toContainText('✓');
});

test('invalid JSON in the form shows an error and appends nothing', async ({ page }) => {
  await openNode(page);
  await page.evaluate(() => naos.append({ before: true }));
  await expect(page.getByTestId('log-size')).toHaveText('1');
  const rootBefore = await page.evaluate(() => naos.stateRoot());

  await page.getByLabel('JSON value').fill('{"unterminated": ');
  await page.getByRole('button', { name: 'Append' }).click();
  await expect(page.getByTestId('append-message')).toContainText('Not valid JSON, nothing appended');
  await expect(page.getByLabel('JSON value')).toHaveAttribute('aria-invalid', 'true');

  // A valid append afterwards lands at index 1: the invalid one took no slot.
  await page.getByLabel('JSON value').fill('2');
  await page.getByRole('button', { name: 'Append' }).click();
  await expect(page.getByTestId('append-message')).toContainText('Appended entry #1');
  expect(await page.evaluate(() => naos.stateRoot())).not.toBe(rootBefore);
  expect((await page.evaluate(() => naos.entries(0, 10))).map((e) => e.payload)).toEqual([{ before: true }, 2]);
});

test('proving an index beyond the log shows a clear error', async ({ page }) => {
  await openNode(page);
  await page.evaluate(() => naos.append('only'));
  await expect(page.getByTestId('log-size')).toHaveText('1');
  await page.getByLabel('Entry index').fill('5');
  await page.getByRole('button', { name: 'Prove' }).click();
  await expect(page.getByTestId('verdict')).toContainText('✗ Cannot prove entry 5');
});
