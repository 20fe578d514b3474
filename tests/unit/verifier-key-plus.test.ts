import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/bytes.js';
import { seedSigner } from '../../src/crypto/ed25519.js';
import { logOrigin, nodeIdFromPublicKey } from '../../src/identity/node-id.js';
import { formatVerifierKey, makeVerifier, NoteFormatError, parseVerifierKey } from '../../src/ledger/note.js';

/**
 * Regression: base64 key data may contain '+', which once made parseVerifierKey refuse
 * about half of all keys (every node whose key did was refused as damaged on reopen).
 */
describe('verifier key strings whose key data contains "+"', () => {
  it('round-trip (seed 42×32 gives key data with a "+")', () => {
    const publicKey = seedSigner(new Uint8Array(32).fill(42)).publicKey;
    const text = formatVerifierKey(makeVerifier(logOrigin(nodeIdFromPublicKey(publicKey)), publicKey));
    expect(text.split('+').length).toBeGreaterThan(3);
    expect(toHex(parseVerifierKey(text).publicKey)).toBe(toHex(publicKey));
  });

  it('round-trip for any key (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (seed) => {
        const publicKey = seedSigner(seed).publicKey;
        const verifier = makeVerifier('naos/test', publicKey);
        const parsed = parseVerifierKey(formatVerifierKey(verifier));
        expect(parsed.name).toBe('naos/test');
        expect(toHex(parsed.publicKey)).toBe(toHex(publicKey));
      }),
      { numRuns: 200, seed: 42 },
    );
  });

  it('still refuses fewer than two "+" separators', () => {
    expect(() => parseVerifierKey('naos/test')).toThrow(NoteFormatError);
    expect(() => parseVerifierKey('naos/test+0011aabb')).toThrow(NoteFormatError);
  });
});
