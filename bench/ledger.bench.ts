/**
 * Node-side ledger benchmarks: proof generation and verification at 1k / 100k / 1M
 * leaves, proof lengths against RFC 9162, checkpoint signing and verification.
 * Run through `npm run bench` (scripts/bench.js), which writes docs/BENCHMARKS.md;
 * alone: `npx tsx bench/ledger.bench.ts > .bench/ledger.json`.
 */
import { webcrypto } from 'node:crypto';
import { Bench } from 'tinybench';
import { webCryptoSigner } from '../src/crypto/ed25519.js';
import { sha256, sha256Implementation } from '../src/crypto/sha256.js';
import { openCheckpoint, signCheckpoint } from '../src/ledger/checkpoint.js';
import { makeVerifier } from '../src/ledger/note.js';
import { MerkleTree } from '../src/merkle/tree.js';
import { verifyConsistency, verifyInclusion } from '../src/merkle/verify.js';
import { consistencyProofLength, inclusionProofLength } from '../src/merkle/proof-length.js';
import { summarize, type BenchRow } from './support.js';

const SIZES = [1_000, 100_000, 1_000_000];
const rows: BenchRow[] = [];
const lengthChecks: { size: number; inclusion: number; consistency: number; mismatches: number }[] = [];

function buildTree(size: number): MerkleTree {
  const tree = new MerkleTree();
  const counter = new Uint8Array(8);
  const view = new DataView(counter.buffer);
  for (let i = 0; i < size; i++) {
    view.setUint32(0, i);
    tree.appendLeafHash(sha256(counter));
  }
  return tree;
}

// A fixed pseudo-random sequence (benchmarks are reproducible; no Math.random).
function* indices(size: number, count: number): Generator<number> {
  let x = 0x9e3779b9;
  for (let i = 0; i < count; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    yield x % size;
  }
}

for (const size of SIZES) {
  const started = performance.now();
  const tree = buildTree(size);
  rows.push({ group: 'tree', name: `build ${size.toLocaleString('en')} leaves`, unit: 'ms', value: performance.now() - started });
  const root = tree.root();
  const sample = [...indices(size, 512)];
  const proofs = sample.map((index) => ({ index, leaf: tree.leafHash(index), proof: tree.inclusionProof(index) }));
  const olderSizes = sample.map((i) => Math.max(1, i));
  const consistency = olderSizes.map((m) => ({ m, root: tree.root(m), proof: tree.consistencyProof(m) }));

  let mismatches = 0;
  for (const p of proofs) if (p.proof.length !== inclusionProofLength(p.index, size)) mismatches++;
  for (const c of consistency) if (c.proof.length !== consistencyProofLength(c.m, size)) mismatches++;
  lengthChecks.push({ size, inclusion: proofs.length, consistency: consistency.length, mismatches });

  let k = 0;
  const bench = new Bench({ time: 400, warmupTime: 100 });
  bench
    .add(`inclusion proof: generate @${size}`, () => {
      tree.inclusionProof(sample[k++ % sample.length]!);
    })
    .add(`inclusion proof: verify @${size}`, () => {
      const p = proofs[k++ % proofs.length]!;
      verifyInclusion(p.index, size, p.leaf, p.proof, root);
    })
    .add(`consistency proof: generate @${size}`, () => {
      tree.consistencyProof(olderSizes[k++ % olderSizes.length]!);
    })
    .add(`consistency proof: verify @${size}`, () => {
      const c = consistency[k++ % consistency.length]!;
      verifyConsistency(c.m, size, c.root, root, c.proof);
    });
  await bench.run();
  rows.push(...summarize('proofs', bench));
}

const keys = (await webcrypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify'])) as CryptoKeyPair;
const signer = await webCryptoSigner(keys);
const verifier = makeVerifier('naos/bench', signer.publicKey);
const checkpoint = { origin: 'naos/bench', size: 1_000_000, root: new Uint8Array(32).fill(7), extensions: [] };
const note = await signCheckpoint(checkpoint, signer);
const signing = new Bench({ time: 500, warmupTime: 100 });
signing
  .add('checkpoint: sign (WebCrypto Ed25519)', async () => {
    await signCheckpoint(checkpoint, signer);
  })
  .add('checkpoint: parse + verify', async () => {
    await openCheckpoint(note, verifier);
  });
await signing.run();
rows.push(...summarize('checkpoints', signing));

process.stdout.write(JSON.stringify({ runtime: `Node ${process.version}`, sha256: sha256Implementation, rows, lengthChecks }, null, 2));
