import { toHex } from '../src/bytes.js';
import { openCheckpoint } from '../src/ledger/checkpoint.js';
import { parseVerifierKey } from '../src/ledger/note.js';

/**
 * Verifies a signed checkpoint note against a verifier key, here in the page, and returns
 * what it signs. Lets the UI say not only "the proof leads to this root" but "this root
 * is the one the node signed".
 */
export async function signedCheckpointRoot(note: string, verifierKey: string): Promise<{ size: number; root: string }> {
  const checkpoint = await openCheckpoint(note, parseVerifierKey(verifierKey));
  return { size: checkpoint.size, root: toHex(checkpoint.root) };
}
