import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { LevelLedgerStore } from '../../adapters/node/level-store.js';
import { seedSigner } from '../../src/crypto/ed25519.js';
import { Kernel } from '../../src/kernel/kernel.js';

/**
 * Crash atomicity of the LevelDB store: a child process appends large batches through a
 * Kernel; we SIGKILL it at different moments — as a batch write starts, during later
 * writes, right after a commit — reopen, and require a log that verifies, ends on a
 * batch boundary, and keeps every batch whose write had completed.
 */

const BATCH = 100;
const WRITER = fileURLToPath(new URL('../support/crash-writer.ts', import.meta.url));
const signer = seedSigner(new Uint8Array(32).fill(42));
const dir = mkdtempSync(join(tmpdir(), 'naos-level-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * When to kill: `delayMs` after the n-th line of a kind the writer prints. The delays
 * only spread the kills over the write; nothing asserts on timing.
 */
interface KillPoint {
  readonly on: 'writing' | 'committed';
  readonly nth: number;
  readonly delayMs: number;
}

const KILL_POINTS: readonly KillPoint[] = [
  { on: 'writing', nth: 1, delayMs: 0 },
  { on: 'writing', nth: 3, delayMs: 2 },
  { on: 'committed', nth: 2, delayMs: 0 },
  { on: 'writing', nth: 2, delayMs: 5 },
  { on: 'writing', nth: 3, delayMs: 8 },
  { on: 'committed', nth: 1, delayMs: 3 },
];

interface Run {
  readonly startSize: number;
  /** Largest size whose store write had returned before the kill. */
  readonly committed: number;
  /** Size the batch in flight (if any) would have reached. */
  readonly inFlight: number | undefined;
}

function runUntilKilled(point: KillPoint): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dir, String(BATCH)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let startSize: number | undefined;
    let committed = 0;
    let inFlight: number | undefined;
    let seen = 0;
    let killed = false;
    createInterface({ input: child.stdout }).on('line', (line) => {
      const [word, a, b] = line.split(' ');
      if (word === 'ready') startSize = committed = Number(a);
      if (word === 'writing') inFlight = Number(b);
      if (word === 'committed') {
        committed = Number(a);
        inFlight = undefined;
      }
      if (!killed && word === point.on && ++seen === point.nth) {
        killed = true;
        setTimeout(() => child.kill('SIGKILL'), point.delayMs);
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL' || startSize === undefined)
        reject(new Error(`writer ended with ${code ?? signal} before the kill:\n${stderr}`));
      else resolve({ startSize, committed, inFlight });
    });
  });
}

describe('LevelDB store under SIGKILL', () => {
  it('always reopens to a verified log ending on a batch boundary, keeping completed writes', async () => {
    let previous = 0;
    for (const point of KILL_POINTS) {
      const run = await runUntilKilled(point);
      expect(run.startSize).toBe(previous);

      const store = await LevelLedgerStore.open(dir);
      const kernel = await Kernel.open({ store, signer, now: Date.now });
      const status = kernel.status();
      expect(status, JSON.stringify(status.damaged)).toMatchObject({ state: 'ok', damaged: [] });
      const size = kernel.heads()[0]!.size;
      // Whole batches only: never a partial batch, and never a checkpoint past the leaves.
      expect(size % BATCH).toBe(0);
      expect(await store.countEntries(kernel.origin)).toBe(size);
      expect(kernel.checkpoints().at(-1)!.size).toBe(size);
      // Durable: what the store acknowledged survives; nothing beyond the batch in flight appears.
      expect(size).toBeGreaterThanOrEqual(run.committed);
      expect(size).toBeLessThanOrEqual(run.inFlight ?? run.committed);
      // The log is usable afterwards: the next batch lands right after it.
      const [appended] = await kernel.appendMany([{ after: point }]);
      expect(appended!.index).toBe(size);
      await kernel.close();

      // Realign on batch boundaries for the next writer.
      const again = await Kernel.open({ store: await LevelLedgerStore.open(dir), signer, now: Date.now });
      await again.appendMany(Array.from({ length: BATCH - 1 }, (_, i) => ({ fill: i })));
      previous = again.heads()[0]!.size;
      await again.close();
    }
    expect(previous).toBeGreaterThan(0);
  }, 60_000);
});
