import { TreeRangeError } from './errors.js';
import { EMPTY_ROOT, HASH_SIZE, leafHash, nodeHash } from './hash.js';

/**
 * An append-only RFC 9162 Merkle tree that keeps the hash of every perfect subtree
 * (2^level leaves, aligned). Appending a leaf hashes at most log2(n) new nodes —
 * one on average — and never rehashes the log. Any root, inclusion proof or consistency
 * proof for any size up to the current one costs O(log n) hashes.
 *
 * Memory: 2·n·32 bytes (64 MB at a million leaves), in one growable buffer per level.
 */
export class MerkleTree {
  /** levels[k] holds the hashes of the aligned subtrees of 2^k leaves, back to back. */
  readonly #levels: Uint8Array[] = [];
  readonly #counts: number[] = [];
  /** The root at the current size, once asked for; every change to the leaves drops it. */
  #root: Uint8Array | undefined;

  get size(): number {
    return this.#counts[0] ?? 0;
  }

  /** Appends one entry's bytes; returns its leaf hash. */
  appendData(data: Uint8Array): Uint8Array {
    const hash = leafHash(data);
    this.appendLeafHash(hash);
    return hash;
  }

  appendLeafHash(hash: Uint8Array): void {
    if (hash.length !== HASH_SIZE) throw new RangeError(`leaf hash must be ${HASH_SIZE} bytes, got ${hash.length}`);
    this.#push(0, hash);
    // Every time a level gains an even count, the pair under it is a new perfect subtree.
    let level = 0;
    while (this.#counts[level]! % 2 === 0) {
      const right = this.#counts[level]! - 1;
      const parent = nodeHash(this.#perfect(level, right - 1), this.#perfect(level, right));
      this.#push(level + 1, parent);
      level++;
    }
  }

  /**
   * Drops every leaf at or after `size`, as if they were never appended — used to undo a
   * staged batch whose write failed. Requires 0 ≤ size ≤ this.size.
   */
  truncate(size: number): void {
    this.#checkSize(size);
    this.#root = undefined;
    for (let level = 0; level < this.#counts.length; level++) {
      this.#counts[level] = Math.floor(size / 2 ** level);
    }
  }

  /** Leaf hash at `index`. Requires 0 ≤ index < size. */
  leafHash(index: number): Uint8Array {
    this.#checkIndex(index, this.size);
    return this.#perfect(0, index).slice();
  }

  /** MTH of the first `size` leaves. Requires 0 ≤ size ≤ this.size. */
  root(size: number = this.size): Uint8Array {
    this.#checkSize(size);
    if (size === 0) return EMPTY_ROOT.slice();
    if (size !== this.size) return this.#rangeHash(0, size).slice();
    this.#root ??= this.#rangeHash(0, size).slice();
    return this.#root.slice();
  }

  /** PATH(index, D[size]) of RFC 9162 §2.1.3.1, leaf-side first. Requires 0 ≤ index < size ≤ this.size. */
  inclusionProof(index: number, size: number = this.size): Uint8Array[] {
    this.#checkSize(size);
    this.#checkIndex(index, size);
    const path: Uint8Array[] = [];
    // Walk down from the root, remembering each sibling; the RFC lists them bottom-up.
    let start = 0;
    let end = size;
    while (end - start > 1) {
      const k = largestPowerOfTwoBelow(end - start);
      if (index < start + k) {
        path.push(this.#rangeHash(start + k, end));
        end = start + k;
      } else {
        path.push(this.#rangeHash(start, start + k));
        start += k;
      }
    }
    return path.reverse().map((hash) => hash.slice());
  }

  /**
   * PROOF(size1, D[size2]) of RFC 9162 §2.1.4.1. Requires 0 < size1 ≤ size2 ≤ this.size;
   * equal sizes give the empty proof.
   */
  consistencyProof(size1: number, size2: number = this.size): Uint8Array[] {
    this.#checkSize(size2);
    if (!Number.isSafeInteger(size1) || size1 < 1 || size1 > size2) {
      throw new TreeRangeError(`consistency proof needs 0 < size1 ≤ size2, got size1 ${size1}, size2 ${size2}`);
    }
    const proof: Uint8Array[] = [];
    // SUBPROOF(m, D[start:end], b) unrolled: descend, collecting siblings.
    let start = 0;
    let end = size2;
    let m = size1;
    let complete = true;
    while (m !== end - start) {
      const k = largestPowerOfTwoBelow(end - start);
      if (m <= k) {
        proof.push(this.#rangeHash(start + k, end));
        end = start + k;
      } else {
        proof.push(this.#rangeHash(start, start + k));
        start += k;
        m -= k;
        complete = false;
      }
    }
    if (!complete) proof.push(this.#rangeHash(start, end));
    return proof.reverse().map((hash) => hash.slice());
  }

  /** MTH(D[start:end]) for a range that occurs in the RFC's recursive split. */
  #rangeHash(start: number, end: number): Uint8Array {
    const n = end - start;
    const level = exactLog2(n);
    if (level !== undefined && start % n === 0) return this.#perfect(level, start / n);
    const k = largestPowerOfTwoBelow(n);
    return nodeHash(this.#rangeHash(start, start + k), this.#rangeHash(start + k, end));
  }

  #perfect(level: number, index: number): Uint8Array {
    const buffer = this.#levels[level];
    if (buffer === undefined || index >= this.#counts[level]!) {
      throw new TreeRangeError(`no subtree at level ${level}, index ${index}`);
    }
    return buffer.subarray(index * HASH_SIZE, (index + 1) * HASH_SIZE);
  }

  #push(level: number, hash: Uint8Array): void {
    this.#root = undefined;
    let buffer = this.#levels[level];
    const count = this.#counts[level] ?? 0;
    if (buffer === undefined || (count + 1) * HASH_SIZE > buffer.length) {
      const grown = new Uint8Array(Math.max(64, count * 2) * HASH_SIZE);
      if (buffer) grown.set(buffer);
      buffer = grown;
      this.#levels[level] = buffer;
    }
    buffer.set(hash, count * HASH_SIZE);
    this.#counts[level] = count + 1;
  }

  #checkSize(size: number): void {
    if (!Number.isSafeInteger(size) || size < 0 || size > this.size) {
      throw new TreeRangeError(`tree size ${size} is not within 0..${this.size}`);
    }
  }

  #checkIndex(index: number, size: number): void {
    if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
      throw new TreeRangeError(`index ${index} is not within 0..${size - 1} (tree size ${size})`);
    }
  }
}

/** Largest power of two strictly below n. Requires n ≥ 2. */
export function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function exactLog2(n: number): number | undefined {
  let level = 0;
  let v = n;
  while (v > 1) {
    if (v % 2 !== 0) return undefined;
    v /= 2;
    level++;
  }
  return v === 1 ? level : undefined;
}
