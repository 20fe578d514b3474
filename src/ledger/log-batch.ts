import { bytesEqual, toHex } from '../bytes.js';
import { NaosError } from '../errors.js';
import { nodeIdFromPublicKey, nodeIdOfOrigin } from '../identity/node-id.js';
import { leafHash } from '../merkle/hash.js';
import { verifyConsistency } from '../merkle/verify.js';
import { type Checkpoint, openCheckpoint } from './checkpoint.js';
import { decodeEntry, type Entry } from './entry.js';
import { timeRegression } from './hlc.js';
import { type NoteVerifier, parseVerifierKey } from './note.js';
import type { VerifiedLog } from './verified-log.js';

/**
 * Checking a batch of another node's log before it is stored (F8). A batch is accepted
 * only if its checkpoint is signed by the log's own key, every entry decodes canonically
 * as that author's entry at its position, the Merkle root over what we already hold plus
 * the new entries equals the signed root, and the consistency proof from the batch start
 * to its end verifies. Anything else is refused with a reason that names what failed.
 */

/** A run of one log's entries with the signed checkpoint at its end — what replication moves. */
export interface LogBatch {
  readonly origin: string;
  /** Verifier key string of the log (self-certifying: the origin names the key's hash). */
  readonly verifierKey: string;
  readonly start: number;
  readonly entries: readonly Uint8Array[];
  /** Signed checkpoint note at size start + entries.length. */
  readonly checkpoint: string;
  /** Consistency proof from size `start` to the checkpoint's size (empty when start is 0). */
  readonly proof: readonly Uint8Array[];
}

export type BatchRejection =
  /** The verifier key is malformed, names another log, or differs from the one we hold. */
  | 'bad-key'
  /** The checkpoint note is malformed, not signed by the log key, or at the wrong size. */
  | 'bad-checkpoint'
  /** An entry is malformed, non-canonical, by another author, at the wrong position, or dated no later than the entry before it. */
  | 'bad-entry'
  /** The entries do not produce the signed root. */
  | 'root-mismatch'
  /** The consistency proof does not verify. */
  | 'bad-proof'
  /** The signed checkpoint contradicts one we hold: the author signed two histories (F11). */
  | 'fork';

export class BatchRejectedError extends NaosError {
  constructor(
    readonly reason: BatchRejection,
    readonly origin: string,
    message: string,
  ) {
    super(`batch of ${origin} refused (${reason}): ${message}`);
  }
}

/** What to do with a batch once its signature and entries check out. */
export type BatchPlan =
  | {
      readonly status: 'append';
      readonly checkpoint: Checkpoint;
      readonly verifier: NoteVerifier;
      /** First position not held yet. */
      readonly from: number;
      /** The batch's entries, decoded (aligned with batch.entries). */
      readonly decoded: readonly Entry[];
    }
  | { readonly status: 'duplicate' }
  | { readonly status: 'gap'; readonly have: number };

/**
 * Checks everything about a batch that does not need the log's tree to change: key,
 * signature, entries, and — for the part we already hold — agreement with our copy.
 * `log` is our verified copy, or undefined if we hold none yet.
 */
export async function planBatch(log: VerifiedLog | undefined, batch: LogBatch): Promise<BatchPlan> {
  const { origin } = batch;
  const reject = (reason: BatchRejection, message: string): never => {
    throw new BatchRejectedError(reason, origin, message);
  };
  let verifier: NoteVerifier;
  try {
    verifier = parseVerifierKey(batch.verifierKey);
  } catch (error) {
    return reject('bad-key', (error as Error).message);
  }
  const author = nodeIdOfOrigin(origin);
  if (verifier.name !== origin) reject('bad-key', `verifier key names ${verifier.name}`);
  if (author === undefined || author !== nodeIdFromPublicKey(verifier.publicKey)) reject('bad-key', 'origin does not name the key');
  if (log && log.verifierKey !== batch.verifierKey) reject('bad-key', 'verifier key differs from the one held for this log');

  let checkpoint: Checkpoint;
  try {
    checkpoint = await openCheckpoint(batch.checkpoint, verifier);
  } catch (error) {
    return reject('bad-checkpoint', (error as Error).message);
  }
  const end = batch.start + batch.entries.length;
  if (checkpoint.size !== end) reject('bad-checkpoint', `checkpoint is at size ${checkpoint.size}, batch ends at ${end}`);
  if (batch.entries.length === 0) reject('bad-checkpoint', 'batch has no entries');
  const decoded = batch.entries.map((bytes, i) => {
    let entry: Entry;
    try {
      entry = decodeEntry(bytes);
    } catch (error) {
      return reject('bad-entry', `entry ${batch.start + i}: ${(error as Error).message}`);
    }
    if (entry.author !== author) reject('bad-entry', `entry ${batch.start + i} is by ${entry.author}`);
    if (entry.seq !== batch.start + i) reject('bad-entry', `entry ${batch.start + i} has seq ${entry.seq}`);
    return entry;
  });

  const held = log?.size ?? 0;
  if (batch.start > held) return { status: 'gap', have: held };
  // The part we already hold must be identical. A difference is a fork (F11) only if the
  // author signed it: entries altered on the way (by a relaying peer) under a genuine
  // checkpoint prove nothing against the author and are refused as a root mismatch.
  const overlapEnd = Math.min(end, held);
  let differs = -1;
  for (let i = batch.start; i < overlapEnd && differs < 0; i++) {
    if (!bytesEqual(leafHash(batch.entries[i - batch.start]!), log!.tree.leafHash(i))) differs = i;
  }
  if (end <= held) {
    if (!bytesEqual(log!.root(end), checkpoint.root)) {
      reject('fork', `checkpoint at size ${end} has root ${toHex(checkpoint.root)}, held copy has ${toHex(log!.root(end))}`);
    }
    if (differs >= 0)
      reject('root-mismatch', `entry ${differs} differs from the copy held, whose root the checkpoint at size ${end} signs`);
    return { status: 'duplicate' };
  }
  if (differs >= 0) {
    if (bytesEqual(claimedRoot(log!, batch), checkpoint.root)) {
      reject('fork', `entry ${differs} differs from the copy held (signed at size ${end})`);
    }
    reject('root-mismatch', `entry ${differs} differs from the copy held, and the batch's entries do not give its signed root`);
  }
  return { status: 'append', checkpoint, verifier, from: held, decoded };
}

/**
 * Root of the history a batch claims: the held leaves before `batch.start`, then the
 * batch's entries. Computed on the log's own tree (truncated, extended, then restored
 * leaf by leaf, all synchronously), so the cost is O(batch + overlap), not O(log size).
 */
function claimedRoot(log: VerifiedLog, batch: LogBatch): Uint8Array {
  const tree = log.tree;
  const held = tree.size;
  const kept = Array.from({ length: held - batch.start }, (_, i) => tree.leafHash(batch.start + i));
  tree.truncate(batch.start);
  try {
    for (const entry of batch.entries) tree.appendData(entry);
    return tree.root();
  } finally {
    tree.truncate(batch.start);
    for (const hash of kept) tree.appendLeafHash(hash);
  }
}

/**
 * Stages the new entries of an `append` plan into the log's tree and checks the signed
 * root, the consistency proof and that the new entries' times rise along the log. On any
 * failure the staging is undone and the batch refused; on success the caller stores it
 * and then commits the log.
 */
export function stageBatch(log: VerifiedLog, batch: LogBatch, plan: Extract<BatchPlan, { status: 'append' }>): void {
  const end = batch.start + batch.entries.length;
  try {
    for (let i = plan.from; i < end; i++) log.tree.appendData(batch.entries[i - batch.start]!);
    const root = log.tree.root(end);
    if (!bytesEqual(root, plan.checkpoint.root)) {
      throw new BatchRejectedError(
        'root-mismatch',
        batch.origin,
        `entries give root ${toHex(root)}, checkpoint signs ${toHex(plan.checkpoint.root)}`,
      );
    }
    if (batch.start > 0) {
      try {
        verifyConsistency(batch.start, end, log.tree.root(batch.start), plan.checkpoint.root, batch.proof);
      } catch (error) {
        throw new BatchRejectedError('bad-proof', batch.origin, (error as Error).message);
      }
    } else if (batch.proof.length > 0) {
      throw new BatchRejectedError('bad-proof', batch.origin, 'a batch from size 0 carries no consistency proof');
    }
    // The author signed these entries (the root checks out): now their times must rise
    // along the log, each after the one before it, as the author's hybrid logical clock
    // makes them. A log that goes back in time is refused from that entry on.
    let previous = plan.from > batch.start ? plan.decoded[plan.from - 1 - batch.start]!.time : log.lastTime;
    for (let i = plan.from; i < end; i++) {
      const time = plan.decoded[i - batch.start]!.time;
      const regression = timeRegression(i, time, previous);
      if (regression) throw new BatchRejectedError('bad-entry', batch.origin, regression);
      previous = time;
    }
  } catch (error) {
    log.rollback();
    throw error;
  }
}
