/**
 * Child process of tests/unit/level-crash.test.ts: appends batches of BATCH entries
 * through a Kernel on a LevelLedgerStore, forever, announcing on stdout when each store
 * write starts and ends, until the test kills it with SIGKILL.
 *
 * Usage: node --import tsx tests/support/crash-writer.ts DIR BATCH
 */
import { writeSync } from 'node:fs';
import { LevelLedgerStore } from '../../adapters/node/level-store.js';
import { seedSigner } from '../../src/crypto/ed25519.js';
import { Kernel } from '../../src/kernel/kernel.js';
import type { AppendBatch, LedgerStore } from '../../src/storage/ledger-store.js';

// The test reopens the log with the same key (seed 42×32).
const CRASH_SEED = new Uint8Array(32).fill(42);

const [dir, batchText] = process.argv.slice(2);
const batch = Number(batchText);
if (!dir || !Number.isSafeInteger(batch) || batch < 1) {
  process.stderr.write('usage: crash-writer.ts DIR BATCH\n');
  process.exit(2);
}

// Synchronous writes, so the test sees "writing" before the store call begins.
const announce = (line: string): void => void writeSync(1, `${line}\n`);

const level = await LevelLedgerStore.open(dir);
const store: LedgerStore = {
  listLogs: () => level.listLogs(),
  createLog: (head, checkpoint) => level.createLog(head, checkpoint),
  replaceLog: (replacement) => level.replaceLog(replacement),
  async append(b: AppendBatch) {
    announce(`writing ${b.start} ${b.checkpoint.size}`);
    await level.append(b);
    announce(`committed ${b.checkpoint.size}`);
  },
  readEntries: (origin, start, end) => level.readEntries(origin, start, end),
  countEntries: (origin) => level.countEntries(origin),
  readCheckpoints: (origin) => level.readCheckpoints(origin),
  close: () => level.close(),
};

const kernel = await Kernel.open({ store, signer: seedSigner(CRASH_SEED), now: Date.now, maxBatch: batch });
const start = kernel.heads()[0]?.size ?? 0;
announce(`ready ${start}`);
// Each entry ~8 KB, so one batch is a LevelDB write of ~800 KB: long enough
// that a kill often lands in the middle of it.
const padding = 'x'.repeat(8_000);
for (let round = 0; ; round++) {
  await kernel.appendMany(Array.from({ length: batch }, (_, i) => ({ round, i, padding })));
}
