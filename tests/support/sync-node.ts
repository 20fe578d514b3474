import { seedSigner } from '../../src/crypto/ed25519.js';
import { SyncEngine, type SyncOptions } from '../../src/federation/sync-engine.js';
import { Kernel } from '../../src/kernel/kernel.js';
import type { LedgerStore } from '../../src/storage/ledger-store.js';
import { MemoryLedgerStore } from '../../src/storage/memory-store.js';

export const TEST_MANIFEST = {
  region: 't',
  shard: 't',
  types: [],
  capabilities: [],
  trust: 'experimental',
  started: 0,
  software: 't',
} as const;

export type Outbox = { bytes: Uint8Array; to: string | undefined }[];

/** A kernel (key from `seed`, clock at 0) and its sync engine, whose sends go to `outbox`. */
export async function syncNode(
  seed: number,
  outbox: Outbox,
  options: { store?: LedgerStore; engine?: Partial<SyncOptions> } = {},
): Promise<{ kernel: Kernel; engine: SyncEngine }> {
  const signer = seedSigner(new Uint8Array(32).fill(seed));
  const kernel = await Kernel.open({ store: options.store ?? new MemoryLedgerStore(), signer, now: () => 0 });
  const engine = new SyncEngine({
    host: kernel,
    signer,
    manifest: TEST_MANIFEST,
    now: () => 0,
    randomBytes: (n) => new Uint8Array(n).fill(seed),
    send: (bytes, to) => outbox.push({ bytes, to }),
    ...options.engine,
  });
  return { kernel, engine };
}
