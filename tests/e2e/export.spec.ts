import { expect, test } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openNode } from './support.js';

// F7 end to end for a tab: the Ledger panel's export is a file that the Node CLI's
// `naos verify` checks offline (every check passed); the same file with one entry
// changed fails, exit code 1, naming the check.
const CLI = fileURLToPath(new URL('../../bin/naos.js', import.meta.url));

function verify(file: string): { status: number | null; report: { ok: boolean; checks: { name: string; ok: boolean }[] } } {
  const run = spawnSync(process.execPath, [CLI, 'verify', file, '--json'], { encoding: 'utf8' });
  return { status: run.status, report: JSON.parse(run.stdout) as { ok: boolean; checks: { name: string; ok: boolean }[] } };
}

test('a tab exports its log from the Ledger panel and naos verify checks the file offline', async ({ page }, testInfo) => {
  const nodeId = await openNode(page, '/#ledger');
  await page.evaluate(async () => {
    await naos.append({ first: 1 });
    await naos.appendMany([2, 3, 4]);
  });
  const panel = page.locator('naos-ledger-panel');
  await expect(panel.getByTestId('ledger-range')).toHaveText('Entries 0–3 of 4');
  const downloading = page.waitForEvent('download');
  await panel.getByRole('button', { name: 'Export this log' }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe(`naos-${nodeId}-4.json`);
  await expect(panel.getByTestId('export-result')).toContainText(`naos-${nodeId}-4.json: 4 entries`);
  const file = testInfo.outputPath('export.json');
  await download.saveAs(file);

  const good = verify(file);
  expect(good.status).toBe(0);
  expect(good.report.ok).toBe(true);
  expect(good.report.checks.length).toBeGreaterThan(3);

  const exported = JSON.parse(readFileSync(file, 'utf8')) as { logs: { entries: string[] }[] };
  const bytes = Buffer.from(exported.logs[0]!.entries[2]!, 'base64');
  bytes[bytes.length - 1]! ^= 1;
  exported.logs[0]!.entries[2] = bytes.toString('base64');
  const tamperedFile = testInfo.outputPath('tampered.json');
  writeFileSync(tamperedFile, JSON.stringify(exported));
  const bad = verify(tamperedFile);
  expect(bad.status).toBe(1);
  expect(bad.report.ok).toBe(false);
  expect(
    bad.report.checks
      .filter((c) => !c.ok)
      .map((c) => c.name)
      .join('\n'),
  ).toContain(`naos/${nodeId}`);
});
