import { expect, type Page, test } from '@playwright/test';
import { serveDist } from './static-server.js';
import { expectConverged, syncState } from './tabs.js';
import { nodeReady } from './support.js';

// Installable offline PWA (F33): after one visit the service worker has precached the
// whole build, so with the server stopped a reload still boots the kernel, keeps the
// data, and tabs keep federating (BroadcastChannel needs no server). The app is served
// here by a server this test starts and really stops (a port of its own, so its origin,
// storage and service worker are its own too).
const PORT = Number(process.env['E2E_PORT'] ?? 4174) + 1;

async function controlled(page: Page): Promise<void> {
  // ready: a service worker is active (its install, i.e. the precache, finished).
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
}

test('with the server stopped, tabs reload from the service worker, keep their data and keep syncing', async ({ browser }) => {
  const server = await serveDist(PORT);
  const context = await browser.newContext({ baseURL: server.url });
  try {
    const [a, b] = [await context.newPage(), await context.newPage()];
    for (const page of [a, b]) {
      await page.goto('/');
      await nodeReady(page);
      await controlled(page);
    }
    const ids = await Promise.all([a, b].map((p) => p.evaluate(() => naos.nodeId())));
    await a.evaluate(() => naos.appendMany(['written online', { n: 1 }]));
    await expectConverged([a, b], { logs: 1 });
    const manifest = await a.evaluate(async () => (await fetch('/manifest.webmanifest')).json() as Promise<{ name: string }>);
    expect(manifest.name).toContain('Naos');

    await server.stop();
    await expect(fetch(server.url)).rejects.toThrow();

    for (const page of [a, b]) {
      await page.reload();
      await nodeReady(page);
    }
    expect(await Promise.all([a, b].map((p) => p.evaluate(() => naos.nodeId())))).toEqual(ids);
    const entries = await b.evaluate(async () => {
      const origin = (await naos.heads()).find((h) => h.size > 0)!.origin;
      return (await naos.entries(0, 10, origin)).map((e) => e.payload);
    });
    expect(entries).toEqual(['written online', { n: 1 }]);

    await b.evaluate(() => naos.append('written offline'));
    await expectConverged([a, b], { logs: 2 });

    // A tab opened while offline boots too (the worker bundles come from the cache) and catches up.
    const c = await context.newPage();
    await c.goto('/');
    await nodeReady(c);
    await expectConverged([a, b, c], { logs: 2 });
    expect((await syncState(c)).heads.map((h) => h.size).sort()).toEqual([0, 1, 2]);
  } finally {
    await context.close();
    await server.stop().catch(() => undefined);
  }
});
