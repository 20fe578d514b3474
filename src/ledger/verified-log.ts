import { bytesEqual, toHex } from '../bytes.js';
import { nodeIdFromPublicKey, nodeIdOfOrigin } from '../identity/node-id.js';
import { EMPTY_ROOT } from '../merkle/hash.js';
import { MerkleTree } from '../merkle/tree.js';
import type { LedgerStore, StoredCheckpoint, StoredLogHead } from '../storage/ledger-store.js';
import { CheckpointFormatError, openCheckpoint } from './checkpoint.js';
import { decodeEntry, type Entry, EntryDecodeError } from './entry.js';
import type { Hlc } from './hlc.js';
import { type IntegrityProblem, LedgerIntegrityError } from './integrity.js';
import { NoteFormatError, NoteVerificationError, type NoteVerifier, parseVerifierKey } from './note.js';

/**
 * A log whose stored bytes have been verified: every entry decodes canonically and
 * belongs to its author at its position, every checkpoint is signed by the log's key,
 * and the Merkle root at each checkpoint's size equals the signed root. Holds the Merkle
 * tree (for proofs) and the checkpoints; entry bytes stay in the store.
 */
export class VerifiedLog {
  readonly tree: MerkleTree;
  readonly #checkpoints: StoredCheckpoint[];
  #size: number;
  #lastTime: Hlc | undefined;

  constructor(
    readonly origin: string,
    readonly author: string,
    readonly verifier: NoteVerifier,
    readonly verifierKey: string,
    tree: MerkleTree,
    checkpoints: StoredCheckpoint[],
    lastTime?: Hlc,
  ) {
    this.tree = tree;
    this.#checkpoints = checkpoints;
    this.#size = tree.size;
    this.#lastTime = lastTime;
  }

  /** The time of the last committed entry (undefined for an empty log); a later entry must be dated after it. */
  get lastTime(): Hlc | undefined {
    return this.#lastTime;
  }

  /** Committed size: entries that are durable in the store and covered by a checkpoint. */
  get size(): number {
    return this.#size;
  }

  /** The newest signed checkpoint; undefined only for a replica that holds no entries yet. */
  get latestCheckpoint(): StoredCheckpoint | undefined {
    return this.#checkpoints[this.#checkpoints.length - 1];
  }

  get checkpoints(): readonly StoredCheckpoint[] {
    return this.#checkpoints;
  }

  root(size: number = this.#size): Uint8Array {
    return this.tree.root(size);
  }

  /** Records a batch that is now durable, with its last entry's time; its leaves must already be in the tree. */
  commit(checkpoint: StoredCheckpoint, lastTime: Hlc): void {
    if (checkpoint.size !== this.tree.size || checkpoint.size < this.#size) {
      throw new Error(`internal: commit of size ${checkpoint.size} with tree size ${this.tree.size}`);
    }
    this.#checkpoints.push(checkpoint);
    this.#size = checkpoint.size;
    this.#lastTime = lastTime;
  }

  /** Forgets leaves staged after the committed size (their write failed). */
  rollback(): void {
    this.tree.truncate(this.#size);
  }
}

export interface LoadOptions {
  /** For the node's own log: the key it must be signed with. */
  readonly expectedPublicKey?: Uint8Array;
  /** Entries read per store call. */
  readonly chunkSize?: number;
  /** Called after each chunk with entries verified so far, for progress displays. */
  readonly onProgress?: (verified: number, total: number) => void;
  /** Called with every entry that decoded well (the log may still fail later checks). */
  readonly onEntry?: (entry: Entry, bytes: Uint8Array) => void;
}

const MAX_REPORTED_PROBLEMS = 100;

/**
 * Loads one stored log and re-verifies all of it. Collects every problem it finds (up to
 * 100) with where and what, and throws LedgerIntegrityError if there is any; nothing
 * from a log that fails is returned.
 */
export async function loadVerifiedLog(store: LedgerStore, head: StoredLogHead, options: LoadOptions = {}): Promise<VerifiedLog> {
  const problems: IntegrityProblem[] = [];
  const report = (where: string, what: string): void => {
    if (problems.length < MAX_REPORTED_PROBLEMS) problems.push({ where, what });
  };
  const origin = head.origin;
  const fail = (): never => {
    throw new LedgerIntegrityError(origin, problems);
  };

  let verifier: NoteVerifier;
  try {
    verifier = parseVerifierKey(head.verifierKey);
  } catch (error) {
    report('head', `verifier key is malformed: ${(error as Error).message}`);
    return fail();
  }
  const author = nodeIdOfOrigin(origin);
  if (verifier.name !== origin) report('head', `verifier key names ${verifier.name}, not the log ${origin}`);
  if (author === undefined) report('head', `origin ${JSON.stringify(origin)} is not a node log origin`);
  else if (author !== nodeIdFromPublicKey(verifier.publicKey)) {
    report('head', `origin names node ${author} but the key belongs to ${nodeIdFromPublicKey(verifier.publicKey)}`);
  }
  if (options.expectedPublicKey && !bytesEqual(options.expectedPublicKey, verifier.publicKey)) {
    report('head', "verifier key is not this node's identity key");
  }
  if (problems.length > 0) return fail();

  // Checkpoints: each signed by the log key, sizes strictly increasing from 0.
  const stored = await store.readCheckpoints(origin);
  const roots = new Map<number, Uint8Array>();
  let previous = -1;
  for (const checkpoint of stored) {
    const where = `checkpoint ${checkpoint.size}`;
    try {
      const opened = await openCheckpoint(checkpoint.note, verifier);
      if (opened.size !== checkpoint.size) report(where, `note says size ${opened.size}`);
      else roots.set(checkpoint.size, opened.root);
    } catch (error) {
      const known = error instanceof NoteFormatError || error instanceof NoteVerificationError || error instanceof CheckpointFormatError;
      if (!known) throw error;
      report(where, error.message);
    }
    if (checkpoint.size <= previous) report(where, `out of order after checkpoint ${previous}`);
    previous = checkpoint.size;
  }
  // A node's own log starts with a checkpoint at size 0; a replica starts wherever its
  // first received batch ended. Either way every stored entry must be under a checkpoint.
  if (stored.length === 0 && head.size > 0) report('checkpoints', `log has ${head.size} entries but no checkpoint`);
  const emptyRoot = roots.get(0);
  if (emptyRoot && !bytesEqual(emptyRoot, EMPTY_ROOT)) report('checkpoint 0', 'root is not the empty-tree root');
  const latest = stored[stored.length - 1];
  if (latest && latest.size !== head.size) report('head', `size ${head.size} but the latest checkpoint is at size ${latest.size}`);

  // Entries: present without gaps, canonical, authored here at their position, and
  // matching the signed root at every checkpoint.
  const count = await store.countEntries(origin);
  if (count !== head.size) report('head', `size ${head.size} but ${count} entries are stored`);
  const tree = new MerkleTree();
  const chunk = options.chunkSize ?? 4096;
  let lastCheckpointSize = 0;
  let divergedAt: number | undefined;
  let laterMismatches = 0;
  let lastTime: Hlc | undefined;
  while (tree.size < head.size) {
    const start = tree.size;
    const batch = await store.readEntries(origin, start, Math.min(head.size, start + chunk));
    if (batch.length === 0) {
      report(`entry ${start}`, 'missing');
      break;
    }
    for (const bytes of batch) {
      const index = tree.size;
      try {
        const entry = decodeEntry(bytes);
        if (entry.seq !== index) report(`entry ${index}`, `seq is ${entry.seq}`);
        if (entry.author !== author) report(`entry ${index}`, `author is ${entry.author}, not ${author}`);
        lastTime = entry.time;
        options.onEntry?.(entry, bytes);
      } catch (error) {
        if (!(error instanceof EntryDecodeError)) throw error;
        report(`entry ${index}`, error.message);
      }
      tree.appendData(bytes);
      const signedRoot = roots.get(tree.size);
      if (signedRoot) {
        const computed = tree.root();
        if (!bytesEqual(computed, signedRoot)) {
          // Every later checkpoint fails too once one entry is wrong; name the first
          // place the log diverges and count the rest instead of listing each.
          if (divergedAt === undefined) {
            divergedAt = problems.length;
            const span = lastCheckpointSize === tree.size - 1 ? `entry ${index}` : `entries ${lastCheckpointSize}..${index}`;
            report(span, `do not match the checkpoint signed at size ${tree.size}: root ${toHex(computed)}, signed ${toHex(signedRoot)}`);
          } else {
            laterMismatches++;
          }
        }
        lastCheckpointSize = tree.size;
      }
    }
    options.onProgress?.(tree.size, head.size);
  }
  const first = divergedAt === undefined ? undefined : problems[divergedAt];
  if (first && laterMismatches > 0) {
    problems[divergedAt!] = { where: first.where, what: `${first.what} (and so do the ${laterMismatches} later checkpoints)` };
  }
  if (problems.length > 0) return fail();
  return new VerifiedLog(origin, author!, verifier, head.verifierKey, tree, stored, lastTime);
}
