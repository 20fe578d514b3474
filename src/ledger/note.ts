import { bytesEqual, concatBytes, fromBase64, fromHex, fromUtf8, toBase64, toHex, utf8 } from '../bytes.js';
import { PUBLIC_KEY_SIZE, type Signer, verifyEd25519 } from '../crypto/ed25519.js';
import { sha256 } from '../crypto/sha256.js';
import { NaosError } from '../errors.js';

/**
 * C2SP signed-note (https://c2sp.org/signed-note) with Ed25519 keys (signature type
 * 0x01), and the verifier key strings of golang.org/x/mod/sumdb/note:
 * `name+hex(keyID)+base64(0x01 ‖ public key)`.
 */

const ED25519_TYPE = 0x01;
const EM_DASH = '\u2014';
/** Signatures beyond this count make a note malformed (the spec requires accepting 16). */
export const MAX_NOTE_SIGNATURES = 100;
export const MAX_NOTE_BYTES = 64 * 1024;

/** Text that is not a well-formed signed note or verifier key. */
export class NoteFormatError extends NaosError {}
/** A well-formed note that no trusted key signed, or that a trusted key's signature fails. */
export class NoteVerificationError extends NaosError {}

export interface NoteSignature {
  readonly name: string;
  readonly keyId: Uint8Array;
  readonly signature: Uint8Array;
}

export interface SignedNote {
  /** The signed text, including its final newline. */
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

export interface NoteVerifier {
  readonly name: string;
  readonly keyId: Uint8Array;
  readonly publicKey: Uint8Array;
}

function checkKeyName(name: string, error: (m: string) => Error): void {
  if (name.length === 0 || /[\s+]/u.test(name)) {
    throw error(`key name must be non-empty without spaces or '+', got ${JSON.stringify(name)}`);
  }
}

/** key ID = SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4] */
export function ed25519KeyId(name: string, publicKey: Uint8Array): Uint8Array {
  return sha256(concatBytes(utf8(name), new Uint8Array([0x0a, ED25519_TYPE]), publicKey)).slice(0, 4);
}

export function makeVerifier(name: string, publicKey: Uint8Array): NoteVerifier {
  checkKeyName(name, (m) => new NoteFormatError(m));
  if (publicKey.length !== PUBLIC_KEY_SIZE) throw new RangeError(`Ed25519 public key must be 32 bytes, got ${publicKey.length}`);
  return { name, keyId: ed25519KeyId(name, publicKey), publicKey: publicKey.slice() };
}

export function formatVerifierKey(verifier: NoteVerifier): string {
  return `${verifier.name}+${toHex(verifier.keyId)}+${toBase64(concatBytes(new Uint8Array([ED25519_TYPE]), verifier.publicKey))}`;
}

/** Verifier keys parsed lately (a node sees the same few keys on every batch and note). */
const parsedKeys = new Map<string, NoteVerifier>();
const PARSED_KEYS_KEPT = 1024;

/**
 * Parses `name+keyhash+keydata`; refuses unknown key types and a key hash that does not
 * match. Keys parsed lately are answered from a cache (the same object: do not modify it).
 */
export function parseVerifierKey(text: string): NoteVerifier {
  if (typeof text !== 'string') throw new TypeError(`verifier key must be a string, got ${typeof text}`);
  const known = parsedKeys.get(text);
  if (known) return known;
  const verifier = parseVerifierKeyText(text);
  if (parsedKeys.size >= PARSED_KEYS_KEPT) parsedKeys.delete(parsedKeys.keys().next().value!);
  parsedKeys.set(text, verifier);
  return verifier;
}

function parseVerifierKeyText(text: string): NoteVerifier {
  // Split at the first two '+' only: the base64 key data may itself contain '+'.
  const first = text.indexOf('+');
  const second = first < 0 ? -1 : text.indexOf('+', first + 1);
  if (second < 0) throw new NoteFormatError(`verifier key must be name+keyhash+keydata, got ${JSON.stringify(text.slice(0, 120))}`);
  const [name, hash, data] = [text.slice(0, first), text.slice(first + 1, second), text.slice(second + 1)];
  checkKeyName(name, (m) => new NoteFormatError(m));
  if (!/^[0-9a-f]{8}$/.test(hash))
    throw new NoteFormatError(`verifier key hash must be 8 lower-case hex digits, got ${JSON.stringify(hash)}`);
  let keyData: Uint8Array;
  try {
    keyData = fromBase64(data, 'verifier key data');
  } catch (cause) {
    throw new NoteFormatError((cause as Error).message, { cause });
  }
  if (keyData.length !== 1 + PUBLIC_KEY_SIZE || keyData[0] !== ED25519_TYPE) {
    throw new NoteFormatError(
      `verifier key must be an Ed25519 key (type 0x01, 32 bytes); got ${keyData.length} bytes of type ${keyData[0]}`,
    );
  }
  const verifier = makeVerifier(name, keyData.subarray(1));
  if (!bytesEqual(verifier.keyId, fromHex(hash))) {
    throw new NoteFormatError(`verifier key hash ${hash} does not match its name and key (want ${toHex(verifier.keyId)})`);
  }
  return verifier;
}

/** Signs `text` (which must end in a newline) and returns the whole note. */
export async function signNote(text: string, name: string, signer: Signer): Promise<string> {
  checkNoteText(text);
  const verifier = makeVerifier(name, signer.publicKey);
  const signature = await signer.sign(utf8(text));
  return `${text}\n${EM_DASH} ${name} ${toBase64(concatBytes(verifier.keyId, signature))}\n`;
}

function checkNoteText(text: string): void {
  if (!text.endsWith('\n')) throw new NoteFormatError('note text must end with a newline');
  // eslint-disable-next-line no-control-regex -- the spec forbids exactly these
  if (/[\u0000-\u0009\u000b-\u001f]/.test(text)) throw new NoteFormatError('note contains an ASCII control character other than newline');
}

/** Parses a signed note without verifying it. Malformed notes are refused with NoteFormatError. */
export function parseSignedNote(note: string | Uint8Array): SignedNote {
  const raw = typeof note === 'string' ? utf8(note) : note;
  if (raw.length > MAX_NOTE_BYTES) throw new NoteFormatError(`note is ${raw.length} bytes, more than ${MAX_NOTE_BYTES}`);
  let text: string;
  try {
    text = typeof note === 'string' ? note : fromUtf8(note, 'note');
  } catch (cause) {
    throw new NoteFormatError('note is not valid UTF-8', { cause });
  }
  checkNoteText(text);
  const split = text.lastIndexOf('\n\n');
  if (split < 0) throw new NoteFormatError('note has no blank line before its signatures');
  const body = text.slice(0, split + 1);
  const lines = text.slice(split + 2).split('\n');
  if (lines.pop() !== '') throw new NoteFormatError('note must end with a newline');
  if (lines.length === 0) throw new NoteFormatError('note has no signatures');
  if (lines.length > MAX_NOTE_SIGNATURES)
    throw new NoteFormatError(`note has ${lines.length} signatures, more than ${MAX_NOTE_SIGNATURES}`);
  const signatures = lines.map((line, i): NoteSignature => {
    const match = /^\u2014 (\S+) (\S+)$/u.exec(line);
    if (!match) throw new NoteFormatError(`signature line ${i + 1} is not "— name base64": ${JSON.stringify(line.slice(0, 120))}`);
    const [, name, encoded] = match as unknown as [string, string, string];
    checkKeyName(name, (m) => new NoteFormatError(`signature line ${i + 1}: ${m}`));
    let blob: Uint8Array;
    try {
      blob = fromBase64(encoded, `signature line ${i + 1}`);
    } catch (cause) {
      throw new NoteFormatError((cause as Error).message, { cause });
    }
    if (blob.length < 5) throw new NoteFormatError(`signature line ${i + 1} is ${blob.length} bytes, too short for key id and signature`);
    return { name, keyId: blob.slice(0, 4), signature: blob.slice(4) };
  });
  return { text: body, signatures };
}

/**
 * Verifies a note against trusted keys as the spec requires: signatures by unknown keys
 * are ignored; a known key's signature that fails rejects the note; at least one known
 * key must have signed. Returns the parsed note and the names that verified.
 */
export async function verifyNote(
  note: string | Uint8Array,
  verifiers: readonly NoteVerifier[],
): Promise<{ note: SignedNote; verifiedBy: string[] }> {
  const parsed = parseSignedNote(note);
  const message = utf8(parsed.text);
  const verifiedBy: string[] = [];
  for (const sig of parsed.signatures) {
    const key = verifiers.find((v) => v.name === sig.name && bytesEqual(v.keyId, sig.keyId));
    if (!key) continue;
    if (!(await verifyEd25519(key.publicKey, message, sig.signature))) {
      throw new NoteVerificationError(`signature by ${sig.name} (key ${toHex(sig.keyId)}) does not verify`);
    }
    verifiedBy.push(sig.name);
  }
  if (verifiedBy.length === 0) {
    const names = parsed.signatures.map((s) => `${s.name}/${toHex(s.keyId)}`).join(', ');
    throw new NoteVerificationError(`note is not signed by any trusted key (signed by: ${names})`);
  }
  return { note: parsed, verifiedBy };
}
