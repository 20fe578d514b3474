import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { createSHA256 } from 'hash-wasm';

/**
 * SHA-256 for the Merkle and content-address code. Hashing is the inner loop of every
 * proof, so we use hash-wasm's WebAssembly SHA-256 (≈2× faster than pure JS here, see
 * docs/BENCHMARKS.md) and fall back to @noble/hashes where WebAssembly is unavailable.
 * Both are cross-checked against each other in tests/unit/sha256.test.ts.
 */

interface StreamingSha256 {
  init(): unknown;
  update(data: Uint8Array): unknown;
  digest(format: 'binary'): Uint8Array;
}

async function loadWasmHasher(): Promise<StreamingSha256 | undefined> {
  try {
    return await createSHA256();
  } catch {
    return undefined;
  }
}

const wasm = await loadWasmHasher();

/** Which implementation is in use; reported by benchmarks. */
export const sha256Implementation: 'hash-wasm' | 'noble' = wasm ? 'hash-wasm' : 'noble';

export function sha256(data: Uint8Array): Uint8Array {
  if (!wasm) return nobleSha256(data);
  wasm.init();
  wasm.update(data);
  return wasm.digest('binary');
}

/** SHA-256 of `prefix ‖ data` without copying `data`. */
export function sha256Prefixed(prefix: Uint8Array, data: Uint8Array): Uint8Array {
  if (!wasm) return nobleSha256.create().update(prefix).update(data).digest();
  wasm.init();
  wasm.update(prefix);
  wasm.update(data);
  return wasm.digest('binary');
}

/** The reference implementation, exported for cross-checks. */
export const referenceSha256: (data: Uint8Array) => Uint8Array = (data) => nobleSha256(data);
