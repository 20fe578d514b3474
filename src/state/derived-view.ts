import { toHex, utf8 } from '../bytes.js';
import { sha256 } from '../crypto/sha256.js';
import { InvalidInputError } from '../errors.js';
import type { Hlc } from '../ledger/hlc.js';
import { assertJsonValue, type JsonValue } from '../ledger/json-value.js';

/**
 * The state every node derives from the union of the logs it holds (F12). It depends
 * only on the set of entries, never on the order they arrived in, so nodes holding the
 * same entries derive the same view, bit for bit (see `digest`).
 *
 * - Entries are ordered by (HLC time, author, seq): `timeline`.
 * - `set` entries `{key, value, base}` write a key; `base` is the id of the write the
 *   author saw as the key's current value (null for the first). A key's value is its
 *   latest write by (time, author, seq) — the same everywhere.
 * - Two writes to one key with the same base by different authors were made without
 *   either seeing the other. If their values differ that is drift: it resolves as above,
 *   and is reported as a DriftEvent naming every contender and the winner, on every
 *   node alike.
 */

export const SET_KIND = 'set';

export interface SetPayload {
  readonly key: string;
  readonly value: JsonValue;
  /** Entry id of the write this one replaces, as its author saw it; null for a new key. */
  readonly base: string | null;
}

export interface ViewEntry {
  readonly id: string;
  readonly author: string;
  readonly seq: number;
  readonly time: Hlc;
  readonly kind: string;
  readonly payload: JsonValue;
}

/** One write of a key. */
export interface KeyValue {
  readonly key: string;
  readonly value: JsonValue;
  /** Entry id of the write. */
  readonly id: string;
  readonly author: string;
  readonly seq: number;
  readonly time: Hlc;
}

export interface DriftEvent {
  /**
   * Entry kind of the contending writes: `set` for a key of the derived state;
   * `policy.register` for an agent registered by several nodes, `module.publish` for a
   * module version published by several nodes with different content
   * (src/agents/agent-ledger.ts).
   */
  readonly kind: string;
  /** The key written (the agent id for `policy.register`, `name@version` for `module.publish`). */
  readonly key: string;
  /** The write all contenders replaced (null: they all created the key). */
  readonly base: string | null;
  readonly contenders: readonly KeyValue[];
  readonly winner: string;
}

const MAX_KEY_LENGTH = 256;

/** Checks a `set` payload; refuses a malformed one with InvalidInputError. */
export function parseSetPayload(payload: unknown): SetPayload {
  const p = payload as Partial<SetPayload> | null;
  if (typeof p !== 'object' || p === null || Array.isArray(p)) throw new InvalidInputError('set payload must be {key, value, base}');
  const keys = Object.keys(p).sort().join(',');
  if (keys !== 'base,key,value') throw new InvalidInputError(`set payload must have exactly base, key, value; got ${keys}`);
  if (typeof p.key !== 'string' || p.key.length === 0 || p.key.length > MAX_KEY_LENGTH) {
    throw new InvalidInputError(`set key must be a string of 1..${MAX_KEY_LENGTH} characters`);
  }
  if (p.base !== null && typeof p.base !== 'string') throw new InvalidInputError('set base must be an entry id or null');
  assertJsonValue(p.value, '$.value');
  return { key: p.key, value: p.value, base: p.base };
}

export function compareEntries(a: Pick<ViewEntry, 'time' | 'author' | 'seq'>, b: Pick<ViewEntry, 'time' | 'author' | 'seq'>): number {
  return (
    a.time.wall - b.time.wall || a.time.count - b.time.count || (a.author < b.author ? -1 : a.author > b.author ? 1 : 0) || a.seq - b.seq
  );
}

export class DerivedView {
  readonly #timeline: ViewEntry[] = [];
  readonly #seen = new Set<string>();
  readonly #winners = new Map<string, KeyValue>();
  /** key → base → writes with that base */
  readonly #siblings = new Map<string, Map<string, KeyValue[]>>();
  /** Writes whose payload is not a valid set (kept in the timeline, ignored for keys). */
  #malformedSets = 0;

  /** Adds an entry; adding the same entry again changes nothing. */
  apply(entry: ViewEntry): void {
    if (this.#seen.has(entry.id)) return;
    this.#seen.add(entry.id);
    this.#insert(entry);
    if (entry.kind !== SET_KIND) return;
    let set: SetPayload;
    try {
      set = parseSetPayload(entry.payload);
    } catch {
      this.#malformedSets++;
      return;
    }
    const write: KeyValue = { key: set.key, value: set.value, id: entry.id, author: entry.author, seq: entry.seq, time: entry.time };
    const current = this.#winners.get(set.key);
    if (!current || compareEntries(write, current) > 0) this.#winners.set(set.key, write);
    let byBase = this.#siblings.get(set.key);
    if (!byBase) this.#siblings.set(set.key, (byBase = new Map<string, KeyValue[]>()));
    const base = set.base ?? '';
    byBase.set(base, [...(byBase.get(base) ?? []), write]);
  }

  get size(): number {
    return this.#timeline.length;
  }

  get malformedSets(): number {
    return this.#malformedSets;
  }

  get(key: string): KeyValue | undefined {
    return this.#winners.get(key);
  }

  entries(): KeyValue[] {
    return [...this.#winners.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Entries in (time, author, seq) order; `limit` from the end. */
  timeline(limit = Infinity): ViewEntry[] {
    return this.#timeline.slice(Math.max(0, this.#timeline.length - limit));
  }

  /** Every conflict: writes to one key from one base with different values. */
  drift(): DriftEvent[] {
    const events: DriftEvent[] = [];
    for (const [key, byBase] of [...this.#siblings].sort(([a], [b]) => (a < b ? -1 : 1))) {
      for (const [base, writes] of [...byBase].sort(([a], [b]) => (a < b ? -1 : 1))) {
        // One author's writes are ordered by its own log, so only writes by different
        // authors can be concurrent; and equal values do not conflict.
        if (new Set(writes.map((w) => w.author)).size < 2) continue;
        if (new Set(writes.map((w) => JSON.stringify(w.value))).size < 2) continue;
        const contenders = [...writes].sort(compareEntries);
        events.push({ kind: SET_KIND, key, base: base === '' ? null : base, contenders, winner: contenders[contenders.length - 1]!.id });
      }
    }
    return events;
  }

  /** SHA-256 over the keys, their winning writes and the drift events — equal on nodes with equal entries. */
  digest(): string {
    const text = JSON.stringify({
      keys: this.entries().map((kv) => [kv.key, kv.id]),
      drift: this.drift().map((d) => [d.key, d.base, d.contenders.map((c) => c.id), d.winner]),
      entries: this.#timeline.length,
    });
    return toHex(sha256(utf8(text)));
  }

  #insert(entry: ViewEntry): void {
    // Entries mostly arrive in order; search from the end.
    let i = this.#timeline.length;
    while (i > 0 && compareEntries(this.#timeline[i - 1]!, entry) > 0) i--;
    this.#timeline.splice(i, 0, entry);
  }
}
