import * as dagCbor from '@ipld/dag-cbor';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/bytes.js';
import { decodeEntry, encodeEntry, type Entry, EntryDecodeError, entryId, MAX_ENTRY_BYTES } from '../../src/ledger/entry.js';
import { assertJsonValue, InvalidValueError } from '../../src/ledger/json-value.js';

const AUTHOR = 'abcdefghijklmnopqrstuvwxyz234567';
const entry: Entry = {
  v: 1,
  kind: 'data',
  author: AUTHOR,
  seq: 7,
  time: { wall: 1_700_000_000_000, count: 3 },
  payload: { b: [1, 'x', null, true], a: 1.5 },
};

describe('entry encoding', () => {
  it('round-trips and is deterministic regardless of key order', () => {
    const bytes = encodeEntry(entry);
    expect(decodeEntry(bytes)).toEqual(entry);
    const reordered: Entry = {
      payload: { a: 1.5, b: [1, 'x', null, true] },
      time: entry.time,
      seq: 7,
      author: AUTHOR,
      kind: 'data',
      v: 1,
    } as const;
    expect(toHex(encodeEntry(reordered))).toBe(toHex(bytes));
  });

  it('has a stable CIDv1 dag-cbor sha2-256 id, the same multiformats computes', async () => {
    const { CID } = await import('multiformats/cid');
    const { sha256: mfSha256 } = await import('multiformats/hashes/sha2');
    const bytes = encodeEntry(entry);
    expect(entryId(bytes)).toBe(CID.create(1, dagCbor.code, await mfSha256.digest(bytes)).toString());
    const id = entryId(encodeEntry(entry));
    expect(id).toMatch(/^bafyrei[a-z2-7]{52}$/);
    expect(entryId(encodeEntry({ ...entry }))).toBe(id);
    expect(entryId(encodeEntry({ ...entry, seq: 8 }))).not.toBe(id);
  });

  it('refuses values that are not entries', () => {
    expect(() => encodeEntry({ ...entry, kind: 'Bad Kind' })).toThrow(TypeError);
    expect(() => encodeEntry({ ...entry, author: 'not-a-node' })).toThrow(TypeError);
    expect(() => encodeEntry({ ...entry, seq: -1 })).toThrow(TypeError);
    expect(() => encodeEntry({ ...entry, payload: { x: Number.NaN } })).toThrow(/NaN/);
    expect(() => encodeEntry({ ...entry, payload: 'x'.repeat(MAX_ENTRY_BYTES) })).toThrow(RangeError);
  });
});

describe('entry decoding refuses bad bytes with EntryDecodeError', () => {
  const wire = (fields: Record<string, unknown>) =>
    dagCbor.encode({ v: 1, kind: 'data', author: AUTHOR, seq: 0, time: [1, 0], payload: null, ...fields });

  const cases: [string, Uint8Array, string][] = [
    ['empty', new Uint8Array(0), 'not-dag-cbor'],
    ['truncated', encodeEntry(entry).slice(0, -1), 'not-dag-cbor'],
    ['trailing byte', new Uint8Array([...encodeEntry(entry), 0]), 'not-dag-cbor'],
    ['not a map', dagCbor.encode([1, 2]), 'bad-field'],
    ['missing field', dagCbor.encode({ v: 1, kind: 'data', author: AUTHOR, seq: 0, time: [1, 0] }), 'bad-field'],
    ['extra field', wire({ extra: 1 }), 'bad-field'],
    ['wrong version', wire({ v: 2 }), 'bad-field'],
    ['bad kind', wire({ kind: '' }), 'bad-field'],
    ['bad author', wire({ author: 'x' }), 'bad-field'],
    ['fractional seq', wire({ seq: 1.5 }), 'bad-field'],
    ['time not a pair', wire({ time: [1] }), 'bad-field'],
    ['negative time', wire({ time: [-1, 0] }), 'bad-field'],
    ['bytes in payload', wire({ payload: new Uint8Array([1]) }), 'bad-field'],
    ['too large', new Uint8Array(MAX_ENTRY_BYTES + 1), 'too-large'],
  ];
  for (const [name, bytes, reason] of cases) {
    it(name, () => {
      let error: unknown;
      try {
        decodeEntry(bytes);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(EntryDecodeError);
      expect((error as EntryDecodeError).reason).toBe(reason);
    });
  }

  it('non-canonical: a map with keys out of canonical order', () => {
    // Hand-built CBOR: {"v":1,...} with keys in insertion order instead of DAG-CBOR order.
    const good = encodeEntry(entry);
    const decoded = dagCbor.decode<Record<string, unknown>>(good);
    const manual = encodeCborMapInOrder(['v', 'kind', 'seq', 'time', 'author', 'payload'], decoded);
    expect(toHex(manual)).not.toBe(toHex(good));
    expect(() => decodeEntry(manual)).toThrow(EntryDecodeError);
  });

  it('non-canonical: an integer in a longer encoding than needed', () => {
    const good = encodeEntry({ ...entry, seq: 1 });
    // "seq" key then 0x01; rewrite 0x01 as 0x18 0x01 (uint8 form).
    const seqKey = [0x63, 0x73, 0x65, 0x71];
    const at = indexOfBytes(good, seqKey) + seqKey.length;
    expect(good[at]).toBe(0x01);
    const bad = new Uint8Array([...good.slice(0, at), 0x18, 0x01, ...good.slice(at + 1)]);
    expect(() => decodeEntry(bad)).toThrow(EntryDecodeError);
  });
});

describe('JSON values', () => {
  it('accepts plain JSON', () => {
    expect(() => assertJsonValue({ a: [1, { b: null }], c: 'x', d: false, e: -0.5 })).not.toThrow();
  });
  it('refuses non-JSON with the path', () => {
    expect(() => assertJsonValue({ a: [1, undefined] })).toThrow('$.a[1]: undefined is not a JSON value');
    expect(() => assertJsonValue({ a: new Date(0) })).toThrow(/Date is not a plain object/);
    expect(() => assertJsonValue(10n)).toThrow(InvalidValueError);
    expect(() => assertJsonValue(Infinity)).toThrow(InvalidValueError);
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(() => assertJsonValue(cyclic)).toThrow(/cycle/);
    let deep: unknown = 1;
    for (let i = 0; i < 70; i++) deep = [deep];
    expect(() => assertJsonValue(deep)).toThrow(/deeper/);
  });
});

function indexOfBytes(haystack: Uint8Array, needle: number[]): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** A CBOR map written in the given key order (each value encoded by dag-cbor). */
function encodeCborMapInOrder(keys: string[], values: Record<string, unknown>): Uint8Array {
  const parts: number[] = [0xa0 + keys.length];
  for (const key of keys) parts.push(...dagCbor.encode(key), ...dagCbor.encode(values[key]));
  return new Uint8Array(parts);
}
