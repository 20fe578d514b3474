/**
 * Browser-to-browser federation benchmarks (issue 4), in Debian's Chromium against the
 * production build served by `npm start` (a relay, no always-on peer: every number is
 * browser to browser over WebRTC). Each browser is its own browser context — its own
 * storage, no shared BroadcastChannel — so libp2p is the only way between them:
 *  - page load → first peer: from `page.goto` until the new browser has a proven, direct
 *    link to a browser already open (relay reservation, discovery through the relay,
 *    WebRTC dial, handshake);
 *  - WebRTC dial: how long the discovery dialer's dials took (signalling through the
 *    relay until the connection is up);
 *  - 10 000 entries between two browsers: a browser that was cut off catches up once it
 *    is linked again (target ≤ 2 s), and one 10k batch appended live;
 *  - one append reaching 4 browsers (p50 / p95; target p50 ≤ 50 ms);
 *  - JS heap per browser page with its libp2p node and links.
 * Prints JSON `{runtime, rows}` (BenchRow, bench/support.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { chromiumLaunchOptions } from '../scripts/chromium.js';
import { appendReachesAll, freePort, percentile, startApp, waitFor } from './app.js';
import type { BenchRow } from './support.js';

const TRIALS = Number(process.env['NAOS_BENCH_TRIALS'] ?? 40);
const ENTRIES = 10_000;

function log(message: string): void {
  process.stderr.write(`[bench:browsers] ${message}\n`);
}

/** Proven, direct libp2p links the page has (over WebRTC: the others are browsers here). */
function directLinks(page: Page): Promise<string[]> {
  return page.evaluate(async () =>
    (await naos.peers()).filter((p) => p.transport === 'libp2p' && p.libp2p?.direct === true).map((p) => p.nodeId),
  );
}

/** Opens a browser (a context of its own) and times page load → its first direct peer. */
async function openBrowser(browser: Browser, url: string, expectPeer: boolean): Promise<{ page: Page; firstPeerMs?: number }> {
  const context = await browser.newContext({ permissions: ['microphone'] });
  const page = await context.newPage();
  const t0 = Date.now();
  await page.goto(url);
  await page.evaluate(() => naos.ready);
  if (!expectPeer) return { page };
  await waitFor(async () => (await directLinks(page)).length > 0, 'a first direct peer', { everyMs: 10 });
  return { page, firstPeerMs: Date.now() - t0 };
}

async function waitForMesh(pages: readonly Page[]): Promise<void> {
  const ids = await Promise.all(pages.map((p) => p.evaluate(() => naos.nodeId())));
  for (const [i, page] of pages.entries()) {
    const others = ids.filter((_, j) => j !== i);
    await waitFor(
      async () => (await directLinks(page)).filter((id) => others.includes(id)).length === others.length,
      `browser ${i} linking to all ${others.length} others`,
    );
  }
}

async function heldSize(page: Page, origin: string): Promise<number> {
  return page.evaluate(async (o) => (await naos.heads()).find((h) => h.origin === o)?.size ?? 0, origin);
}

async function appendInBatches(page: Page, count: number): Promise<void> {
  await page.evaluate(async (n) => {
    for (let done = 0; done < n; done += 500) {
      await naos.appendMany(Array.from({ length: Math.min(500, n - done) }, (_, i) => ({ n: done + i, text: `entry ${done + i}` })));
    }
  }, count);
}

/** A cut-off browser catches up on `ENTRIES` entries once linked again; and one live batch. */
async function tenThousand(a: Page, b: Page): Promise<BenchRow[]> {
  const group = `${ENTRIES.toLocaleString('en')} entries between two browsers (WebRTC)`;
  const origin = await a.evaluate(async () => (await naos.info()).origin);
  const aId = await a.evaluate(() => naos.nodeId());
  await b.evaluate(() => naos.debug.libp2p(false));
  await appendInBatches(a, ENTRIES);
  const target = await heldSize(a, origin);
  const before = await b.evaluate(() => naos.debug.traffic());
  const t0 = Date.now();
  await b.evaluate(() => naos.debug.libp2p(true));
  await waitFor(async () => (await directLinks(b)).includes(aId), 'the cut-off browser linking again', { everyMs: 10 });
  const linked = Date.now();
  await waitFor(async () => (await heldSize(b, origin)) >= target, 'the catch-up', { everyMs: 10 });
  const done = Date.now();
  const after = await b.evaluate(() => naos.debug.traffic());

  // Live: one batch of ENTRIES, from the append call until the other browser holds it.
  const liveTarget = target + ENTRIES;
  const t1 = Date.now();
  await a.evaluate((n) => naos.appendMany(Array.from({ length: n }, (_, i) => ({ live: i }))).then(() => undefined), ENTRIES);
  await waitFor(async () => (await heldSize(b, origin)) >= liveTarget, 'the live batch', { everyMs: 10 });
  const liveDone = Date.now();
  return [
    { group, name: 'catch-up: from the link (re)established until all held', unit: 'ms', value: done - linked },
    { group, name: 'catch-up: from restarting libp2p (rejoin, dial, handshake, sync)', unit: 'ms', value: done - t0 },
    { group, name: 'catch-up: bytes received', unit: 'B', value: after.bytesIn - before.bytesIn },
    { group, name: 'live: one batch, from append() until the other browser holds it', unit: 'ms', value: liveDone - t1 },
  ];
}

async function propagation(pages: readonly Page[]): Promise<BenchRow[]> {
  for (let w = 0; w < 3; w++) await appendReachesAll(pages, w % pages.length, -1 - w);
  const times: number[] = [];
  for (let trial = 0; trial < TRIALS; trial++) times.push(await appendReachesAll(pages, trial % pages.length, trial));
  const group = `one append reaching all ${pages.length} browsers over WebRTC (${TRIALS} trials)`;
  return [
    { group, name: `p50 (${pages.length} browsers)`, unit: 'ms', value: percentile(times, 50) },
    { group, name: `p95 (${pages.length} browsers)`, unit: 'ms', value: percentile(times, 95) },
  ];
}

const port = await freePort();
const dataDir = await mkdtemp(join(tmpdir(), 'naos-bench-browsers-'));
const stop = await startApp(port, ['--no-peer'], { RELAY_PORT: '0', NAOS_DATA: dataDir });
const url = `http://127.0.0.1:${port}/`;
const browser = await chromium.launch(chromiumLaunchOptions());
try {
  const rows: BenchRow[] = [];
  log('two browsers');
  const { page: a } = await openBrowser(browser, url, false);
  const firstPeer: number[] = [];
  const second = await openBrowser(browser, url, true);
  firstPeer.push(second.firstPeerMs!);
  log(`${ENTRIES} entries between two browsers`);
  rows.push(...(await tenThousand(a, second.page)));
  log('four browsers');
  const pages = [a, second.page];
  for (let i = 0; i < 2; i++) {
    const next = await openBrowser(browser, url, true);
    firstPeer.push(next.firstPeerMs!);
    pages.push(next.page);
  }
  await waitForMesh(pages);
  const dials = (await Promise.all(pages.map((p) => p.evaluate(async () => (await naos.network()).dialer?.recentDialMs ?? [])))).flat();
  const failures = (await Promise.all(pages.map((p) => p.evaluate(async () => (await naos.network()).dialer?.failures ?? 0)))).reduce(
    (x, y) => x + y,
    0,
  );
  rows.push(
    {
      group: 'joining',
      name: 'page load → first direct peer (median)',
      unit: 'ms',
      value: percentile(firstPeer, 50),
      samples: firstPeer.length,
    },
    { group: 'joining', name: 'page load → first direct peer (max)', unit: 'ms', value: Math.max(...firstPeer) },
    { group: 'joining', name: 'WebRTC dial through the relay (median)', unit: 'ms', value: percentile(dials, 50), samples: dials.length },
    { group: 'joining', name: 'WebRTC dial through the relay (max)', unit: 'ms', value: Math.max(...dials) },
    { group: 'joining', name: 'failed WebRTC dials', unit: 'count', value: failures },
  );
  log(`one append to ${pages.length} browsers`);
  rows.push(...(await propagation(pages)));
  const heaps = await Promise.all(
    pages.map((p) => p.evaluate(() => (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0)),
  );
  rows.push({
    group: 'cost of a browser node',
    name: `page JS heap with libp2p and ${pages.length - 1} WebRTC links (mean)`,
    unit: 'B',
    value: heaps.reduce((x, y) => x + y, 0) / heaps.length,
  });
  process.stdout.write(JSON.stringify({ runtime: 'Chromium (app build, npm start --no-peer), one context per browser', rows }, null, 2));
} finally {
  await browser.close();
  await stop();
  await rm(dataDir, { recursive: true, force: true });
}
