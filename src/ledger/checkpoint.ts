import { fromBase64, toBase64 } from '../bytes.js';
import type { Signer } from '../crypto/ed25519.js';
import { NaosError } from '../errors.js';
import { HASH_SIZE } from '../merkle/hash.js';
import { type NoteVerifier, signNote, verifyNote } from './note.js';

/** C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint) note bodies. */

export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly root: Uint8Array;
  readonly extensions: readonly string[];
}

export class CheckpointFormatError extends NaosError {}

export function formatCheckpoint(checkpoint: Checkpoint): string {
  const { origin, size, root, extensions } = checkpoint;
  if (origin.length === 0 || origin.includes('\n')) throw new CheckpointFormatError('origin must be one non-empty line');
  if (!Number.isSafeInteger(size) || size < 0) throw new CheckpointFormatError(`size must be a non-negative integer, got ${size}`);
  if (root.length !== HASH_SIZE) throw new CheckpointFormatError(`root must be ${HASH_SIZE} bytes, got ${root.length}`);
  for (const line of extensions) {
    if (line.length === 0 || line.includes('\n')) throw new CheckpointFormatError('extension lines must be non-empty single lines');
  }
  return [origin, String(size), toBase64(root), ...extensions].join('\n') + '\n';
}

/** Parses a checkpoint body strictly: decimal size without leading zeros, 32-byte base64 root. */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw new CheckpointFormatError('checkpoint must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw new CheckpointFormatError(`checkpoint needs at least 3 lines, got ${lines.length}`);
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin.length === 0) throw new CheckpointFormatError('checkpoint origin is empty');
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText))
    throw new CheckpointFormatError(`checkpoint size is not canonical decimal: ${JSON.stringify(sizeText)}`);
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) throw new CheckpointFormatError(`checkpoint size ${sizeText} is too large`);
  let root: Uint8Array;
  try {
    root = fromBase64(rootText, 'checkpoint root');
  } catch (cause) {
    throw new CheckpointFormatError((cause as Error).message, { cause });
  }
  if (root.length !== HASH_SIZE) throw new CheckpointFormatError(`checkpoint root is ${root.length} bytes, want ${HASH_SIZE}`);
  if (extensions.some((line) => line.length === 0)) throw new CheckpointFormatError('checkpoint has an empty extension line');
  return { origin, size, root, extensions };
}

/** Signs a checkpoint with the log key; the note key name is the origin. */
export function signCheckpoint(checkpoint: Checkpoint, signer: Signer): Promise<string> {
  return signNote(formatCheckpoint(checkpoint), checkpoint.origin, signer);
}

/**
 * Verifies a signed checkpoint note against the log's verifier and parses it. The origin
 * line must equal the verifier's key name (so one log's key cannot vouch for another).
 *
 * Results are remembered (bounded, keyed by the exact note and key): a node meets the same
 * checkpoint many times — in heads, in batches, over two transports — and a verification
 * already started is shared, so callers can start one early (see SyncEngine.receive).
 */
export function openCheckpoint(note: string, verifier: NoteVerifier): Promise<Checkpoint> {
  const key = `${verifier.name}\n${toBase64(verifier.publicKey)}\n${note}`;
  const known = opened.get(key);
  if (known) {
    opened.delete(key);
    opened.set(key, known);
    return known.then(copyCheckpoint);
  }
  const result = verifyAndParse(note, verifier);
  opened.set(key, result);
  if (opened.size > MAX_REMEMBERED) opened.delete(opened.keys().next().value!);
  // Only successes are remembered.
  result.catch(() => opened.delete(key));
  return result.then(copyCheckpoint);
}

/** Callers get their own copy, so none can change what the next one is given. */
function copyCheckpoint(checkpoint: Checkpoint): Checkpoint {
  return { ...checkpoint, root: checkpoint.root.slice(), extensions: [...checkpoint.extensions] };
}

const MAX_REMEMBERED = 2048;
const opened = new Map<string, Promise<Checkpoint>>();

async function verifyAndParse(note: string, verifier: NoteVerifier): Promise<Checkpoint> {
  const { note: parsed } = await verifyNote(note, [verifier]);
  const checkpoint = parseCheckpoint(parsed.text);
  if (checkpoint.origin !== verifier.name) {
    throw new CheckpointFormatError(
      `checkpoint origin ${JSON.stringify(checkpoint.origin)} is not the log ${JSON.stringify(verifier.name)}`,
    );
  }
  return checkpoint;
}
