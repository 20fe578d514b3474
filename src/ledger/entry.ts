import * as dagCbor from '@ipld/dag-cbor';
import { base32 } from 'multiformats/bases/base32';
import { bytesEqual, describe, plainBytes } from '../bytes.js';
import { sha256 } from '../crypto/sha256.js';
import { NaosError } from '../errors.js';
import { isNodeId } from '../identity/node-id.js';
import type { Hlc } from './hlc.js';
import { assertJsonValue, type JsonValue } from './json-value.js';

/**
 * One ledger entry. Its bytes are the DAG-CBOR encoding of this record (map keys in
 * canonical order), the Merkle leaf is those bytes, and its id is the CIDv1
 * (dag-cbor, sha2-256) of them.
 */
export interface Entry {
  /** Format version; only 1 exists. */
  readonly v: 1;
  /** What the entry is: `data` for naos.append(), later `policy`, `vote`, `agent.state`, … */
  readonly kind: string;
  /** Node id of the log's author. */
  readonly author: string;
  /** Position in the author's log (equals the Merkle leaf index). */
  readonly seq: number;
  /** Hybrid-logical-clock time of the append. */
  readonly time: Hlc;
  readonly payload: JsonValue;
}

/** Largest encoded entry a node writes or accepts. */
export const MAX_ENTRY_BYTES = 256 * 1024;

const KIND_PATTERN = /^[a-z][a-z0-9._/-]{0,63}$/;
const DAG_CBOR_CODE = 0x71;
const SHA2_256_CODE = 0x12;

/** Bytes that are not a well-formed, canonical entry. `reason` is a stable short code. */
export class EntryDecodeError extends NaosError {
  constructor(
    readonly reason: 'too-large' | 'not-dag-cbor' | 'not-canonical' | 'bad-field',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

interface WireEntry {
  v: number;
  kind: unknown;
  author: unknown;
  seq: unknown;
  time: unknown;
  payload: unknown;
}

/** Encodes an entry; refuses anything decodeEntry would refuse. */
export function encodeEntry(entry: Entry): Uint8Array {
  validateFields(entry, (message) => new TypeError(message));
  const bytes = plainBytes(
    dagCbor.encode({
      v: entry.v,
      kind: entry.kind,
      author: entry.author,
      seq: entry.seq,
      time: [entry.time.wall, entry.time.count],
      payload: entry.payload,
    }),
  );
  if (bytes.length > MAX_ENTRY_BYTES) {
    throw new RangeError(`entry is ${bytes.length} bytes encoded, more than the ${MAX_ENTRY_BYTES}-byte limit`);
  }
  return bytes;
}

/** Decodes entry bytes, refusing oversize, malformed, non-canonical or ill-typed input. */
export function decodeEntry(bytes: Uint8Array): Entry {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`entry bytes must be a Uint8Array, got ${describe(bytes)}`);
  if (bytes.length > MAX_ENTRY_BYTES) {
    throw new EntryDecodeError('too-large', `entry is ${bytes.length} bytes, more than the ${MAX_ENTRY_BYTES}-byte limit`);
  }
  let decoded: unknown;
  try {
    decoded = dagCbor.decode(bytes);
  } catch (cause) {
    throw new EntryDecodeError('not-dag-cbor', `entry is not valid DAG-CBOR: ${(cause as Error).message}`, { cause });
  }
  // DAG-CBOR has exactly one encoding per value; anything else could hide a second
  // history behind the same decoded entry.
  let again: Uint8Array;
  try {
    again = dagCbor.encode(decoded);
  } catch (cause) {
    throw new EntryDecodeError('not-canonical', 'entry does not re-encode', { cause });
  }
  if (!bytesEqual(again, bytes)) throw new EntryDecodeError('not-canonical', 'entry bytes are not canonical DAG-CBOR');

  const wire = decoded as WireEntry;
  if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded)) {
    throw new EntryDecodeError('bad-field', `entry must be a map, got ${describe(decoded)}`);
  }
  const keys = Object.keys(decoded).sort().join(',');
  if (keys !== 'author,kind,payload,seq,time,v') {
    throw new EntryDecodeError('bad-field', `entry must have exactly author, kind, payload, seq, time, v; got ${keys}`);
  }
  const time = wire.time;
  if (!Array.isArray(time) || time.length !== 2) {
    throw new EntryDecodeError('bad-field', 'entry time must be [wall, count]');
  }
  const entry = { ...wire, time: { wall: time[0] as number, count: time[1] as number } };
  validateFields(entry, (message) => new EntryDecodeError('bad-field', message));
  return entry as unknown as Entry;
}

function validateFields(e: WireEntry & { time: unknown }, error: (message: string) => Error): void {
  if (e.v !== 1) throw error(`entry version must be 1, got ${String(e.v)}`);
  if (typeof e.kind !== 'string' || !KIND_PATTERN.test(e.kind)) {
    throw error(`entry kind must match ${KIND_PATTERN}, got ${JSON.stringify(e.kind)}`);
  }
  if (typeof e.author !== 'string' || !isNodeId(e.author)) {
    throw error(`entry author must be a node id, got ${JSON.stringify(e.author)}`);
  }
  if (!Number.isSafeInteger(e.seq) || (e.seq as number) < 0) {
    throw error(`entry seq must be a non-negative integer, got ${String(e.seq)}`);
  }
  const t = e.time as Partial<Hlc> | null;
  if (
    typeof t !== 'object' ||
    t === null ||
    !Number.isSafeInteger(t.wall) ||
    !Number.isSafeInteger(t.count) ||
    t.wall! < 0 ||
    t.count! < 0
  ) {
    throw error('entry time must be non-negative integers {wall, count}');
  }
  try {
    assertJsonValue(e.payload, '$.payload');
  } catch (cause) {
    throw error(`entry payload: ${(cause as Error).message}`);
  }
}

/** Binary prefix of a CIDv1 dag-cbor sha2-256: version 1, codec 0x71, multihash 0x12, length 32. */
const CID_PREFIX = new Uint8Array([0x01, DAG_CBOR_CODE, SHA2_256_CODE, 32]);

/**
 * CIDv1 (dag-cbor, sha2-256) of the entry bytes, as a multibase base32 string
 * (`bafyrei…`). Written out directly (the same bytes and text multiformats' CID gives,
 * checked in tests) because it runs for every entry on the append path.
 */
export function entryId(bytes: Uint8Array): string {
  const cid = new Uint8Array(36);
  cid.set(CID_PREFIX);
  cid.set(sha256(bytes), 4);
  return base32.encode(cid);
}
