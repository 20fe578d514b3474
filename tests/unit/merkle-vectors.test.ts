import { describe, expect, it } from 'vitest';
import { fromBase64, fromHex, toHex } from '../../src/bytes.js';
import { EMPTY_ROOT, leafHash } from '../../src/merkle/hash.js';
import { MerkleTree } from '../../src/merkle/tree.js';
import { verifyConsistency, verifyInclusion } from '../../src/merkle/verify.js';
import { readProbes } from '../support/testdata.js';

// The eight leaves of the RFC 6962 test suite (certificate-transparency, transparency-dev/merkle).
const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((hex) =>
  fromHex(hex),
);

// Published roots of the first 1..8 of those leaves.
const ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

function standardTree(): MerkleTree {
  const tree = new MerkleTree();
  for (const leaf of LEAVES) tree.appendData(leaf);
  return tree;
}

describe('RFC 6962 published vectors', () => {
  it('empty tree root is SHA-256 of the empty string', () => {
    expect(toHex(EMPTY_ROOT)).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(toHex(new MerkleTree().root())).toBe(toHex(EMPTY_ROOT));
  });

  it('roots of sizes 1..8 match the published ones', () => {
    const tree = standardTree();
    ROOTS.forEach((root, i) => expect(toHex(tree.root(i + 1)), `size ${i + 1}`).toBe(root));
  });

  it('the leaf hash of the empty leaf is the published one', () => {
    expect(toHex(leafHash(new Uint8Array(0)))).toBe(ROOTS[0]);
  });
});

interface InclusionProbe {
  leafIdx: number;
  treeSize: number;
  root: string;
  leafHash: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}

interface ConsistencyProbe {
  size1: number;
  size2: number;
  root1: string;
  root2: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}

const b64 = (text: string): Uint8Array => fromBase64(text);

describe('transparency-dev/merkle inclusion probes', () => {
  const probes = readProbes<InclusionProbe>('inclusion');
  it('finds the probe files', () => expect(probes.length).toBeGreaterThan(90));

  for (const { path, data } of probes) {
    it(`${path}: ${data.desc} → ${data.wantErr ? 'rejected' : 'accepted'}`, () => {
      const run = (): void => verifyInclusion(data.leafIdx, data.treeSize, b64(data.leafHash), (data.proof ?? []).map(b64), b64(data.root));
      if (data.wantErr) expect(run).toThrow();
      else expect(run).not.toThrow();
    });
  }

  it('our tree generates exactly the published happy-path proofs', () => {
    const tree = standardTree();
    const happy = probes.filter((p) => !p.data.wantErr && p.data.treeSize > 1);
    expect(happy.length).toBeGreaterThanOrEqual(4);
    for (const { data } of happy) {
      expect(toHex(tree.leafHash(data.leafIdx))).toBe(toHex(b64(data.leafHash)));
      expect(tree.inclusionProof(data.leafIdx, data.treeSize).map(toHex)).toEqual((data.proof ?? []).map((p) => toHex(b64(p))));
      expect(toHex(tree.root(data.treeSize))).toBe(toHex(b64(data.root)));
    }
  });
});

describe('transparency-dev/merkle consistency probes', () => {
  const probes = readProbes<ConsistencyProbe>('consistency');
  it('finds the probe files', () => expect(probes.length).toBeGreaterThan(90));

  for (const { path, data } of probes) {
    it(`${path}: ${data.desc} → ${data.wantErr ? 'rejected' : 'accepted'}`, () => {
      const run = (): void => verifyConsistency(data.size1, data.size2, b64(data.root1), b64(data.root2), (data.proof ?? []).map(b64));
      if (data.wantErr) expect(run).toThrow();
      else expect(run).not.toThrow();
    });
  }

  it('rejects every consistency proof from size 0, even with matching roots', () => {
    const sizeZero = probes.filter((p) => p.data.size1 === 0);
    expect(sizeZero.length).toBeGreaterThan(0);
    for (const { data } of sizeZero) expect(data.wantErr).toBe(true);
    expect(() => verifyConsistency(0, 1, EMPTY_ROOT, fromHex(ROOTS[0]!), [])).toThrow(/empty tree/);
  });

  it('our tree generates exactly the published happy-path proofs', () => {
    const tree = standardTree();
    const happy = probes.filter((p) => !p.data.wantErr && p.data.size1 < p.data.size2);
    expect(happy.length).toBeGreaterThanOrEqual(4);
    for (const { data } of happy) {
      expect(tree.consistencyProof(data.size1, data.size2).map(toHex)).toEqual((data.proof ?? []).map((p) => toHex(b64(p))));
    }
  });
});
