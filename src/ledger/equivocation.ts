import * as dagCbor from '@ipld/dag-cbor';
import { bytesEqual, describe, fromHex, toHex } from '../bytes.js';
import { sha256 } from '../crypto/sha256.js';
import { NaosError } from '../errors.js';
import { nodeIdFromPublicKey, nodeIdOfOrigin } from '../identity/node-id.js';
import { HASH_SIZE } from '../merkle/hash.js';
import { verifyConsistency } from '../merkle/verify.js';
import { type Checkpoint, openCheckpoint } from './checkpoint.js';
import { type NoteVerifier, parseVerifierKey } from './note.js';

/**
 * Equivocation evidence (MISSION.md F11): a log's author signed two checkpoints that
 * cannot both be true. The two signed notes are the proof; anyone holding only this
 * record — no ledger, no network — can check it with verifyEquivocation:
 *
 *  - both notes are C2SP checkpoints signed by the log's key (the origin names the key's
 *    hash, so no one but the author can have signed them);
 *  - **same size, different roots**: nothing more is needed;
 *  - **different sizes** (a smaller than b): the record carries the root at a's size of
 *    the tree b signs, with the RFC 9162 consistency proof from that root to b's root.
 *    The proof shows the tree b commits to had that root at a's size; it differs from the
 *    root a signs, so no single append-only history has both checkpoints.
 *
 * Hashes are lower-case hex so the record is plain JSON: it is what gossip carries
 * (EVIDENCE) and what a node writes to its own log (entry kind `naos.equivocation`).
 */

export const EQUIVOCATION_KIND = 'naos.equivocation';

export interface Equivocation {
  readonly origin: string;
  /** The log's verifier key (`origin+keyhash+base64key`). */
  readonly verifierKey: string;
  /** The signed checkpoint note at the smaller size (at equal sizes: the one whose text sorts first). */
  readonly a: string;
  /** The other signed checkpoint note. */
  readonly b: string;
  /** Only when the sizes differ: the root at a's size of b's tree, and the consistency proof from it to b. */
  readonly consistency?: { readonly root: string; readonly proof: readonly string[] };
}

/** A record that verified, with what it proves. */
export interface VerifiedEquivocation {
  /** The record in its canonical order. */
  readonly evidence: Equivocation;
  /** Hex SHA-256 of the canonical DAG-CBOR encoding of the record: names it in logs and alerts. */
  readonly id: string;
  readonly origin: string;
  /** Node id of the author who signed both notes. */
  readonly author: string;
  /** a's size: the histories provably disagree at this size; entries past it are refused from then on. */
  readonly forkSize: number;
  readonly sizes: readonly [number, number];
  /** What was checked, in words (for alerts and the CLI). */
  readonly detail: string;
}

export type EvidenceRejection =
  /** Not an equivocation record (shape, encodings, lengths). */
  | 'malformed'
  /** The verifier key is malformed or does not belong to the origin. */
  | 'bad-key'
  /** A note is malformed or not signed by the log's key. */
  | 'bad-checkpoint'
  /** The two checkpoints can both be true (or are the same): nothing is proven. */
  | 'not-conflicting'
  /** The consistency proof does not verify against b's root. */
  | 'bad-proof';

/** A record that does not prove an equivocation; `reason` is a stable code for counters. */
export class EvidenceError extends NaosError {
  constructor(
    readonly reason: EvidenceRejection,
    message: string,
  ) {
    super(`equivocation evidence refused (${reason}): ${message}`);
  }
}

const MAX_NOTE = 16_384;
const MAX_PROOF = 64;

/**
 * Builds a record from two signed checkpoints of one log, ordering them canonically.
 * `consistency` must be given when the sizes differ (see Equivocation). Does not verify:
 * call verifyEquivocation on the result.
 */
export function makeEquivocation(input: {
  readonly origin: string;
  readonly verifierKey: string;
  readonly notes: readonly [{ readonly note: string; readonly size: number }, { readonly note: string; readonly size: number }];
  readonly consistency?: { readonly root: Uint8Array; readonly proof: readonly Uint8Array[] };
}): Equivocation {
  const [x, y] = input.notes;
  const swap = x.size > y.size || (x.size === y.size && x.note > y.note);
  const [a, b] = swap ? [y, x] : [x, y];
  return {
    origin: input.origin,
    verifierKey: input.verifierKey,
    a: a.note,
    b: b.note,
    ...(a.size !== b.size && input.consistency
      ? { consistency: { root: toHex(input.consistency.root), proof: input.consistency.proof.map(toHex) } }
      : {}),
  };
}

/** Canonical DAG-CBOR bytes of a record (what its id hashes). */
export function encodeEquivocation(evidence: Equivocation): Uint8Array {
  return dagCbor.encode({
    origin: evidence.origin,
    verifierKey: evidence.verifierKey,
    a: evidence.a,
    b: evidence.b,
    ...(evidence.consistency ? { consistency: { root: evidence.consistency.root, proof: [...evidence.consistency.proof] } } : {}),
  });
}

/**
 * Checks a record completely, from nothing but its own bytes. Accepts any value (a JSON
 * payload read from a ledger, a decoded message) and refuses anything that is not a
 * well-formed record proving an equivocation, with EvidenceError naming why.
 */
export async function verifyEquivocation(value: unknown): Promise<VerifiedEquivocation> {
  const record = parseEquivocation(value);
  let verifier: NoteVerifier;
  try {
    verifier = parseVerifierKey(record.verifierKey);
  } catch (error) {
    throw new EvidenceError('bad-key', (error as Error).message);
  }
  const author = nodeIdOfOrigin(record.origin);
  if (verifier.name !== record.origin) throw new EvidenceError('bad-key', `verifier key names ${verifier.name}, not ${record.origin}`);
  if (author === undefined || author !== nodeIdFromPublicKey(verifier.publicKey)) {
    throw new EvidenceError('bad-key', `origin ${record.origin} does not name the key's hash`);
  }
  const a = await open(record.a, verifier, 'a');
  const b = await open(record.b, verifier, 'b');
  if (a.size > b.size || (a.size === b.size && record.a >= record.b)) {
    throw new EvidenceError('malformed', 'notes are not in canonical order (smaller size first, then by text)');
  }
  let detail: string;
  if (a.size === b.size) {
    if (record.consistency) throw new EvidenceError('malformed', 'checkpoints of equal size carry no consistency proof');
    if (bytesEqual(a.root, b.root)) throw new EvidenceError('not-conflicting', `both notes sign root ${toHex(a.root)} at size ${a.size}`);
    detail = `two signed roots at size ${a.size}: ${toHex(a.root)} and ${toHex(b.root)}`;
  } else {
    if (!record.consistency) throw new EvidenceError('malformed', `checkpoints of sizes ${a.size} and ${b.size} need a consistency proof`);
    if (a.size === 0) throw new EvidenceError('not-conflicting', 'a checkpoint of size 0 is a prefix of every tree');
    const implied = fromHex(record.consistency.root);
    try {
      verifyConsistency(
        a.size,
        b.size,
        implied,
        b.root,
        record.consistency.proof.map((p) => fromHex(p)),
      );
    } catch (error) {
      throw new EvidenceError('bad-proof', (error as Error).message);
    }
    if (bytesEqual(implied, a.root)) {
      throw new EvidenceError(
        'not-conflicting',
        `the tree signed at size ${b.size} has root ${toHex(a.root)} at size ${a.size}, as signed`,
      );
    }
    detail =
      `the tree signed at size ${b.size} has root ${toHex(implied)} at size ${a.size} (consistency proof of ` +
      `${record.consistency.proof.length} hashes verified), but the author also signed ${toHex(a.root)} at size ${a.size}`;
  }
  return {
    evidence: record,
    id: toHex(sha256(encodeEquivocation(record))),
    origin: record.origin,
    author,
    forkSize: a.size,
    sizes: [a.size, b.size],
    detail,
  };
}

async function open(note: string, verifier: NoteVerifier, which: 'a' | 'b'): Promise<Checkpoint> {
  try {
    return await openCheckpoint(note, verifier);
  } catch (error) {
    throw new EvidenceError('bad-checkpoint', `note ${which}: ${(error as Error).message}`);
  }
}

/** Checks the shape of a record (fields, lengths, hex) without verifying what it proves; EvidenceError('malformed') otherwise. */
export function parseEquivocation(value: unknown): Equivocation {
  const fail = (why: string): never => {
    throw new EvidenceError('malformed', why);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    return fail(`must be a map, got ${describe(value)}`);
  }
  const r = value as Record<string, unknown>;
  const keys = Object.keys(r).sort().join(',');
  if (keys !== 'a,b,origin,verifierKey' && keys !== 'a,b,consistency,origin,verifierKey') {
    fail(`must have fields a, b, origin, verifierKey and optionally consistency; got ${keys}`);
  }
  const text = (field: string, max: number): string => {
    const v = r[field];
    if (typeof v !== 'string' || v.length === 0 || v.length > max) fail(`${field} must be a non-empty string of at most ${max} characters`);
    return v as string;
  };
  const hash = (v: unknown, where: string): string => {
    if (typeof v !== 'string' || !/^[0-9a-f]*$/.test(v) || v.length !== HASH_SIZE * 2) fail(`${where} must be ${HASH_SIZE} bytes of hex`);
    return v as string;
  };
  const record = { origin: text('origin', 256), verifierKey: text('verifierKey', 512), a: text('a', MAX_NOTE), b: text('b', MAX_NOTE) };
  if (!('consistency' in r)) return record;
  const c = r['consistency'];
  if (typeof c !== 'object' || c === null || Array.isArray(c)) return fail('consistency must be a map');
  const cr = c as Record<string, unknown>;
  if (Object.keys(cr).sort().join(',') !== 'proof,root') fail('consistency must have exactly proof and root');
  const proof = cr['proof'];
  if (!Array.isArray(proof) || proof.length > MAX_PROOF) fail(`consistency.proof must be an array of at most ${MAX_PROOF} hashes`);
  return {
    ...record,
    consistency: {
      root: hash(cr['root'], 'consistency.root'),
      proof: (proof as unknown[]).map((p, i) => hash(p, `consistency.proof[${i}]`)),
    },
  };
}
