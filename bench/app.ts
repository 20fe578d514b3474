/**
 * What the app benchmarks (tabs.bench.ts, browsers.bench.ts) share: the app served by
 * `npm start` on a free port, percentiles, and the trial that times one append until
 * every other page holds it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Runs `scripts/start.js <args>` with PORT=`port` (and `env`) until it serves; returns its stop. */
export async function startApp(port: number, args: readonly string[], env: Record<string, string> = {}): Promise<() => Promise<void>> {
  const child = spawn(process.execPath, ['scripts/start.js', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes(`127.0.0.1:${port}`)) resolve();
    });
    child.on('exit', (code) => reject(new Error(`npm start exited with ${code}`)));
  });
  return () =>
    new Promise((resolve) => {
      child.on('exit', () => resolve());
      child.kill('SIGTERM');
    });
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Asks `probe` every `everyMs` until it answers something other than null or false, and
 * returns that; throws after `timeoutMs`, naming `what`. (page.waitForFunction takes the
 * promise an async predicate returns as a truthy answer at once, hence this.)
 */
export async function waitFor<T>(
  probe: () => Promise<T | null | false>,
  what: string,
  { timeoutMs = 60_000, everyMs = 20 }: { timeoutMs?: number; everyMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await probe();
    if (answer !== null && answer !== false) return answer;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

/** How long the harness leaves the pages alone after starting a trial, before it asks for the arrival times. */
const QUIET_MS = 150;

/**
 * The last arrival time `arrivalIn(page)` reports over `pages` (each answers null until
 * its arrival happened). The harness first stays away for QUIET_MS, then asks every
 * 50 ms: the pages record arrival times themselves, so nothing the harness does (a CDP
 * call, a polling predicate) runs in them while the data travels — with 8 tabs on 2
 * cores, per-frame polling from the harness alone added ≈13 ms to the p50.
 */
export async function lastArrival(
  pages: readonly Page[],
  arrivalIn: (page: Page) => Promise<number | null>,
  what: string,
  timeoutMs = 30_000,
): Promise<number> {
  await sleep(QUIET_MS);
  const arrivals = await Promise.all(
    pages.map((page, i) => waitFor(() => arrivalIn(page), `${what} reaching page ${i}`, { timeoutMs, everyMs: 50 })),
  );
  return Math.max(...arrivals);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** User + system CPU ticks of every Chromium process on this machine (Linux /proc); undefined without /proc. */
function chromiumTicks(): number | undefined {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  let total = 0;
  for (const pid of pids) {
    try {
      const program = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
      if (!/chrom|headless_shell/i.test(program)) continue;
      // Fields after the command name: utime and stime are the 12th and 13th.
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      total += Number(fields[11]) + Number(fields[12]);
    } catch {
      // The process ended while we looked.
    }
  }
  return total;
}

/**
 * CPU used by every Chromium process over `ms` (the benchmarks run one browser at a
 * time), in % of one core; undefined where there is no /proc to read it from.
 */
export async function chromiumCpuPercent(ms: number): Promise<number | undefined> {
  const before = chromiumTicks();
  if (before === undefined) return undefined;
  const tick = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;
  await sleep(ms);
  return ((chromiumTicks()! - before) / tick / (ms / 1000)) * 100;
}

/** Makes every page record when each log first reached each size there (naos.onChange); once per page. */
async function recordHeads(pages: readonly Page[]): Promise<void> {
  await Promise.all(
    pages.map((page) =>
      page.evaluate(() => {
        const g = globalThis as unknown as { naosBenchHeads?: Map<string, [size: number, at: number][]> };
        if (g.naosBenchHeads) return;
        const heads = new Map<string, [number, number][]>();
        g.naosBenchHeads = heads;
        naos.onChange((head) => {
          const at = performance.timeOrigin + performance.now();
          const seen = heads.get(head.origin) ?? [];
          seen.push([head.size, at]);
          heads.set(head.origin, seen);
        });
      }),
    ),
  );
}

/**
 * One append in `pages[sender]` (naos.append), timed from the call until the last other
 * page's `naos.onChange` reports the sender's log at the new size (page clocks share
 * `performance.timeOrigin + now()`, one machine). The harness starts the append and
 * leaves at once, then collects the arrival times the pages recorded (lastArrival).
 */
export async function appendReachesAll(pages: readonly Page[], sender: number, trial: number): Promise<number> {
  await recordHeads(pages);
  const author = pages[sender]!;
  const origin = await author.evaluate(async () => (await naos.info()).origin);
  const size = (await author.evaluate(async (o) => (await naos.heads()).find((h) => h.origin === o)?.size ?? 0, origin)) + 1;
  const t0 = await author.evaluate(
    (value) => {
      const start = performance.timeOrigin + performance.now();
      naos.append(value).catch((error: unknown) => {
        (globalThis as unknown as { naosBenchError?: string }).naosBenchError = String(error);
      });
      return start;
    },
    { trial, sender },
  );
  const failed = async (): Promise<void> => {
    const error = await author.evaluate(() => (globalThis as unknown as { naosBenchError?: string }).naosBenchError);
    if (error) throw new Error(`append ${trial} failed in page ${sender}: ${error}`);
  };
  const last = await lastArrival(
    pages.filter((_, i) => i !== sender),
    async (page) => {
      await failed();
      return page.evaluate(
        ({ o, s }) =>
          (globalThis as unknown as { naosBenchHeads: Map<string, [number, number][]> }).naosBenchHeads
            .get(o)
            ?.find(([n]) => n >= s)?.[1] ?? null,
        { o: origin, s: size },
      );
    },
    `append ${trial}`,
  );
  return last - t0;
}
