/**
 * RFC 9162 proof lengths computed from the sizes alone, independently of how proofs are
 * built — benchmarks and property tests check every generated proof against these.
 */

/** Length of PATH(index, D[size]): one hash per level below the point where index and
 * size−1 diverge, plus one per set bit of index above it. Requires 0 ≤ index < size. */
export function inclusionProofLength(index: number, size: number): number {
  const inner = bitLength(index ^ (size - 1));
  return inner + popcount(Math.floor(index / 2 ** inner));
}

/**
 * Length of PROOF(m, D[n]), 0 < m ≤ n: the inclusion path of leaf m−1 in D[n] without
 * its lowest trailingZeros(m) hashes (that part lies inside the old tree), plus the old
 * tree's rightmost perfect subtree unless m is a power of two (then the verifier already
 * has it: it is the old root).
 */
export function consistencyProofLength(m: number, n: number): number {
  if (m === n) return 0;
  const shift = trailingZeros(m);
  return inclusionProofLength(m - 1, n) - shift + (2 ** shift === m ? 0 : 1);
}

// Arithmetic, not 32-bit operators: sizes may exceed 2^32.
function bitLength(x: number): number {
  let n = 0;
  for (let v = x; v > 0; v = Math.floor(v / 2)) n++;
  return n;
}

function popcount(x: number): number {
  let n = 0;
  for (let v = x; v > 0; v = Math.floor(v / 2)) n += v % 2;
  return n;
}

function trailingZeros(x: number): number {
  let n = 0;
  for (let v = x; v > 0 && v % 2 === 0; v /= 2) n++;
  return n;
}
