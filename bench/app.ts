/**
 * What the app benchmarks (tabs.bench.ts, browsers.bench.ts) share: the app served by
 * `npm start` on a free port, percentiles, and the trial that times one append until
 * every other page holds it.
 */
import { spawn } from 'node:child_process';
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
 * One append in `pages[sender]` (naos.append), timed from the call until the last other
 * page's `naos.onChange` reports the sender's log at the new size (page clocks share
 * `performance.timeOrigin + now()`, one machine).
 */
export async function appendReachesAll(pages: readonly Page[], sender: number, trial: number): Promise<number> {
  const origin = await pages[sender]!.evaluate(async () => (await naos.info()).origin);
  const size = (await pages[sender]!.evaluate(async (o) => (await naos.heads()).find((h) => h.origin === o)?.size ?? 0, origin)) + 1;
  // Arm every receiver: record when it first holds `size` entries of the sender's log.
  await Promise.all(
    pages.map((page, i) =>
      i === sender
        ? Promise.resolve()
        : page.evaluate(
            ({ o, s }) => {
              const g = globalThis as unknown as { arrived?: number };
              delete g.arrived;
              const off = naos.onChange((head) => {
                if (head.origin === o && head.size >= s && g.arrived === undefined) {
                  g.arrived = performance.timeOrigin + performance.now();
                  off();
                }
              });
            },
            { o: origin, s: size },
          ),
    ),
  );
  const t0 = await pages[sender]!.evaluate(
    async (value) => {
      const start = performance.timeOrigin + performance.now();
      await naos.append(value);
      return start;
    },
    { trial, sender },
  );
  const arrivals = await Promise.all(
    pages.map((page, i) =>
      i === sender
        ? Promise.resolve(t0)
        : page
            .waitForFunction(() => (globalThis as unknown as { arrived?: number }).arrived, undefined, { polling: 'raf', timeout: 30_000 })
            .then((h) => h.jsonValue() as Promise<number>),
    ),
  );
  return Math.max(...arrivals) - t0;
}
