import { NaosError } from '../errors.js';

/**
 * Where a node keeps the logs it holds. One interface, several adapters (IndexedDB in the
 * browser, LevelDB in Node, memory in tests) that all pass tests/contract/ledger-store.ts.
 *
 * The store is deliberately dumb: it keeps bytes and refuses only what would break its
 * own invariants (gaps, overwrites). Everything it returns is re-verified by the core
 * (src/ledger/stored-log.ts) before use, so a damaged store is detected, not trusted.
 */
export interface LedgerStore {
  /** Every log held, with its committed head. */
  listLogs(): Promise<StoredLogHead[]>;

  /**
   * Adds a log with no entries — for the node's own log with its first (size 0)
   * checkpoint, for a replica without one. Fails with StoreConflictError if the origin
   * exists.
   */
  createLog(head: StoredLogHead, checkpoint?: StoredCheckpoint): Promise<void>;

  /**
   * Atomically appends `entries` at positions `start`, `start + 1`, … together with the
   * checkpoint signed over the new size, and advances the head. Either all of it is
   * durable afterwards or none of it (also across a crash). Requires `start` to equal the
   * stored size; otherwise StoreConflictError and nothing is written.
   */
  append(batch: AppendBatch): Promise<void>;

  /**
   * Atomically replaces everything stored for the log `replacement.head.origin` — head,
   * entries and checkpoints, whatever state they are in — with `replacement`, creating
   * the log if it does not exist. Durable (strict) once it resolves; after a crash either
   * the old records or the new ones are there, never a mix. Used only to repair a log
   * found damaged on open with a copy verified from peers (F6); validated with
   * checkReplacement (StoreConflictError, nothing written, if it is not a consistent log).
   */
  replaceLog(replacement: LogReplacement): Promise<void>;

  /** Entry bytes at positions [start, end), in order; stops early at the first missing one. */
  readEntries(origin: string, start: number, end: number): Promise<Uint8Array[]>;

  /** Number of entries stored for the log, whatever the head says (for integrity checks). */
  countEntries(origin: string): Promise<number>;

  /** Every checkpoint of the log, by ascending size. */
  readCheckpoints(origin: string): Promise<StoredCheckpoint[]>;

  close(): Promise<void>;
}

export interface StoredLogHead {
  readonly origin: string;
  /** C2SP verifier key string of the log's signing key. */
  readonly verifierKey: string;
  readonly size: number;
}

export interface StoredCheckpoint {
  readonly size: number;
  /** The signed note, exactly as signed. */
  readonly note: string;
}

export interface AppendBatch {
  readonly origin: string;
  readonly start: number;
  readonly entries: readonly Uint8Array[];
  readonly checkpoint: StoredCheckpoint;
  /**
   * Checkpoints signed at sizes inside the batch (start < size < checkpoint.size, ascending),
   * stored with it: what batches merged into one write (a replica's write-behind) carried.
   */
  readonly earlierCheckpoints?: readonly StoredCheckpoint[];
  /**
   * `relaxed`: losing this batch in a power cut is acceptable (a replica of another node's
   * log, which peers can send again), so a store may acknowledge it before it is flushed.
   * Absent: the store's own durability (strict unless configured otherwise). Atomicity is
   * the same either way.
   */
  readonly durability?: 'relaxed';
}

/** A whole log to store in place of what is there (LedgerStore.replaceLog). */
export interface LogReplacement {
  readonly head: StoredLogHead;
  /** Entries 0 … head.size − 1. */
  readonly entries: readonly Uint8Array[];
  /** By ascending size, the last one at head.size. */
  readonly checkpoints: readonly StoredCheckpoint[];
}

/** The store refused a write that would break append-only order. Nothing was written. */
export class StoreConflictError extends NaosError {}

/** The store itself failed (quota, I/O, closed). */
export class StoreUnavailableError extends NaosError {}

/** Validation every adapter applies before writing, so they all refuse the same things. */
export function checkAppendBatch(batch: AppendBatch, storedSize: number | undefined): void {
  if (storedSize === undefined) throw new StoreConflictError(`log ${batch.origin} does not exist`);
  if (batch.start !== storedSize) {
    throw new StoreConflictError(`log ${batch.origin} has ${storedSize} entries; cannot append at ${batch.start}`);
  }
  if (batch.checkpoint.size !== batch.start + batch.entries.length) {
    throw new StoreConflictError(
      `checkpoint size ${batch.checkpoint.size} does not cover entries ${batch.start}..${batch.start + batch.entries.length - 1}`,
    );
  }
  let previous = batch.start;
  for (const { size } of batch.earlierCheckpoints ?? []) {
    if (!Number.isSafeInteger(size) || size <= previous || size >= batch.checkpoint.size) {
      throw new StoreConflictError(
        `earlier checkpoints of a batch must ascend strictly between ${batch.start} and ${batch.checkpoint.size}, got size ${size}`,
      );
    }
    previous = size;
  }
}

/** Every checkpoint a batch stores, by ascending size (its earlier ones, then its own). */
export function batchCheckpoints(batch: AppendBatch): readonly StoredCheckpoint[] {
  return [...(batch.earlierCheckpoints ?? []), batch.checkpoint];
}

/** Validation every adapter applies before replacing a log. */
export function checkReplacement(replacement: LogReplacement): void {
  const { head, entries, checkpoints } = replacement;
  if (!Number.isSafeInteger(head.size) || head.size < 1 || entries.length !== head.size) {
    throw new StoreConflictError(`a replacement of ${head.origin} needs its ${head.size} entries and at least one`);
  }
  if (!entries.every((entry) => entry instanceof Uint8Array)) throw new StoreConflictError('replacement entries must be Uint8Arrays');
  const sizes = checkpoints.map((c) => c.size);
  const ascending = sizes.every((size, i) => Number.isSafeInteger(size) && size >= 0 && (i === 0 || size > sizes[i - 1]!));
  if (!ascending || sizes[sizes.length - 1] !== head.size) {
    throw new StoreConflictError(`replacement checkpoints of ${head.origin} must ascend and end at size ${head.size}`);
  }
}
