import { type BrowserContext, expect, type Page } from '@playwright/test';
import { nodeReady } from './support.js';

/** Opens `count` tabs of the app in one context (one browser profile) and waits for their kernels. */
export async function openTabs(context: BrowserContext, count: number, path = '/'): Promise<Page[]> {
  const pages: Page[] = [];
  for (let i = 0; i < count; i++) pages.push(await openTab(context, path));
  return pages;
}

export async function openTab(context: BrowserContext, path = '/'): Promise<Page> {
  const page = await context.newPage();
  await page.goto(path);
  await nodeReady(page);
  return page;
}

/** What must be equal on converged tabs. */
export function syncState(page: Page) {
  return page.evaluate(async () => ({ stateRoot: await naos.stateRoot(), viewDigest: await naos.viewDigest(), heads: await naos.heads() }));
}

/**
 * Waits until every tab holds the same entries (equal state roots and derived-state
 * digests) and, if given, exactly `logs` non-empty logs.
 */
export async function expectConverged(pages: readonly Page[], options: { logs?: number; timeout?: number } = {}): Promise<void> {
  try {
    await pollConverged(pages, options);
  } catch (error) {
    // Say what each tab sees, so a failure can be understood from the report alone.
    const views = await Promise.all(pages.map(federationView));
    throw new Error(`${(error as Error).message}\n${JSON.stringify(views, null, 1)}`, { cause: error });
  }
}

/** One tab's view of the federation, for failure reports. */
export function federationView(page: Page) {
  return page.evaluate(async () => ({
    nodeId: await naos.nodeId(),
    stateRoot: (await naos.stateRoot()).slice(0, 12),
    heads: (await naos.heads()).map((h) => `${h.origin.slice(5, 11)}:${h.size}`),
    peers: (await naos.peers()).map((p) => ({
      nodeId: p.nodeId.slice(0, 6),
      stateRoot: p.stateRoot.slice(0, 12),
      seenMsAgo: Date.now() - p.health.lastSeen,
    })),
    rejections: await naos.rejections(),
    partition: await naos.debug.partitionGroup(),
  }));
}

async function pollConverged(pages: readonly Page[], options: { logs?: number; timeout?: number }): Promise<void> {
  await expect
    .poll(
      async () => {
        const states = await Promise.all(pages.map(syncState));
        const roots = new Set(states.map((s) => `${s.stateRoot}/${s.viewDigest}`));
        const logs = new Set(states.map((s) => s.heads.filter((h) => h.size > 0).length));
        return { distinct: roots.size, logs: [...logs] };
      },
      { timeout: options.timeout ?? 30_000, message: 'tabs converge to one state root and view digest' },
    )
    .toEqual({ distinct: 1, logs: [options.logs ?? expect.any(Number)] });
}

/** Waits until each tab sees exactly the others as live peers. */
export async function expectMesh(pages: readonly Page[]): Promise<void> {
  const ids = await Promise.all(pages.map((p) => p.evaluate(() => naos.nodeId())));
  for (const [i, page] of pages.entries()) {
    const others = ids.filter((_, j) => j !== i).sort();
    await expect
      .poll(async () => (await page.evaluate(() => naos.peers())).map((p) => p.nodeId).sort(), { timeout: 20_000 })
      .toEqual(expect.arrayContaining(others));
  }
}
