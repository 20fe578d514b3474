/**
 * Tab federation benchmarks (issue 3), in Debian's Chromium against the production build
 * served by `npm start`:
 *  - time for one append to reach all of 2 / 4 / 8 tabs (p50 / p95), and side by side in
 *    the same tabs the same appends replicated by Yjs with y-webrtc (its BroadcastChannel
 *    path), both timed in their steady state (after NAOS_BENCH_WARMUP appends, default
 *    300, and as many Yjs pushes);
 *  - time and bytes for a tab that missed 10 000 entries to catch up, against the
 *    minimum (the missing entries' own bytes).
 * Prints JSON rows (scripts/bench.js writes them into docs/BENCHMARKS.md).
 */
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { build } from 'vite';
import { chromiumLaunchOptions } from '../scripts/chromium.js';
import { appendReachesAll, chromiumCpuPercent, freePort, lastArrival, percentile, startApp, waitFor } from './app.js';
import type { BenchRow } from './support.js';

const TRIALS = Number(process.env['NAOS_BENCH_TRIALS'] ?? 40);
const WARMUP = Number(process.env['NAOS_BENCH_WARMUP'] ?? 300);

/** What bench/browser/yjs-probe.ts puts on each tab's globalThis. */
interface WithProbe {
  readonly yjsProbe: {
    push(value: number): number;
    arrival(value: number): number | undefined;
    length(): number;
    destroy(): void;
  };
}

function log(message: string): void {
  process.stderr.write(`[bench:tabs] ${message}\n`);
}

/** Yjs + y-webrtc as one script to inject into the app's tabs. */
async function yjsBundle(): Promise<string> {
  const output = await build({
    configFile: false,
    logLevel: 'error',
    build: {
      write: false,
      lib: { entry: fileURLToPath(new URL('./browser/yjs-probe.ts', import.meta.url)), formats: ['iife'], name: 'naosYjsProbe' },
      minify: false,
    },
  });
  const first = (Array.isArray(output) ? output[0] : output) as { output: { type: string; code?: string }[] };
  const chunk = first.output.find((o) => o.type === 'chunk');
  if (!chunk?.code) throw new Error('Yjs probe did not build');
  return chunk.code;
}

async function openTabs(context: BrowserContext, url: string, count: number, probe: string): Promise<Page[]> {
  const pages: Page[] = [];
  for (let i = 0; i < count; i++) {
    const page = await context.newPage();
    await page.goto(url);
    await page.evaluate(() => naos.ready);
    if (probe) await page.addScriptTag({ content: probe });
    pages.push(page);
  }
  // Wait until every tab knows every other one.
  for (const [i, page] of pages.entries()) {
    await waitFor(() => page.evaluate(async (n) => (await naos.peers()).length >= n - 1, count), `tab ${i} seeing every other tab`);
  }
  return pages;
}

async function yjsTrial(pages: Page[], sender: number, value: number): Promise<number> {
  const t0 = await pages[sender]!.evaluate((v) => (globalThis as unknown as WithProbe).yjsProbe.push(v), value);
  const last = await lastArrival(
    pages.filter((_, i) => i !== sender),
    (page) => page.evaluate((v) => (globalThis as unknown as WithProbe).yjsProbe.arrival(v) ?? null, value),
    `Yjs push ${value}`,
  );
  return last - t0;
}

/**
 * Brings both paths to their steady state before anything is timed: `count` appends and as
 * many Yjs pushes, authors in turn, 10 ms apart, so that every tab has sent and received
 * often enough for the JIT to have compiled both paths (a tab is a long-lived node; its
 * first few hundred messages run cold code); then waits until every tab holds them all.
 */
async function warmUp(pages: readonly Page[], count: number): Promise<void> {
  const before = await pages[0]!.evaluate(() => (globalThis as unknown as WithProbe).yjsProbe.length());
  for (let i = 0; i < count; i++) {
    await pages[i % pages.length]!.evaluate(async (v) => {
      await naos.append({ warmUp: v });
      (globalThis as unknown as WithProbe).yjsProbe.push(-1000 - v);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }, i);
  }
  const authors = await Promise.all(
    pages.map((page) =>
      page.evaluate(async () => {
        const { origin } = await naos.info();
        return (await naos.heads()).find((h) => h.origin === origin);
      }),
    ),
  );
  for (const [i, page] of pages.entries()) {
    await waitFor(
      () =>
        page.evaluate(
          async ({ n, heads }) => {
            const held = await naos.heads();
            return (
              (globalThis as unknown as WithProbe).yjsProbe.length() >= n &&
              heads.every((h) => (held.find((x) => x.origin === h.origin)?.size ?? 0) >= h.size)
            );
          },
          { n: before + count, heads: authors.filter((h) => h !== undefined) },
        ),
      `the warm-up reaching tab ${i}`,
    );
  }
}

/** How long the tabs are left alone before, and then while, their idle CPU is measured. */
const IDLE_SETTLE_MS = 3000;
const IDLE_MEASURE_MS = 15_000;

async function propagation(url: string, probe: string, tabs: number, measureIdle: boolean): Promise<BenchRow[]> {
  const browser = await chromium.launch(chromiumLaunchOptions());
  try {
    const context = await browser.newContext();
    const pages = await openTabs(context, url, tabs, probe);
    const naosTimes: number[] = [];
    const yjsTimes: number[] = [];
    // Warm up both paths, then alternate them trial by trial so load affects both alike.
    await warmUp(pages, WARMUP);
    for (let w = 0; w < 3; w++) {
      await appendReachesAll(pages, w % tabs, -1 - w);
      await yjsTrial(pages, w % tabs, -1 - w);
    }
    for (let trial = 0; trial < TRIALS; trial++) {
      naosTimes.push(await appendReachesAll(pages, trial % tabs, trial));
      yjsTimes.push(await yjsTrial(pages, trial % tabs, 1_000_000 + trial));
    }
    const group = `one append reaching all ${tabs} tabs (${TRIALS} trials after ${WARMUP} warm-up appends)`;
    const naosP50 = percentile(naosTimes, 50);
    const yjsP50 = percentile(yjsTimes, 50);
    // Then Yjs goes and nothing happens: heartbeats, timers and the UI are all that runs.
    await Promise.all(pages.map((page) => page.evaluate(() => (globalThis as unknown as WithProbe).yjsProbe.destroy())));
    await new Promise((resolve) => setTimeout(resolve, IDLE_SETTLE_MS));
    const idle = measureIdle ? await chromiumCpuPercent(IDLE_MEASURE_MS) : undefined;
    const idleRow: BenchRow[] =
      idle === undefined
        ? []
        : [
            {
              group,
              name: `${tabs} idle tabs: CPU of all Chromium processes, % of one core (${IDLE_MEASURE_MS / 1000} s)`,
              unit: '%',
              value: idle,
            },
          ];
    return [
      { group, name: `Naos p50 (${tabs} tabs)`, unit: 'ms', value: naosP50 },
      { group, name: `Naos p95 (${tabs} tabs)`, unit: 'ms', value: percentile(naosTimes, 95) },
      { group, name: `Yjs + y-webrtc p50 (${tabs} tabs)`, unit: 'ms', value: yjsP50 },
      { group, name: `Yjs + y-webrtc p95 (${tabs} tabs)`, unit: 'ms', value: percentile(yjsTimes, 95) },
      { group, name: `Naos / Yjs p50 (${tabs} tabs)`, unit: 'ratio', value: naosP50 / yjsP50 },
      ...idleRow,
    ];
  } finally {
    await browser.close();
  }
}

async function catchUp(url: string, missing: number): Promise<BenchRow[]> {
  const browser = await chromium.launch(chromiumLaunchOptions());
  try {
    const context = await browser.newContext();
    const [author, late] = await openTabs(context, url, 2, '');
    await late!.evaluate(() => naos.debug.partition('away'));
    const origin = await author!.evaluate(async () => (await naos.info()).origin);
    await author!.evaluate(async (n) => {
      for (let done = 0; done < n; done += 500) {
        await naos.appendMany(
          Array.from({ length: Math.min(500, n - done) }, (_, i) => ({ n: done + i, text: `missed entry ${done + i}` })),
        );
      }
    }, missing);
    const entryBytes = await author!.evaluate(({ o, n }) => naos.debug.entryBytes(0, n, o), { o: origin, n: missing });
    const before = await late!.evaluate(() => naos.debug.traffic());
    const t0 = Date.now();
    await late!.evaluate(() => naos.debug.partition(null));
    await waitFor(
      () =>
        late!.evaluate(async ({ o, n }) => ((await naos.heads()).find((h) => h.origin === o)?.size ?? 0) >= n, { o: origin, n: missing }),
      'the late tab catching up',
      { timeoutMs: 120_000 },
    );
    const seconds = (Date.now() - t0) / 1000;
    const after = await late!.evaluate(() => naos.debug.traffic());
    const bytesIn = after.bytesIn - before.bytesIn;
    const group = `catch-up of ${missing.toLocaleString('en')} missed entries (2 tabs)`;
    return [
      { group, name: 'time until the late tab holds them all', unit: 'ms', value: seconds * 1000 },
      { group, name: 'bytes received by the late tab', unit: 'B', value: bytesIn },
      { group, name: 'minimum: the missing entries’ bytes', unit: 'B', value: entryBytes },
      { group, name: 'received / minimum', unit: 'ratio', value: bytesIn / entryBytes },
      { group, name: 'entries received that were already held', unit: 'count', value: after.entriesDuplicate - before.entriesDuplicate },
    ];
  } finally {
    await browser.close();
  }
}

const port = await freePort();
// Tabs of one browser only: no relay and no always-on peer (browser-to-browser numbers
// are bench/browsers.bench.ts's), so nothing but the tab channel carries sync.
const stop = await startApp(port, ['--no-relay', '--no-peer']);
const url = `http://127.0.0.1:${port}/${process.env['NAOS_BENCH_QUERY'] ?? ''}`;
try {
  const probe = await yjsBundle();
  const rows: BenchRow[] = [];
  const counts = (process.env['NAOS_BENCH_TABS'] ?? '2,4,8').split(',').map(Number);
  for (const tabs of counts) {
    log(`propagation with ${tabs} tabs`);
    rows.push(...(await propagation(url, probe, tabs, tabs === Math.max(...counts))));
  }
  log('catch-up of 10k entries');
  rows.push(...(await catchUp(url, 10_000)));
  process.stdout.write(
    JSON.stringify({ runtime: 'Chromium (app build, npm start --no-relay --no-peer), tabs of one context', rows }, null, 2),
  );
} finally {
  await stop();
}
