import { seedSigner } from '../../src/crypto/ed25519.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { type Equivocation, makeEquivocation } from '../../src/ledger/equivocation.js';
import { MemoryLedgerStore } from '../../src/storage/memory-store.js';

/**
 * An author that signed two histories of its log (F11): one key (`seed`), two kernels —
 * `a` entries "history A i" in one store, `b` entries "history B i" in another.
 */
export async function twoHistories(a: number, b: number, seed = 1): Promise<{ honest: Kernel; twin: Kernel }> {
  const open = () => Kernel.open({ store: new MemoryLedgerStore(), signer: seedSigner(new Uint8Array(32).fill(seed)), now: () => 1000 });
  const honest = await open();
  const twin = await open();
  for (let i = 0; i < a; i++) await honest.append(`history A ${i}`);
  for (let i = 0; i < b; i++) await twin.append(`history B ${i}`);
  return { honest, twin };
}

/** The proof that two histories of one size differ: both latest checkpoints. */
export function sameSize(honest: Kernel, twin: Kernel): Equivocation {
  return makeEquivocation({
    origin: honest.origin,
    verifierKey: honest.verifierKey,
    notes: [
      { note: honest.checkpoint(), size: honest.heads()[0]!.size },
      { note: twin.checkpoint(), size: twin.heads()[0]!.size },
    ],
  });
}
