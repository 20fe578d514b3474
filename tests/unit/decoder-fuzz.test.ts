import * as dagCbor from '@ipld/dag-cbor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromBase64, fromHex, toBase64, toHex, utf8 } from '../../src/bytes.js';
import { NaosError } from '../../src/errors.js';
import { parseCheckpoint } from '../../src/ledger/checkpoint.js';
import { decodeEntry, encodeEntry } from '../../src/ledger/entry.js';
import { parseSignedNote, parseVerifierKey } from '../../src/ledger/note.js';

/**
 * Every decoder that reads bytes from a file or a peer, fed generated garbage: it must
 * either return or throw one of our named errors (or TypeError/RangeError for wrong
 * types) — never an unnamed crash, never hang.
 */
function expectNamedRefusal(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    const ok = error instanceof NaosError || error instanceof TypeError || error instanceof RangeError;
    if (!ok) throw new Error(`unnamed failure: ${String(error)}`, { cause: error });
  }
}

const AUTHOR = 'abcdefghijklmnopqrstuvwxyz234567';
const validEntry = encodeEntry({ v: 1, kind: 'data', author: AUTHOR, seq: 1, time: { wall: 1, count: 0 }, payload: { a: [1, 2] } });

const mutated = (base: Uint8Array) =>
  fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'cut', 'insert')).map(([at, byte, how]) => {
    const i = at % Math.max(1, base.length);
    if (how === 'cut') return base.slice(0, i);
    if (how === 'insert') return new Uint8Array([...base.slice(0, i), byte, ...base.slice(i)]);
    const copy = base.slice();
    copy[i] = byte;
    return copy;
  });

describe('decoder fuzzing', () => {
  it('decodeEntry on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => expectNamedRefusal(() => decodeEntry(bytes))),
      { numRuns: 3000 },
    );
  });

  it('decodeEntry on mutated valid entries: decodes only if re-encoding gives the same bytes', () => {
    fc.assert(
      fc.property(mutated(validEntry), (bytes) => {
        expectNamedRefusal(() => {
          const entry = decodeEntry(bytes);
          expect(toHex(encodeEntry(entry))).toBe(toHex(bytes));
        });
      }),
      { numRuns: 3000 },
    );
  });

  it('decodeEntry on arbitrary DAG-CBOR values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        let bytes: Uint8Array;
        try {
          bytes = dagCbor.encode(value);
        } catch {
          return;
        }
        expectNamedRefusal(() => decodeEntry(bytes));
      }),
      { numRuns: 1000 },
    );
  });

  it('note, checkpoint and verifier-key parsers on random text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
        expectNamedRefusal(() => parseSignedNote(text));
        expectNamedRefusal(() => parseCheckpoint(text));
        expectNamedRefusal(() => parseVerifierKey(text));
      }),
      { numRuns: 3000 },
    );
  });

  it('note parser on random bytes (invalid UTF-8 included)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => expectNamedRefusal(() => parseSignedNote(bytes))),
      { numRuns: 2000 },
    );
  });

  it('note parser on mutated valid notes', () => {
    const note = utf8(
      'example.com/log\n3\n' + toBase64(new Uint8Array(32)) + '\n\n— example.com/log ' + toBase64(new Uint8Array(68)) + '\n',
    );
    fc.assert(
      fc.property(mutated(note), (bytes) => expectNamedRefusal(() => parseSignedNote(bytes))),
      { numRuns: 3000 },
    );
  });

  it('hex and base64 decoders accept exactly their canonical encodings', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(toHex(fromBase64(toBase64(bytes)))).toBe(toHex(bytes));
        expect(toHex(fromHex(toHex(bytes)))).toBe(toHex(bytes));
        // …and toHex is lower-case hex, two digits a byte, as written out by hand.
        expect(toHex(bytes)).toBe(Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(''));
        expect(toBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
      }),
    );
    for (const text of ['0A', 'abc', 'zz', '0g', 'é0', '０0', ' 00', '00\n']) {
      expect(() => fromHex(text)).toThrow(/must be lower-case hex of even length/);
    }
    expect(fromHex('')).toEqual(new Uint8Array());
    expect(toHex(Uint8Array.from({ length: 256 }, (_, i) => i))).toBe(
      Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0')).join(''),
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (text) => {
        expectNamedRefusal(() => {
          const decoded = fromBase64(text);
          expect(toBase64(decoded)).toBe(text);
        });
        expectNamedRefusal(() => {
          const decoded = fromHex(text);
          expect(toHex(decoded)).toBe(text);
        });
      }),
      { numRuns: 3000 },
    );
  });
});
