import { type DBSchema, type IDBPDatabase, openDB } from 'idb';
import { asError } from '../../src/errors.js';
import { StoreUnavailableError } from '../../src/storage/ledger-store.js';

/**
 * The IndexedDB database of one node slot (`naos-node-0`, `naos-node-1`, …): its
 * identity key pair and every log it holds. One schema for both, so the slot's storage
 * namespace is exactly one database that can be inspected, exported or deleted whole.
 *
 *   heads        origin            → { origin, verifierKey, size }
 *   entries      [origin, index]   → entry bytes (Uint8Array)
 *   checkpoints  [origin, size]    → { size, note }
 *   identity     'node'            → { publicKey, privateKey } (CryptoKey objects)
 *
 * Array keys with numeric components sort numerically, so ranges over one log's entries
 * and checkpoints are key ranges; `[origin]` sorts before and `[origin, []]` after every
 * `[origin, n]` (arrays sort after numbers), which bounds "all of this log".
 */
export interface NodeDbSchema extends DBSchema {
  heads: { key: string; value: StoredHeadRecord };
  entries: { key: [string, number]; value: Uint8Array };
  checkpoints: { key: [string, number]; value: StoredCheckpointRecord };
  identity: { key: string; value: StoredIdentityRecord };
}

export interface StoredHeadRecord {
  readonly origin: string;
  readonly verifierKey: string;
  readonly size: number;
}

export interface StoredCheckpointRecord {
  readonly size: number;
  readonly note: string;
}

export interface StoredIdentityRecord {
  readonly publicKey: CryptoKey;
  readonly privateKey: CryptoKey;
}

export type NodeDb = IDBPDatabase<NodeDbSchema>;

export const NODE_DB_VERSION = 1;
export const IDENTITY_KEY = 'node';

/** Every key of one log in a store keyed by `[origin, number]`. */
export function logKeyRange(origin: string): IDBKeyRange {
  return IDBKeyRange.bound([origin], [origin, []]);
}

export interface NodeDbEvents {
  /** Another connection wants to delete or upgrade the database; this one has been closed. */
  readonly onVersionChange?: () => void;
  /** The browser closed the connection abnormally (storage cleared, disk error). */
  readonly onTerminated?: () => void;
}

/**
 * Opens (creating or upgrading) a slot database. Failures — a newer schema on disk, a
 * blocked upgrade, storage disabled — become StoreUnavailableError naming the database.
 */
export async function openNodeDb(name: string, events: NodeDbEvents = {}): Promise<NodeDb> {
  let db: NodeDb | undefined;
  let blocked = false;
  let rejectBlocked: (error: Error) => void = () => undefined;
  const whenBlocked = new Promise<never>((_, reject) => (rejectBlocked = reject));
  const opening = openDB<NodeDbSchema>(name, NODE_DB_VERSION, {
    upgrade(db, oldVersion) {
      if (oldVersion < 1) {
        db.createObjectStore('heads', { keyPath: 'origin' });
        db.createObjectStore('entries');
        db.createObjectStore('checkpoints');
        db.createObjectStore('identity');
      }
    },
    blocked(currentVersion) {
      blocked = true;
      rejectBlocked(
        new StoreUnavailableError(
          `IndexedDB database ${name} is held open at version ${currentVersion} by another tab; close it and reload`,
        ),
      );
    },
    blocking() {
      // Let the other connection proceed (a schema upgrade or a deletion): holding the
      // database open would stall it forever. Later calls here fail as unavailable.
      db?.close();
      events.onVersionChange?.();
    },
    terminated() {
      events.onTerminated?.();
    },
  });
  try {
    db = await Promise.race([opening, whenBlocked]);
    return db;
  } catch (error) {
    // If the open was blocked it may still succeed later; close it then.
    if (blocked) void opening.then((late) => late.close()).catch(() => undefined);
    if (error instanceof StoreUnavailableError) throw error;
    const cause = asError(error);
    const why = cause.name === 'VersionError' ? `it was written by a newer Naos (schema above v${NODE_DB_VERSION})` : cause.message;
    throw new StoreUnavailableError(`cannot open IndexedDB database ${name}: ${why}`, { cause });
  }
}
