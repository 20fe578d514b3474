import { sha256, sha256Prefixed } from '../crypto/sha256.js';

/** RFC 9162 §2.1.1 tree hashing with SHA-256. */

export const HASH_SIZE = 32;

const LEAF_PREFIX = new Uint8Array([0x00]);
const nodeInput = new Uint8Array(1 + 2 * HASH_SIZE);
nodeInput[0] = 0x01;

/** MTH({}) = SHA-256() — the root of the empty tree. */
export const EMPTY_ROOT: Uint8Array = sha256(new Uint8Array(0));

/** MTH({d}) = SHA-256(0x00 ‖ d). */
export function leafHash(data: Uint8Array): Uint8Array {
  return sha256Prefixed(LEAF_PREFIX, data);
}

/** SHA-256(0x01 ‖ left ‖ right). Requires two 32-byte hashes. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) {
    throw new RangeError(`node hash inputs must be ${HASH_SIZE} bytes, got ${left.length} and ${right.length}`);
  }
  nodeInput.set(left, 1);
  nodeInput.set(right, 1 + HASH_SIZE);
  return sha256(nodeInput);
}
