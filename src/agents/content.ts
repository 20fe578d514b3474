import { CID } from 'multiformats/cid';
import * as Digest from 'multiformats/hashes/digest';
import { bytesEqual, fromBase64, toBase64 } from '../bytes.js';
import { sha256 } from '../crypto/sha256.js';
import { InvalidInputError } from '../errors.js';
import { ContentHashMismatchError } from './errors.js';

/**
 * Content addressing of agent programs and modules: CIDv1, codec `raw` (0x55),
 * multihash sha2-256, base32 (`bafkrei…`). Blobs travel as ledger entries of kind
 * `blob.chunk` in the author's log, so any node gets them through the normal sync and
 * checks them against their CID before use.
 */

const RAW_CODE = 0x55;
const SHA2_256_CODE = 0x12;
/** Raw bytes per chunk; base64 keeps a chunk entry well under the 256 KiB entry limit. */
export const CHUNK_BYTES = 96 * 1024;
/** Largest blob (program or module) a node stores or assembles. */
export const MAX_BLOB_BYTES = 4 * 1024 * 1024;

export interface BlobChunk {
  readonly cid: string;
  readonly index: number;
  readonly count: number;
  readonly size: number;
  /** Base64 of this chunk's bytes. */
  readonly data: string;
}

export function blobCid(bytes: Uint8Array): string {
  return CID.create(1, RAW_CODE, Digest.create(SHA2_256_CODE, sha256(bytes))).toString();
}

/** Parses a CID string this module could have made (CIDv1, raw, sha2-256); refuses anything else. */
export function parseBlobCid(text: unknown): string {
  if (typeof text !== 'string') throw new InvalidInputError(`a CID must be a string, got ${typeof text}`);
  let cid: CID;
  try {
    cid = CID.parse(text);
  } catch (cause) {
    throw new InvalidInputError(`not a CID: ${JSON.stringify(text.slice(0, 80))}`, { cause });
  }
  if (cid.version !== 1 || cid.code !== RAW_CODE || cid.multihash.code !== SHA2_256_CODE || cid.toString() !== text) {
    throw new InvalidInputError(`expected a CIDv1 raw sha2-256 in base32, got ${JSON.stringify(text.slice(0, 80))}`);
  }
  return text;
}

/** Throws ContentHashMismatchError unless `bytes` hash to `cid`. */
export function verifyBlob(cid: string, bytes: Uint8Array): void {
  const expected = CID.parse(cid).multihash.digest;
  const actual = sha256(bytes);
  if (!bytesEqual(expected, actual)) {
    throw new ContentHashMismatchError(`content does not match its CID ${cid}: got ${blobCid(bytes)}`);
  }
}

export function chunkBlob(bytes: Uint8Array): BlobChunk[] {
  if (bytes.length > MAX_BLOB_BYTES) throw new InvalidInputError(`blob is ${bytes.length} bytes, more than ${MAX_BLOB_BYTES}`);
  const cid = blobCid(bytes);
  const count = Math.max(1, Math.ceil(bytes.length / CHUNK_BYTES));
  return Array.from({ length: count }, (_, index) => ({
    cid,
    index,
    count,
    size: bytes.length,
    data: toBase64(bytes.subarray(index * CHUNK_BYTES, (index + 1) * CHUNK_BYTES)),
  }));
}

/** Joins the chunks of one blob (any order, duplicates ignored) and checks the CID; undefined while some are missing. */
export function assembleBlob(cid: string, chunks: readonly BlobChunk[]): Uint8Array | undefined {
  const byIndex = new Map<number, BlobChunk>();
  for (const chunk of chunks) if (chunk.cid === cid && !byIndex.has(chunk.index)) byIndex.set(chunk.index, chunk);
  const first = byIndex.values().next().value;
  if (!first) return undefined;
  const { count, size } = first;
  if (byIndex.size < count) return undefined;
  const out = new Uint8Array(size);
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const part = fromBase64(byIndex.get(i)!.data, `chunk ${i} of ${cid}`);
    if (offset + part.length > size) throw new ContentHashMismatchError(`chunks of ${cid} exceed its size ${size}`);
    out.set(part, offset);
    offset += part.length;
  }
  if (offset !== size) throw new ContentHashMismatchError(`chunks of ${cid} hold ${offset} bytes, not ${size}`);
  verifyBlob(cid, out);
  return out;
}
