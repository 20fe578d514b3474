import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/bytes.js';
import { ProofVerificationError, TreeRangeError } from '../../src/merkle/errors.js';
import { leafHash } from '../../src/merkle/hash.js';
import { consistencyProofLength, inclusionProofLength } from '../../src/merkle/proof-length.js';
import { referenceConsistencyProof, referenceInclusionProof, referenceRoot } from '../../src/merkle/reference.js';
import { MerkleTree } from '../../src/merkle/tree.js';
import { verifyConsistency, verifyInclusion } from '../../src/merkle/verify.js';

const leavesArb = fc.array(fc.uint8Array({ maxLength: 12 }), { minLength: 1, maxLength: 70 });

function treeOf(leaves: readonly Uint8Array[]): MerkleTree {
  const tree = new MerkleTree();
  for (const leaf of leaves) tree.appendData(leaf);
  return tree;
}

describe('MerkleTree against the naive RFC 9162 reference', () => {
  it('roots agree for every prefix size', () => {
    fc.assert(
      fc.property(leavesArb, (leaves) => {
        const tree = treeOf(leaves);
        for (let n = 0; n <= leaves.length; n++) {
          expect(toHex(tree.root(n))).toBe(toHex(referenceRoot(leaves.slice(0, n))));
        }
      }),
    );
  });

  it('inclusion proofs agree, have the RFC length and verify', () => {
    fc.assert(
      fc.property(leavesArb, fc.nat(), (leaves, seed) => {
        const tree = treeOf(leaves);
        const n = 1 + (seed % leaves.length);
        for (let m = 0; m < n; m++) {
          const proof = tree.inclusionProof(m, n);
          expect(proof.map(toHex)).toEqual(referenceInclusionProof(m, leaves.slice(0, n)).map(toHex));
          expect(proof.length).toBe(inclusionProofLength(m, n));
          verifyInclusion(m, n, leafHash(leaves[m]!), proof, tree.root(n));
        }
      }),
    );
  });

  it('consistency proofs agree with the reference and verify', () => {
    fc.assert(
      fc.property(leavesArb, (leaves) => {
        const tree = treeOf(leaves);
        const n = leaves.length;
        for (let m = 1; m <= n; m++) {
          const proof = tree.consistencyProof(m, n);
          expect(proof.map(toHex)).toEqual(referenceConsistencyProof(m, leaves).map(toHex));
          expect(proof.length).toBe(consistencyProofLength(m, n));
          verifyConsistency(m, n, tree.root(m), tree.root(n), proof);
        }
      }),
    );
  });

  it('any single flipped bit in a proof, root or leaf is rejected', () => {
    fc.assert(
      fc.property(leavesArb, fc.nat(), fc.nat(), (leaves, a, b) => {
        fc.pre(leaves.length >= 2);
        const tree = treeOf(leaves);
        const n = leaves.length;
        const m = a % n;
        const proof = tree.inclusionProof(m, n);
        const target = b % (proof.length + 2);
        const flip = (bytes: Uint8Array): Uint8Array => {
          const copy = bytes.slice();
          copy[b % copy.length]! ^= 1 << (b % 8);
          return copy;
        };
        const root = tree.root(n);
        const leaf = leafHash(leaves[m]!);
        const run = (): void => {
          if (target < proof.length)
            verifyInclusion(
              m,
              n,
              leaf,
              proof.map((p, i) => (i === target ? flip(p) : p)),
              root,
            );
          else if (target === proof.length) verifyInclusion(m, n, leaf, proof, flip(root));
          else verifyInclusion(m, n, flip(leaf), proof, root);
        };
        expect(run).toThrow(ProofVerificationError);
      }),
    );
  });

  it('the root read between appends and truncations is always the current one', () => {
    // The tree remembers its current root: appending or truncating must forget it.
    const step = fc.oneof(
      fc.record({ append: fc.uint8Array({ maxLength: 8 }) }),
      fc.record({ truncate: fc.nat() }),
      fc.constant({ read: true }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const tree = new MerkleTree();
        const leaves: Uint8Array[] = [];
        for (const s of steps) {
          if ('append' in s) {
            tree.appendData(s.append);
            leaves.push(s.append);
          } else if ('truncate' in s) {
            const size = s.truncate % (leaves.length + 1);
            tree.truncate(size);
            leaves.length = size;
          }
          expect(toHex(tree.root())).toBe(toHex(referenceRoot(leaves)));
        }
      }),
    );
  });

  it('consistency proofs with a wrong size, a dropped or an extra hash are rejected', () => {
    fc.assert(
      fc.property(leavesArb, fc.nat(), (leaves, a) => {
        fc.pre(leaves.length >= 3);
        const tree = treeOf(leaves);
        const n = leaves.length;
        const m = 1 + (a % (n - 1));
        const proof = tree.consistencyProof(m, n);
        expect(() => verifyConsistency(m, n, tree.root(m), tree.root(n), proof.slice(1))).toThrow(ProofVerificationError);
        expect(() => verifyConsistency(m, n, tree.root(m), tree.root(n), [...proof, proof[0]!])).toThrow(ProofVerificationError);
        expect(() => verifyConsistency(m, n, tree.root(n), tree.root(m), proof)).toThrow(ProofVerificationError);
      }),
    );
  });
});

describe('MerkleTree preconditions', () => {
  const tree = treeOf([new Uint8Array([1]), new Uint8Array([2]), new Uint8Array([3])]);

  it('refuses out-of-range sizes and indices with TreeRangeError', () => {
    expect(() => tree.root(4)).toThrow(TreeRangeError);
    expect(() => tree.root(-1)).toThrow(TreeRangeError);
    expect(() => tree.root(1.5)).toThrow(TreeRangeError);
    expect(() => tree.inclusionProof(3, 3)).toThrow(TreeRangeError);
    expect(() => tree.inclusionProof(0, 4)).toThrow(TreeRangeError);
    expect(() => tree.consistencyProof(0, 3)).toThrow(TreeRangeError);
    expect(() => tree.consistencyProof(3, 2)).toThrow(TreeRangeError);
    expect(() => tree.leafHash(5)).toThrow(TreeRangeError);
  });

  it('refuses a leaf hash of the wrong length', () => {
    expect(() => new MerkleTree().appendLeafHash(new Uint8Array(31))).toThrow(RangeError);
  });

  it('returns copies, so callers cannot corrupt stored hashes', () => {
    const before = toHex(tree.root());
    tree.inclusionProof(0)[0]!.fill(0);
    tree.leafHash(1).fill(0);
    tree.root().fill(0);
    expect(toHex(tree.root())).toBe(before);
  });

  it('verifiers refuse non-integer sizes and malformed proof elements', () => {
    const root = tree.root();
    const proof = tree.inclusionProof(0);
    expect(() => verifyInclusion(0.5, 3, tree.leafHash(0), proof, root)).toThrow(ProofVerificationError);
    expect(() => verifyInclusion(0, 3, tree.leafHash(0), [new Uint8Array(31), proof[1]!], root)).toThrow(/proof\[0\]/);
    expect(() => verifyConsistency(2, Number.MAX_SAFE_INTEGER + 2, root, root, proof)).toThrow(ProofVerificationError);
  });
});
