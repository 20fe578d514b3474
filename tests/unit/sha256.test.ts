import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, toHex, utf8 } from '../../src/bytes.js';
import { referenceSha256, sha256, sha256Implementation, sha256Prefixed } from '../../src/crypto/sha256.js';

describe('sha256', () => {
  it('uses the WebAssembly implementation in Node', () => expect(sha256Implementation).toBe('hash-wasm'));

  it('matches the FIPS 180-2 "abc" vector', () => {
    expect(toHex(sha256(utf8('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('agrees with @noble/hashes on random inputs, prefixed or not', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 3 }), (data, prefix) => {
        expect(toHex(sha256(data))).toBe(toHex(referenceSha256(data)));
        expect(toHex(sha256Prefixed(prefix, data))).toBe(toHex(referenceSha256(concatBytes(prefix, data))));
      }),
      { numRuns: 2000 },
    );
  });

  it('returns fresh arrays (a caller mutating one cannot affect the next)', () => {
    const a = sha256(utf8('x'));
    a.fill(0);
    expect(toHex(sha256(utf8('x')))).not.toBe(toHex(a));
  });
});
