import { copyBytes } from '../bytes.js';
import { asError } from '../errors.js';
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
} from './ledger-store.js';

/** What the memory store keeps per log; exposed so tests can edit it like a disk editor would. */
export interface MemoryLog {
  head: StoredLogHead;
  entries: Uint8Array[];
  checkpoints: StoredCheckpoint[];
}

/**
 * In-memory LedgerStore for unit tests and the network simulator. Copies bytes in and
 * out. Several instances over one `data` map behave like reopening the same database.
 */
export class MemoryLedgerStore implements LedgerStore {
  readonly #logs: Map<string, MemoryLog>;
  #closed = false;

  constructor(data: Map<string, MemoryLog> = new Map()) {
    this.#logs = data;
  }

  listLogs(): Promise<StoredLogHead[]> {
    return this.#run(() => [...this.#logs.values()].map((log) => ({ ...log.head })));
  }

  createLog(head: StoredLogHead, checkpoint?: StoredCheckpoint): Promise<void> {
    return this.#run(() => {
      if (this.#logs.has(head.origin)) throw new StoreConflictError(`log ${head.origin} already exists`);
      if (head.size !== 0 || (checkpoint && checkpoint.size !== 0)) throw new StoreConflictError('a new log starts at size 0');
      this.#logs.set(head.origin, { head: { ...head }, entries: [], checkpoints: checkpoint ? [{ ...checkpoint }] : [] });
    });
  }

  append(batch: AppendBatch): Promise<void> {
    return this.#run(() => {
      const log = this.#logs.get(batch.origin);
      checkAppendBatch(batch, log?.head.size);
      log!.entries.push(...batch.entries.map(copyBytes));
      log!.checkpoints.push(...batchCheckpoints(batch).map((c) => ({ size: c.size, note: c.note })));
      log!.head = { ...log!.head, size: batch.checkpoint.size };
    });
  }

  replaceLog(replacement: LogReplacement): Promise<void> {
    return this.#run(() => {
      checkReplacement(replacement);
      const { head, entries, checkpoints } = replacement;
      this.#logs.set(head.origin, {
        head: { origin: head.origin, verifierKey: head.verifierKey, size: head.size },
        entries: entries.map(copyBytes),
        checkpoints: checkpoints.map((c) => ({ size: c.size, note: c.note })),
      });
    });
  }

  readEntries(origin: string, start: number, end: number): Promise<Uint8Array[]> {
    return this.#run(() => (this.#logs.get(origin)?.entries.slice(start, end) ?? []).map(copyBytes));
  }

  countEntries(origin: string): Promise<number> {
    return this.#run(() => this.#logs.get(origin)?.entries.length ?? 0);
  }

  readCheckpoints(origin: string): Promise<StoredCheckpoint[]> {
    return this.#run(() => (this.#logs.get(origin)?.checkpoints ?? []).map((c) => ({ ...c })));
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }

  #run<T>(action: () => T): Promise<T> {
    if (this.#closed) return Promise.reject(new StoreUnavailableError('store is closed'));
    try {
      return Promise.resolve(action());
    } catch (error) {
      return Promise.reject(asError(error));
    }
  }
}
