import { ClassicLevel } from 'classic-level';
import { asError, NaosError } from '../../src/errors.js';
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

/**
 * A durable LedgerStore over LevelDB (classic-level), for the CLI and the always-on
 * Node peer.
 *
 * Layout — binary keys, so LevelDB's byte order is the numeric order of indices:
 *
 *   0x01 ‖ u16be(len) ‖ origin                 → head: UTF-8 JSON {verifierKey, size}
 *   0x02 ‖ u16be(len) ‖ origin ‖ u64be(index)  → entry bytes
 *   0x03 ‖ u16be(len) ‖ origin ‖ u64be(size)   → checkpoint note, UTF-8
 *
 * The origin is length-prefixed so one log's key range can never contain another's,
 * whatever characters origins hold.
 *
 * Atomicity: an append is one LevelDB write batch holding the entries, the checkpoint
 * and the new head. LevelDB writes a batch as one checksummed log record, so after a
 * crash it is replayed whole or not at all. Writes are serialised through a promise
 * chain inside the adapter, so the "start equals stored size" check and the write it
 * guards cannot interleave with another append from this process; LevelDB's own LOCK
 * file keeps other processes out of the directory. Replacing a log is likewise one batch:
 * a delete of every key the log has (read inside the write chain, so the list is
 * complete when the batch is written) followed by the replacement's puts.
 */

const TAG_HEAD = 0x01;
const TAG_ENTRY = 0x02;
const TAG_CHECKPOINT = 0x03;
const MAX_ORIGIN_BYTES = 0xffff;

export interface LevelStoreOptions {
  /**
   * fsync every append before it resolves (LevelDB `sync`). Default true: "durable" then
   * holds across power loss, not only across a process crash. (A log replacement is
   * always synced.)
   */
  readonly sync?: boolean;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function originPrefix(tag: number, origin: string): Uint8Array {
  const name = encoder.encode(origin);
  if (name.length === 0 || name.length > MAX_ORIGIN_BYTES) {
    throw new StoreConflictError(`log origin must be 1..${MAX_ORIGIN_BYTES} bytes of UTF-8, got ${name.length}`);
  }
  const key = new Uint8Array(3 + name.length);
  key[0] = tag;
  key[1] = name.length >> 8;
  key[2] = name.length & 0xff;
  key.set(name, 3);
  return key;
}

function indexedKey(tag: number, origin: string, index: number): Uint8Array {
  const prefix = originPrefix(tag, origin);
  const key = new Uint8Array(prefix.length + 8);
  key.set(prefix);
  new DataView(key.buffer).setBigUint64(prefix.length, BigInt(index));
  return key;
}

/** [gte, lt) covering every indexed key of one origin under `tag`. */
function originRange(tag: number, origin: string): { gte: Uint8Array; lt: Uint8Array } {
  const prefix = originPrefix(tag, origin);
  // Every key of the origin is prefix ‖ 8 index bytes, so prefix ‖ 0xff×9 is above all of
  // them; the length prefix keeps any other origin's keys outside [prefix, that).
  return { gte: prefix, lt: concat(prefix, new Uint8Array(9).fill(0xff)) };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function indexOfKey(key: Uint8Array): number {
  return Number(new DataView(key.buffer, key.byteOffset, key.byteLength).getBigUint64(key.length - 8));
}

function encodeHead(head: StoredLogHead): Uint8Array {
  return encoder.encode(JSON.stringify({ verifierKey: head.verifierKey, size: head.size }));
}

/**
 * Decodes a stored head without trusting it. A record damaged beyond reading still
 * yields a head (with an empty verifier key), so the core's verification reports the
 * log as damaged instead of the whole store failing to list.
 */
function decodeHead(origin: string, value: Uint8Array): StoredLogHead {
  try {
    const parsed = JSON.parse(decoder.decode(value)) as { verifierKey?: unknown; size?: unknown };
    if (typeof parsed.verifierKey === 'string' && Number.isSafeInteger(parsed.size) && (parsed.size as number) >= 0) {
      return { origin, verifierKey: parsed.verifierKey, size: parsed.size as number };
    }
  } catch {
    // Falls through to the unreadable-head result.
  }
  return { origin, verifierKey: '', size: 0 };
}

/**
 * The key layout, exported for tests and tools that inspect or deliberately damage a
 * store directly (the contract harness edits LevelDB behind the adapter's back).
 */
export const levelLayout = {
  headKey: (origin: string): Uint8Array => originPrefix(TAG_HEAD, origin),
  entryKey: (origin: string, index: number): Uint8Array => indexedKey(TAG_ENTRY, origin, index),
  checkpointKey: (origin: string, size: number): Uint8Array => indexedKey(TAG_CHECKPOINT, origin, size),
  encodeHead,
  decodeHead,
} as const;

type Db = ClassicLevel<Uint8Array, Uint8Array>;
type Operation = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array };

export class LevelLedgerStore implements LedgerStore {
  readonly #db: Db;
  readonly #sync: boolean;
  readonly location: string;
  /** Tail of the write chain; every mutation runs after the previous one settles. */
  #writes: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(db: Db, location: string, options: LevelStoreOptions) {
    this.#db = db;
    this.location = location;
    this.#sync = options.sync ?? true;
  }

  /**
   * Opens (creating if missing) the LevelDB database in directory `location`. Fails with
   * StoreUnavailableError if it cannot be opened — e.g. another process holds it.
   */
  static async open(location: string, options: LevelStoreOptions = {}): Promise<LevelLedgerStore> {
    const db: Db = new ClassicLevel<Uint8Array, Uint8Array>(location, { keyEncoding: 'view', valueEncoding: 'view' });
    try {
      await db.open();
    } catch (error) {
      const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
      const detail = typeof cause?.message === 'string' ? cause.message : (error as Error).message;
      const why = cause?.code === 'LEVEL_LOCKED' ? 'it is in use by another process' : detail;
      throw new StoreUnavailableError(`cannot open the ledger database at ${location}: ${why}`, { cause: error });
    }
    return new LevelLedgerStore(db, location, options);
  }

  listLogs(): Promise<StoredLogHead[]> {
    return this.#read('list logs', async () => {
      const rows = await this.#db.iterator({ gte: new Uint8Array([TAG_HEAD]), lt: new Uint8Array([TAG_HEAD + 1]) }).all();
      return rows.map(([key, value]) => decodeHead(decoder.decode(key.subarray(3)), value));
    });
  }

  createLog(head: StoredLogHead, checkpoint?: StoredCheckpoint): Promise<void> {
    return this.#write(`create log ${head.origin}`, async () => {
      if (head.size !== 0 || (checkpoint && checkpoint.size !== 0)) throw new StoreConflictError('a new log starts at size 0');
      const headKey = levelLayout.headKey(head.origin);
      if ((await this.#db.get(headKey)) !== undefined) throw new StoreConflictError(`log ${head.origin} already exists`);
      // Entries or checkpoints without a head mean a damaged store (a lost head record);
      // writing a fresh log over them would silently mix two histories.
      const strays =
        (await this.#db.keys({ ...originRange(TAG_ENTRY, head.origin), limit: 1 }).all()).length +
        (await this.#db.keys({ ...originRange(TAG_CHECKPOINT, head.origin), limit: 1 }).all()).length;
      if (strays > 0) {
        throw new StoreConflictError(
          `log ${head.origin} has no head record but has stored entries or checkpoints; refusing to overwrite them`,
        );
      }
      const operations = [{ type: 'put' as const, key: headKey, value: encodeHead(head) }];
      if (checkpoint)
        operations.push({ type: 'put', key: levelLayout.checkpointKey(head.origin, 0), value: encoder.encode(checkpoint.note) });
      await this.#db.batch(operations, { sync: this.#sync });
    });
  }

  append(batch: AppendBatch): Promise<void> {
    return this.#write(`append to ${batch.origin}`, async () => {
      const stored = await this.#db.get(levelLayout.headKey(batch.origin));
      const head = stored === undefined ? undefined : decodeHead(batch.origin, stored);
      checkAppendBatch(batch, head?.size);
      const operations = batch.entries.map((bytes, i) => ({
        type: 'put' as const,
        key: levelLayout.entryKey(batch.origin, batch.start + i),
        value: bytes,
      }));
      for (const checkpoint of batchCheckpoints(batch)) {
        operations.push({
          type: 'put',
          key: levelLayout.checkpointKey(batch.origin, checkpoint.size),
          value: encoder.encode(checkpoint.note),
        });
      }
      operations.push({
        type: 'put',
        key: levelLayout.headKey(batch.origin),
        value: encodeHead({ ...head!, size: batch.checkpoint.size }),
      });
      await this.#db.batch(operations, { sync: this.#sync });
    });
  }

  replaceLog(replacement: LogReplacement): Promise<void> {
    const { head } = replacement;
    let puts: Operation[];
    try {
      checkReplacement(replacement);
      // Built, with copies of the bytes, now rather than when the queued write runs, so a
      // caller reusing its buffers meanwhile cannot change what is stored.
      puts = replacement.entries.map((bytes, i) => ({ type: 'put', key: levelLayout.entryKey(head.origin, i), value: bytes.slice() }));
      for (const checkpoint of replacement.checkpoints) {
        puts.push({ type: 'put', key: levelLayout.checkpointKey(head.origin, checkpoint.size), value: encoder.encode(checkpoint.note) });
      }
      puts.push({ type: 'put', key: levelLayout.headKey(head.origin), value: encodeHead(head) });
    } catch (error) {
      return Promise.reject(asError(error));
    }
    return this.#write(`replace log ${head.origin}`, async () => {
      // LevelDB has no range delete: every key the log has, including any past its head,
      // is deleted by name. A batch applies in order, so a put after a delete of the same key wins.
      const stale = [
        ...(await this.#db.keys(originRange(TAG_ENTRY, head.origin)).all()),
        ...(await this.#db.keys(originRange(TAG_CHECKPOINT, head.origin)).all()),
      ];
      const deletes = stale.map((key): Operation => ({ type: 'del', key }));
      // Always synced: it overwrites records, so a lost write would leave the damaged ones.
      await this.#db.batch([...deletes, ...puts], { sync: true });
    });
  }

  readEntries(origin: string, start: number, end: number): Promise<Uint8Array[]> {
    return this.#read(`read entries of ${origin}`, async () => {
      const from = Math.max(0, Math.trunc(start));
      const to = Math.min(Math.trunc(end), Number.MAX_SAFE_INTEGER);
      if (!(to > from)) return [];
      const rows = await this.#db.iterator({ gte: levelLayout.entryKey(origin, from), lt: levelLayout.entryKey(origin, to) }).all();
      const out: Uint8Array[] = [];
      for (const [key, value] of rows) {
        if (indexOfKey(key) !== from + out.length) break; // a gap: stop at the first missing entry
        out.push(new Uint8Array(value));
      }
      return out;
    });
  }

  countEntries(origin: string): Promise<number> {
    return this.#read(`count entries of ${origin}`, async () => {
      const keys = this.#db.keys(originRange(TAG_ENTRY, origin));
      let count = 0;
      try {
        for (let chunk = await keys.nextv(4096); chunk.length > 0; chunk = await keys.nextv(4096)) count += chunk.length;
      } finally {
        await keys.close();
      }
      return count;
    });
  }

  readCheckpoints(origin: string): Promise<StoredCheckpoint[]> {
    return this.#read(`read checkpoints of ${origin}`, async () => {
      const rows = await this.#db.iterator(originRange(TAG_CHECKPOINT, origin)).all();
      return rows.map(([key, value]) => ({ size: indexOfKey(key), note: decoder.decode(value) }));
    });
  }

  /** Waits for queued writes, then closes the database. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#writes.catch(() => undefined);
    try {
      await this.#db.close();
    } catch (error) {
      throw new StoreUnavailableError(`closing the ledger database at ${this.location} failed`, { cause: error });
    }
  }

  #read<T>(what: string, action: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new StoreUnavailableError(`cannot ${what}: the store is closed`));
    return this.#guard(what, action);
  }

  #write(what: string, action: () => Promise<void>): Promise<void> {
    if (this.#closed) return Promise.reject(new StoreUnavailableError(`cannot ${what}: the store is closed`));
    const result = this.#writes.then(() => this.#guard(what, action));
    this.#writes = result.catch(() => undefined);
    return result;
  }

  /** Our own refusals pass through; anything LevelDB throws becomes StoreUnavailableError. */
  async #guard<T>(what: string, action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      if (error instanceof NaosError) throw error;
      throw new StoreUnavailableError(`cannot ${what} at ${this.location}: ${(error as Error).message}`, { cause: error });
    }
  }
}
