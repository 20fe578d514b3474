import { describe, expect, it } from 'vitest';
import { toBase64 } from '../../src/bytes.js';
import { seedSigner } from '../../src/crypto/ed25519.js';
import { CheckpointFormatError, formatCheckpoint, openCheckpoint, parseCheckpoint, signCheckpoint } from '../../src/ledger/checkpoint.js';
import { makeVerifier, NoteVerificationError } from '../../src/ledger/note.js';
import { EMPTY_ROOT } from '../../src/merkle/hash.js';

const root = new Uint8Array(32).map((_, i) => i);
const signer = seedSigner(new Uint8Array(32).fill(1));
const other = seedSigner(new Uint8Array(32).fill(2));

describe('tlog-checkpoint bodies', () => {
  it('formats the three lines with a base64 root and parses them back', () => {
    const text = formatCheckpoint({ origin: 'example.com/log', size: 42, root, extensions: [] });
    expect(text).toBe(`example.com/log\n42\n${toBase64(root)}\n`);
    expect(parseCheckpoint(text)).toEqual({ origin: 'example.com/log', size: 42, root, extensions: [] });
  });

  it('parses the C2SP example checkpoint body', () => {
    const cp = parseCheckpoint('example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n');
    expect(cp.size).toBe(20852163);
    expect(cp.root.length).toBe(32);
  });

  it('keeps extension lines', () => {
    const text = formatCheckpoint({ origin: 'o', size: 0, root: EMPTY_ROOT, extensions: ['ext one'] });
    expect(parseCheckpoint(text).extensions).toEqual(['ext one']);
  });

  const bad: [string, string][] = [
    ['two lines', 'o\n1\n'],
    ['leading zero size', `o\n01\n${toBase64(root)}\n`],
    ['negative size', `o\n-1\n${toBase64(root)}\n`],
    ['size with plus', `o\n+1\n${toBase64(root)}\n`],
    ['huge size', `o\n99999999999999999999\n${toBase64(root)}\n`],
    ['short root', `o\n1\n${toBase64(root.slice(1))}\n`],
    ['root not base64', `o\n1\n${'!'.repeat(44)}\n`],
    ['empty origin', `\n1\n${toBase64(root)}\n`],
    ['empty extension line', `o\n1\n${toBase64(root)}\n\n`],
    ['no final newline', `o\n1\n${toBase64(root)}`],
  ];
  for (const [name, text] of bad) it(`refuses ${name}`, () => expect(() => parseCheckpoint(text)).toThrow(CheckpointFormatError));
});

describe('signed checkpoints', () => {
  it('sign → open round-trips with the log key', async () => {
    const note = await signCheckpoint({ origin: 'naos/x', size: 3, root, extensions: [] }, signer);
    const cp = await openCheckpoint(note, makeVerifier('naos/x', signer.publicKey));
    expect(cp.size).toBe(3);
  });

  it("refuses a checkpoint signed by another node's key", async () => {
    const note = await signCheckpoint({ origin: 'naos/x', size: 3, root, extensions: [] }, other);
    await expect(openCheckpoint(note, makeVerifier('naos/x', signer.publicKey))).rejects.toThrow(NoteVerificationError);
  });

  it('refuses a checkpoint whose origin is not the verifier name', async () => {
    const { signNote } = await import('../../src/ledger/note.js');
    const body = formatCheckpoint({ origin: 'naos/y', size: 3, root, extensions: [] });
    const note = await signNote(body, 'naos/x', signer);
    await expect(openCheckpoint(note, makeVerifier('naos/x', signer.publicKey))).rejects.toThrow(CheckpointFormatError);
  });
});

describe('remembered checkpoint verifications', () => {
  it('are keyed by the exact note and key, hand out copies, and never remember a failure', async () => {
    const note = await signCheckpoint({ origin: 'naos/x', size: 9, root, extensions: [] }, signer);
    const right = makeVerifier('naos/x', signer.publicKey);
    const wrong = makeVerifier('naos/x', other.publicKey);
    await expect(openCheckpoint(note, wrong)).rejects.toThrow(NoteVerificationError);
    const first = await openCheckpoint(note, right);
    first.root.fill(0);
    const second = await openCheckpoint(note, right);
    expect(second.root).toEqual(root);
    await expect(openCheckpoint(note, wrong)).rejects.toThrow(NoteVerificationError);
    const tampered = note.replace('\n9\n', '\n8\n');
    await expect(openCheckpoint(tampered, right)).rejects.toThrow(NoteVerificationError);
  });
});
