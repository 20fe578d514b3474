import { bytesEqual, toHex } from '../bytes.js';
import { ProofVerificationError } from './errors.js';
import { HASH_SIZE, nodeHash } from './hash.js';

/**
 * Proof verification exactly as RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2
 * (consistency) describe it. Every function throws ProofVerificationError naming the
 * failed check; none of them return false.
 *
 * Sizes and indices are JavaScript safe integers (≤ 2^53 − 1); bit tests use arithmetic
 * rather than 32-bit operators so logs larger than 2^32 entries work.
 */

function fail(message: string): never {
  throw new ProofVerificationError(message);
}

function assertCount(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) fail(`${what} must be a non-negative safe integer, got ${value}`);
}

function assertProofHashes(proof: readonly Uint8Array[]): void {
  proof.forEach((hash, i) => {
    if (!(hash instanceof Uint8Array) || hash.length !== HASH_SIZE) {
      fail(`proof[${i}] must be a ${HASH_SIZE}-byte hash, got ${hash instanceof Uint8Array ? `${hash.length} bytes` : typeof hash}`);
    }
  });
}

const isOdd = (n: number): boolean => n % 2 === 1;
const half = (n: number): number => Math.floor(n / 2);

/**
 * Recomputes the root from an inclusion proof (RFC 9162 §2.1.3.2 steps 1–5, without the
 * final comparison). Requires 0 ≤ index < size.
 */
export function rootFromInclusionProof(index: number, size: number, leafHash: Uint8Array, proof: readonly Uint8Array[]): Uint8Array {
  assertCount(index, 'index');
  assertCount(size, 'size');
  if (index >= size) fail(`index ${index} is not below tree size ${size}`);
  if (!(leafHash instanceof Uint8Array) || leafHash.length !== HASH_SIZE) {
    fail(`leaf hash must be ${HASH_SIZE} bytes, got ${leafHash instanceof Uint8Array ? leafHash.length : typeof leafHash}`);
  }
  assertProofHashes(proof);
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0) fail(`proof has ${proof.length} hashes, more than index ${index} in size ${size} needs`);
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) fail(`proof has ${proof.length} hashes, fewer than index ${index} in size ${size} needs`);
  return r;
}

/** Verifies that `leafHash` is the leaf at `index` of the tree of `size` with `root`. */
export function verifyInclusion(index: number, size: number, leafHash: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): void {
  const got = rootFromInclusionProof(index, size, leafHash, proof);
  if (!bytesEqual(got, root)) {
    fail(`inclusion proof for index ${index} in size ${size} gives root ${toHex(got)}, want ${toHex(root)}`);
  }
}

/**
 * Verifies that the tree of `size2` with `root2` extends the tree of `size1` with
 * `root1`. Requires 0 < size1 ≤ size2: a proof from the empty tree proves nothing
 * (RFC 9162 defines PROOF(m, D[n]) only for 0 < m < n), so it is rejected. Equal sizes
 * need an empty proof and equal roots.
 */
export function verifyConsistency(size1: number, size2: number, root1: Uint8Array, root2: Uint8Array, proof: readonly Uint8Array[]): void {
  assertCount(size1, 'size1');
  assertCount(size2, 'size2');
  if (size1 === 0) fail('consistency from an empty tree (size1 = 0) proves nothing and is rejected');
  if (size2 < size1) fail(`size2 ${size2} is smaller than size1 ${size1}`);
  if (size1 === size2) {
    if (proof.length !== 0) fail(`sizes are equal (${size1}) but the proof has ${proof.length} hashes, want none`);
    if (!bytesEqual(root1, root2)) fail(`sizes are equal (${size1}) but roots differ: ${toHex(root1)} vs ${toHex(root2)}`);
    return;
  }
  // RFC 9162 §2.1.4.2 step 1.
  if (proof.length === 0) fail(`empty consistency proof from size ${size1} to ${size2}`);
  assertProofHashes(proof);
  // Step 2: if size1 is a power of two, the old root itself starts the path.
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : proof;
  // Steps 3–4.
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  // Step 5.
  let fr = path[0]!;
  let sr = path[0]!;
  // Step 6.
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    if (sn === 0) fail(`consistency proof from ${size1} to ${size2} has more hashes than needed`);
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  // Step 7.
  if (sn !== 0) fail(`consistency proof from ${size1} to ${size2} has fewer hashes than needed`);
  if (!bytesEqual(fr, root1)) fail(`consistency proof gives old root ${toHex(fr)}, want ${toHex(root1)}`);
  if (!bytesEqual(sr, root2)) fail(`consistency proof gives new root ${toHex(sr)}, want ${toHex(root2)}`);
}

export function isPowerOfTwo(n: number): boolean {
  if (n < 1) return false;
  while (n % 2 === 0) n /= 2;
  return n === 1;
}
