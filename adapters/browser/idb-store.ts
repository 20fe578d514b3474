import { asError, InvalidInputError, NaosError } from '../../src/errors.js';
import {
  type AppendBatch,
  batchCheckpoints,
  checkAppendBatch,
  checkReplacement,
  type LedgerStore,
  type LogReplacement,
  StoreConflictError,
  StoreUnavailableError,
  type StoredCheckpoint,
  type StoredLogHead,
} from '../../src/storage/ledger-store.js';
import { logKeyRange, type NodeDb, openNodeDb } from './node-db.js';

export interface IdbLedgerStoreOptions {
  /**
   * Transaction durability of appends. `strict` (the default) resolves only once the
   * batch is flushed to disk, so a signed checkpoint the kernel has reported survives a
   * power cut; `relaxed` trades that for speed (still atomic across tab crashes).
   */
  readonly durability?: 'strict' | 'relaxed';
}

interface ConnectionState {
  /** Why calls are refused, once the connection is closed. */
  closedBecause?: string;
}

/** Head record sizes that cannot be real (tampered records) read as this, which no log has. */
const INVALID_SIZE = -1;

/**
 * LedgerStore over IndexedDB (the slot database described in node-db.ts). Each append is
 * one readwrite transaction that checks the batch against the head (read once, then as
 * last written), and writes entries, checkpoint and head together, so IndexedDB's atomic
 * commit gives all-or-nothing batches across crashes. Entries and checkpoints are
 * written with `add`, so even a head that was tampered to a smaller size cannot make an
 * append overwrite old bytes.
 *
 * Reads return what is stored without judging it (the core verifies), except that a
 * record of the wrong type is handed on as something the core will reject — never as
 * an exception that would stop the node from reporting the damage.
 */
export class IdbLedgerStore implements LedgerStore {
  readonly name: string;
  readonly #db: NodeDb;
  readonly #durability: 'strict' | 'relaxed';
  readonly #state: ConnectionState;
  /**
   * Each log's head as this connection last wrote it. The slot's Web Lock makes this
   * connection the database's only writer, so an append checks its position against this
   * instead of reading the head record first (one round trip less on every append);
   * `add` still refuses to overwrite any entry if it were ever wrong.
   */
  readonly #heads = new Map<string, StoredLogHead>();

  private constructor(name: string, db: NodeDb, options: IdbLedgerStoreOptions, state: ConnectionState) {
    this.name = name;
    this.#db = db;
    this.#state = state;
    this.#durability = options.durability ?? 'strict';
  }

  /** Opens the slot database `name` (e.g. `naos-node-0`), creating it if needed. */
  static async open(name: string, options: IdbLedgerStoreOptions = {}): Promise<IdbLedgerStore> {
    // The connection can be closed from outside (another tab deleting the database, the
    // browser dropping it) before the store object exists, so the state comes first.
    const state: ConnectionState = {};
    const db = await openNodeDb(name, {
      onVersionChange: () => (state.closedBecause ??= 'another connection is deleting or upgrading the database'),
      onTerminated: () => (state.closedBecause ??= 'the browser closed the database connection'),
    });
    return new IdbLedgerStore(name, db, options, state);
  }

  listLogs(): Promise<StoredLogHead[]> {
    return this.#run('listLogs', async () => {
      const heads: StoredLogHead[] = [];
      let cursor = await this.#db.transaction('heads').store.openCursor();
      while (cursor) {
        heads.push(readHead(cursor.key, cursor.value));
        cursor = await cursor.continue();
      }
      return heads;
    });
  }

  /** A log's head, with its size-0 checkpoint for the node's own log (a replica starts without one). */
  createLog(head: StoredLogHead, checkpoint?: StoredCheckpoint): Promise<void> {
    return this.#run('createLog', async () => {
      if (head.size !== 0 || (checkpoint && checkpoint.size !== 0)) throw new StoreConflictError('a new log starts at size 0');
      const tx = this.#db.transaction(['heads', 'checkpoints'], 'readwrite', { durability: this.#durability });
      await Promise.all([
        tx.objectStore('heads').add({ origin: head.origin, verifierKey: head.verifierKey, size: 0 }),
        ...(checkpoint ? [tx.objectStore('checkpoints').add({ size: 0, note: checkpoint.note }, [head.origin, 0])] : []),
        tx.done,
      ]).catch((error: unknown) => {
        throw isConstraintError(error) ? new StoreConflictError(`log ${head.origin} already exists`, { cause: error }) : error;
      });
    });
  }

  append(batch: AppendBatch): Promise<void> {
    return this.#run('append', async () => {
      if (!batch.entries.every((entry) => entry instanceof Uint8Array)) throw new InvalidInputError('batch entries must be Uint8Arrays');
      const durability = batch.durability ?? this.#durability;
      const tx = this.#db.transaction(['heads', 'entries', 'checkpoints'], 'readwrite', { durability });
      // Taken out while this write runs: a failed write leaves it out, and the next append reads the record.
      let head = this.#heads.get(batch.origin);
      this.#heads.delete(batch.origin);
      if (!head) {
        const stored = await tx.objectStore('heads').get(batch.origin);
        head = stored === undefined ? undefined : readHead(batch.origin, stored);
      }
      try {
        checkAppendBatch(batch, head?.size);
      } catch (error) {
        tx.abort();
        await tx.done.catch(() => undefined);
        throw error;
      }
      const entries = tx.objectStore('entries');
      // All requests are issued before the first await so the transaction stays active;
      // awaiting them together also observes every rejection (no unhandled ones).
      const writes: Promise<unknown>[] = batch.entries.map((bytes, i) => entries.add(bytes.slice(), [batch.origin, batch.start + i]));
      const checkpoints = tx.objectStore('checkpoints');
      for (const { size, note } of batchCheckpoints(batch)) writes.push(checkpoints.add({ size, note }, [batch.origin, size]));
      const written = { origin: batch.origin, verifierKey: head!.verifierKey, size: batch.checkpoint.size };
      writes.push(tx.objectStore('heads').put(written));
      // Everything is asked for: commit now instead of when the last answer has come back.
      tx.commit();
      await Promise.all([...writes, tx.done]).catch((error: unknown) => {
        throw isConstraintError(error)
          ? new StoreConflictError(`log ${batch.origin} already holds a record at ${batch.start}..${batch.checkpoint.size}`, {
              cause: error,
            })
          : error;
      });
      this.#heads.set(batch.origin, written);
    });
  }

  /**
   * One transaction deletes every entry and checkpoint record of the log (also any past
   * the head, or under a tampered one) and writes the replacement, so IndexedDB's atomic
   * commit leaves either the old log or the new one after a crash.
   */
  replaceLog(replacement: LogReplacement): Promise<void> {
    return this.#run('replaceLog', async () => {
      checkReplacement(replacement);
      const { origin } = replacement.head;
      // Copied before the transaction opens: nothing that can throw is left between its first
      // delete and its last write.
      const written = { origin, verifierKey: replacement.head.verifierKey, size: replacement.head.size };
      const entries = replacement.entries.map((bytes) => bytes.slice());
      const checkpoints = replacement.checkpoints.map((c) => ({ size: c.size, note: c.note }));
      // Strict whatever the store's setting: a repair that a power cut could undo would
      // bring the damaged log back after the kernel had reported it repaired.
      const tx = this.#db.transaction(['heads', 'entries', 'checkpoints'], 'readwrite', { durability: 'strict' });
      // Out of the cache until the new head is committed; a failed write leaves the next
      // append to read the record.
      this.#heads.delete(origin);
      const writes: Promise<unknown>[] = [];
      try {
        // All requests are issued before the first await so the transaction stays active.
        const entryStore = tx.objectStore('entries');
        const checkpointStore = tx.objectStore('checkpoints');
        writes.push(entryStore.delete(logKeyRange(origin)), checkpointStore.delete(logKeyRange(origin)));
        entries.forEach((bytes, i) => writes.push(entryStore.add(bytes, [origin, i])));
        checkpoints.forEach((checkpoint) => writes.push(checkpointStore.add(checkpoint, [origin, checkpoint.size])));
        writes.push(tx.objectStore('heads').put(written));
      } catch (error) {
        // A request refused synchronously must not let the deletes commit on their own.
        tx.abort();
        await Promise.allSettled([...writes, tx.done]);
        throw error;
      }
      tx.commit();
      // Awaiting them together also observes every rejection (no unhandled ones).
      await Promise.all([...writes, tx.done]);
      this.#heads.set(origin, written);
    });
  }

  readEntries(origin: string, start: number, end: number): Promise<Uint8Array[]> {
    return this.#run('readEntries', async () => {
      assertPosition(start, 'start');
      assertPosition(end, 'end');
      if (!(end > start)) return [];
      const range = IDBKeyRange.bound([origin, start], [origin, end], false, true);
      const tx = this.#db.transaction('entries');
      const [keys, values] = await Promise.all([tx.store.getAllKeys(range), tx.store.getAll(range), tx.done]);
      const out: Uint8Array[] = [];
      // Stop at the first gap: positions must be start, start + 1, … with nothing missing.
      for (let i = 0; i < keys.length && keys[i]![1] === start + i; i++) out.push(readBytes(values[i]));
      return out;
    });
  }

  countEntries(origin: string): Promise<number> {
    return this.#run('countEntries', () => this.#db.count('entries', logKeyRange(origin)));
  }

  readCheckpoints(origin: string): Promise<StoredCheckpoint[]> {
    return this.#run('readCheckpoints', async () => {
      const tx = this.#db.transaction('checkpoints');
      const [keys, values] = await Promise.all([tx.store.getAllKeys(logKeyRange(origin)), tx.store.getAll(logKeyRange(origin)), tx.done]);
      return keys.map((key, i) => readCheckpoint(key[1], values[i]));
    });
  }

  close(): Promise<void> {
    if (this.#state.closedBecause === undefined) {
      this.#state.closedBecause = 'the store is closed';
      this.#db.close();
    }
    return Promise.resolve();
  }

  async #run<T>(operation: string, action: () => Promise<T>): Promise<T> {
    if (this.#state.closedBecause !== undefined) {
      throw new StoreUnavailableError(`${operation} on IndexedDB ${this.name}: ${this.#state.closedBecause}`);
    }
    try {
      return await action();
    } catch (error) {
      if (error instanceof NaosError || error instanceof TypeError || error instanceof RangeError) throw error;
      const cause = asError(error);
      const why = this.#state.closedBecause ?? `${cause.name}: ${cause.message}`;
      throw new StoreUnavailableError(`${operation} on IndexedDB ${this.name} failed: ${why}`, { cause });
    }
  }
}

function isConstraintError(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'ConstraintError';
}

function assertPosition(value: number, what: string): void {
  if (typeof value !== 'number' || Number.isNaN(value)) throw new TypeError(`${what} must be a number, got ${String(value)}`);
}

function readHead(origin: string, value: unknown): StoredLogHead {
  const record = (typeof value === 'object' && value !== null ? value : {}) as Partial<Record<keyof StoredLogHead, unknown>>;
  return {
    origin,
    verifierKey: typeof record.verifierKey === 'string' ? record.verifierKey : '',
    size: Number.isSafeInteger(record.size) && (record.size as number) >= 0 ? (record.size as number) : INVALID_SIZE,
  };
}

function readCheckpoint(size: number, value: unknown): StoredCheckpoint {
  const record = (typeof value === 'object' && value !== null ? value : {}) as Partial<Record<keyof StoredCheckpoint, unknown>>;
  // The key is where the checkpoint is filed; a record whose own size disagrees is
  // handed on with its note, and the signature check reports the mismatch.
  return { size, note: typeof record.note === 'string' ? record.note : '' };
}

/** A stored value that is not bytes (a tampered record) becomes empty bytes, which never decode as an entry. */
function readBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  return new Uint8Array(0);
}
