import { describe, expect, it } from 'vitest';
import { fromBase64, toBase64, utf8 } from '../../src/bytes.js';
import { seedSigner } from '../../src/crypto/ed25519.js';
import {
  formatVerifierKey,
  makeVerifier,
  MAX_NOTE_SIGNATURES,
  NoteFormatError,
  NoteVerificationError,
  parseSignedNote,
  parseVerifierKey,
  signNote,
  verifyNote,
} from '../../src/ledger/note.js';

// Published vector of golang.org/x/mod/sumdb/note (note_test.go / package doc example).
const PETER_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const PETER_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_NOTE =
  PETER_TEXT + '\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
const ENOCH_VKEY = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';

function peterSigner() {
  // The key material is everything after the fourth '+' (base64 may itself contain '+').
  const seed = fromBase64(PETER_SKEY.split('+').slice(4).join('+')).subarray(1);
  return seedSigner(seed);
}

describe('signed notes against the Go sumdb/note vector', () => {
  it('derives the published verifier key from the published private key', () => {
    expect(formatVerifierKey(makeVerifier('PeterNeumann', peterSigner().publicKey))).toBe(PETER_VKEY);
  });

  it('signs the published note byte for byte (Ed25519 is deterministic)', async () => {
    expect(await signNote(PETER_TEXT, 'PeterNeumann', peterSigner())).toBe(PETER_NOTE);
  });

  it('verifies the published note and returns its text', async () => {
    const { note, verifiedBy } = await verifyNote(PETER_NOTE, [parseVerifierKey(PETER_VKEY)]);
    expect(note.text).toBe(PETER_TEXT);
    expect(verifiedBy).toEqual(['PeterNeumann']);
  });

  it('rejects a note whose text was changed by one character', async () => {
    await expect(verifyNote(PETER_NOTE.replace('cryptography', 'cryptographY'), [parseVerifierKey(PETER_VKEY)])).rejects.toThrow(
      NoteVerificationError,
    );
  });

  it('ignores signatures from unknown keys but requires one known signature', async () => {
    const enoch = parseVerifierKey(ENOCH_VKEY);
    await expect(verifyNote(PETER_NOTE, [enoch])).rejects.toThrow(/not signed by any trusted key/);
    // A second, unknown signature line does not disturb verification by the known key.
    const extra = PETER_NOTE + '— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n';
    const { verifiedBy } = await verifyNote(extra, [parseVerifierKey(PETER_VKEY)]);
    expect(verifiedBy).toEqual(['PeterNeumann']);
  });

  it('rejects a note when a known key signature fails, even if another verifies', async () => {
    const peter = parseVerifierKey(PETER_VKEY);
    const broken = PETER_NOTE.replace('x08go', 'x08gp');
    await expect(verifyNote(broken, [peter])).rejects.toThrow(NoteVerificationError);
  });
});

describe('verifier key strings', () => {
  it('refuses every truncation and every single-byte change of a valid key', () => {
    expect(() => parseVerifierKey(PETER_VKEY)).not.toThrow();
    const bytes = utf8(PETER_VKEY);
    for (let i = 0; i <= bytes.length; i++) {
      for (let j = i + 1; j <= bytes.length; j++) {
        if (i === 0 && j === bytes.length) continue;
        expect(() => parseVerifierKey(new TextDecoder().decode(bytes.subarray(i, j))), `${i}..${j}`).toThrow();
      }
    }
    for (let i = 0; i < bytes.length; i++) {
      const changed = bytes.slice();
      changed[i] = changed[i]! + 1;
      expect(() => parseVerifierKey(new TextDecoder().decode(changed)), `byte ${i}`).toThrow();
    }
  });

  it('refuses non-Ed25519 key types and wrong hashes with NoteFormatError', () => {
    const [name, hash, data] = PETER_VKEY.split('+') as [string, string, string];
    const raw = fromBase64(data);
    raw[0] = 0x02;
    expect(() => parseVerifierKey(`${name}+${hash}+${toBase64(raw)}`)).toThrow(NoteFormatError);
    expect(() => parseVerifierKey(`${name}+00000000+${data}`)).toThrow(/does not match/);
    expect(() => parseVerifierKey(`bad name+${hash}+${data}`)).toThrow(NoteFormatError);
  });

  it('answers a key parsed before from its cache, and refuses a bad key every time it is asked', () => {
    const first = parseVerifierKey(PETER_VKEY);
    expect(parseVerifierKey(PETER_VKEY)).toBe(first);
    expect(formatVerifierKey(first)).toBe(PETER_VKEY);
    const wrongHash = PETER_VKEY.replace('c74f20a3', 'c74f20a4');
    for (let i = 0; i < 3; i++) expect(() => parseVerifierKey(wrongHash)).toThrow(/does not match/);
    // More distinct keys than the cache keeps: each still parses to itself.
    const keys = Array.from({ length: 1500 }, (_, i) => formatVerifierKey(makeVerifier(`k${i}`, new Uint8Array(32).fill(i % 256))));
    for (const key of keys) expect(formatVerifierKey(parseVerifierKey(key))).toBe(key);
    expect(formatVerifierKey(parseVerifierKey(keys[0]!))).toBe(keys[0]);
  });
});

describe('malformed notes are refused with NoteFormatError', () => {
  const cases: [string, string][] = [
    ['no signature block', PETER_TEXT],
    ['no final newline', PETER_NOTE.slice(0, -1)],
    ['control character', PETER_NOTE.replace('problem,', 'problem,\t')],
    ['carriage return', PETER_NOTE.replace('\n', '\r\n')],
    ['signature line without em dash', PETER_NOTE.replace('— ', '- ')],
    ['signature with bad base64', PETER_NOTE.replace('x08go/', 'x08go*')],
    ['signature too short', PETER_TEXT + '\n— PeterNeumann AAAA\n'],
    ['empty signature block', PETER_TEXT + '\n\n'],
  ];
  for (const [name, note] of cases) {
    it(name, () => expect(() => parseSignedNote(note)).toThrow(NoteFormatError));
  }

  it(`more than ${MAX_NOTE_SIGNATURES} signatures`, () => {
    const line = PETER_NOTE.slice(PETER_TEXT.length + 1);
    expect(() => parseSignedNote(PETER_TEXT + '\n' + line.repeat(MAX_NOTE_SIGNATURES + 1))).toThrow(/more than/);
    expect(() => parseSignedNote(PETER_TEXT + '\n' + line.repeat(16))).not.toThrow();
  });

  it('invalid UTF-8 bytes', () => {
    const bytes = utf8(PETER_NOTE);
    bytes[3] = 0xff;
    expect(() => parseSignedNote(bytes)).toThrow(NoteFormatError);
  });

  it('signNote refuses text without a final newline', async () => {
    await expect(signNote('no newline', 'k', peterSigner())).rejects.toThrow(NoteFormatError);
  });
});
