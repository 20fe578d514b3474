import * as Comlink from 'comlink';
import { openDB } from 'idb';
import { IdbLedgerStore } from '../../adapters/browser/idb-store.js';
import { webCryptoSigner } from '../../src/crypto/ed25519.js';
import { sha256, sha256Implementation } from '../../src/crypto/sha256.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { openCheckpoint, signCheckpoint } from '../../src/ledger/checkpoint.js';
import { makeVerifier } from '../../src/ledger/note.js';
import { consistencyProofLength, inclusionProofLength } from '../../src/merkle/proof-length.js';
import { MerkleTree } from '../../src/merkle/tree.js';
import { verifyInclusion } from '../../src/merkle/verify.js';
import type { BenchRow } from '../support.js';

/**
 * Ledger benchmarks that must run in Chromium: persisted append throughput through the
 * Kernel over IndexedDB against raw `idb` writes of the same records in the same run,
 * and proof/checkpoint timings in the browser's JS engine.
 */

interface AppendParams {
  readonly count: number;
  readonly batch: number;
  readonly rounds: number;
}

function payload(i: number): { i: number; text: string } {
  return { i, text: `entry ${i} ${'x'.repeat(60)}` };
}

async function freshKernel(name: string): Promise<{ kernel: Kernel; store: IdbLedgerStore }> {
  await deleteDb(name);
  const keys = await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
  const signer = await webCryptoSigner(keys);
  const store = await IdbLedgerStore.open(name);
  const kernel = await Kernel.open({ store, signer, now: () => Date.now() });
  return { kernel, store };
}

function deleteDb(name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.deleteDatabase(name);
    request.onsuccess = () => resolve();
    request.onerror = () => reject(request.error ?? new Error(`cannot delete ${name}`));
    request.onblocked = () => resolve();
  });
}

/** Persisted appends through the Kernel: encode, hash, tree, sign, one IDB transaction per batch. */
async function kernelAppend(p: AppendParams, round: number): Promise<{ seconds: number; records: Uint8Array[]; origin: string }> {
  const { kernel, store } = await freshKernel(`bench-kernel-${round}`);
  const started = performance.now();
  for (let done = 0; done < p.count; done += p.batch) {
    await kernel.appendMany(Array.from({ length: Math.min(p.batch, p.count - done) }, (_, i) => payload(done + i)));
  }
  const seconds = (performance.now() - started) / 1000;
  const records = await kernel.readEntryBytes(0, p.count);
  const origin = kernel.origin;
  await kernel.close();
  await store.close();
  return { seconds, records, origin };
}

/** Raw idb: the same entry records, same keys, same batches and durability — nothing else. */
async function rawIdb(p: AppendParams, records: Uint8Array[], origin: string, round: number): Promise<number> {
  const name = `bench-raw-${round}`;
  await deleteDb(name);
  const db = await openDB(name, 1, {
    upgrade(database) {
      database.createObjectStore('entries');
    },
  });
  const started = performance.now();
  for (let done = 0; done < p.count; done += p.batch) {
    const tx = db.transaction('entries', 'readwrite', { durability: 'strict' });
    const end = Math.min(p.count, done + p.batch);
    for (let i = done; i < end; i++) void tx.store.add(records[i]!, [origin, i]);
    await tx.done;
  }
  const seconds = (performance.now() - started) / 1000;
  db.close();
  return seconds;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const api = {
  async appendThroughput(p: AppendParams): Promise<BenchRow[]> {
    const kernelRates: number[] = [];
    const rawRates: number[] = [];
    const ratios: number[] = [];
    // Pairs back to back, the order swapped every round, so that drift in the disk's speed
    // (large on a shared VM) falls on both sides alike; the ratio is the median of the
    // pairs' ratios. The raw side writes the records the kernel wrote, so the kernel runs
    // first in its round's pair either way; "raw first" uses the previous round's records.
    let previous: { records: Uint8Array[]; origin: string } | undefined;
    for (let round = 0; round < p.rounds; round++) {
      let rawSeconds: number | undefined;
      if (round % 2 === 1 && previous) rawSeconds = await rawIdb(p, previous.records, previous.origin, round);
      const run = await kernelAppend(p, round);
      rawSeconds ??= await rawIdb(p, run.records, run.origin, round);
      previous = run;
      kernelRates.push(p.count / run.seconds);
      rawRates.push(p.count / rawSeconds);
      ratios.push(rawSeconds / run.seconds);
      await deleteDb(`bench-kernel-${round}`);
      await deleteDb(`bench-raw-${round}`);
    }
    const kernelRate = median(kernelRates);
    const rawRate = median(rawRates);
    const label = `${p.count.toLocaleString('en')} entries, batches of ${p.batch}`;
    return [
      { group: 'append', name: `Kernel.appendMany over IndexedDB (${label})`, unit: 'entries/s', value: kernelRate },
      { group: 'append', name: `raw idb writes of the same records (${label})`, unit: 'entries/s', value: rawRate },
      { group: 'append', name: `persisted append / raw idb (${label})`, unit: 'ratio', value: median(ratios) },
    ];
  },

  proofs(p: { size: number; samples: number }): BenchRow[] {
    const tree = new MerkleTree();
    const counter = new Uint8Array(8);
    const view = new DataView(counter.buffer);
    let started = performance.now();
    for (let i = 0; i < p.size; i++) {
      view.setUint32(0, i);
      tree.appendLeafHash(sha256(counter));
    }
    const buildMs = performance.now() - started;
    const root = tree.root();
    let x = 0x9e3779b9;
    const indices = Array.from({ length: p.samples }, () => {
      x = (x * 1103515245 + 12345) >>> 0;
      return x % p.size;
    });
    started = performance.now();
    const proofs = indices.map((index) => ({ index, leaf: tree.leafHash(index), proof: tree.inclusionProof(index) }));
    const generateUs = ((performance.now() - started) * 1000) / p.samples;
    let wrongLength = 0;
    for (const q of proofs) if (q.proof.length !== inclusionProofLength(q.index, p.size)) wrongLength++;
    for (const m of indices)
      if (tree.consistencyProof(Math.max(1, m)).length !== consistencyProofLength(Math.max(1, m), p.size)) wrongLength++;
    // Verify each proof several times to get a stable per-verification time.
    const repeats = 5;
    started = performance.now();
    for (let r = 0; r < repeats; r++) for (const q of proofs) verifyInclusion(q.index, p.size, q.leaf, q.proof, root);
    const verifyUs = ((performance.now() - started) * 1000) / (p.samples * repeats);
    const at = p.size.toLocaleString('en');
    return [
      { group: 'proofs (Chromium)', name: `build tree @${at} leaves`, unit: 'ms', value: buildMs },
      { group: 'proofs (Chromium)', name: `inclusion proof: generate @${at}`, unit: 'µs', value: generateUs },
      { group: 'proofs (Chromium)', name: `inclusion proof: verify @${at}`, unit: 'µs', value: verifyUs },
      { group: 'proofs (Chromium)', name: `proofs not of RFC 9162 length @${at} (of ${p.samples * 2})`, unit: 'count', value: wrongLength },
    ];
  },

  async checkpoints(p: { samples: number }): Promise<BenchRow[]> {
    const keys = await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
    const signer = await webCryptoSigner(keys);
    const checkpoint = { origin: 'naos/bench', size: 1_000_000, root: new Uint8Array(32).fill(7), extensions: [] };
    const verifier = makeVerifier('naos/bench', signer.publicKey);
    let note = '';
    let started = performance.now();
    for (let i = 0; i < p.samples; i++) note = await signCheckpoint(checkpoint, signer);
    const signUs = ((performance.now() - started) * 1000) / p.samples;
    started = performance.now();
    for (let i = 0; i < p.samples; i++) await openCheckpoint(note, verifier);
    const verifyUs = ((performance.now() - started) * 1000) / p.samples;
    return [
      { group: 'checkpoints (Chromium)', name: 'checkpoint: sign (WebCrypto Ed25519)', unit: 'µs', value: signUs },
      { group: 'checkpoints (Chromium)', name: 'checkpoint: parse + verify', unit: 'µs', value: verifyUs },
    ];
  },

  environment(): { userAgent: string; sha256: string } {
    return { userAgent: navigator.userAgent, sha256: sha256Implementation };
  },
};

export type LedgerBench = typeof api;

Comlink.expose(api);
postMessage('bench-ready');
