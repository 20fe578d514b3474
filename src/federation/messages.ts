import * as dagCbor from '@ipld/dag-cbor';
import { bytesEqual, concatBytes, describe as describeValue, plainBytes, utf8 } from '../bytes.js';
import { NaosError } from '../errors.js';
import { isNodeId } from '../identity/node-id.js';
import { type Equivocation, EvidenceError, parseEquivocation } from '../ledger/equivocation.js';
import type { LogBatch } from '../ledger/log-batch.js';
import { HASH_SIZE } from '../merkle/hash.js';

export type { Equivocation, LogBatch };

/**
 * The sync protocol's messages (MISSION.md F9). Every message travels in a signed
 * envelope: DAG-CBOR `{v, from, key, session, seq, body, sig}`, where `from` is the
 * sender's node id (derived from `key`), `(session, seq)` numbers the sender's messages
 * so replays can be refused, and `sig` is Ed25519 over the envelope without `sig`.
 * Decoding is strict: canonical DAG-CBOR, exact shapes, bounded sizes.
 */

/** Largest encoded envelope a node sends or accepts. */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
/** Most entries one batch message may carry. */
export const MAX_BATCH_ENTRIES = 50_000;
/** Most heads one RESPONSE may list. */
export const MAX_HEADS = 10_000;
const MAX_STRING = 4096;

export type NodeType = 'pod-host' | 'compute' | 'gateway' | 'index' | 'bridge';
export const NODE_TYPES: readonly NodeType[] = ['pod-host', 'compute', 'gateway', 'index', 'bridge'];
export type TrustLevel = 'experimental' | 'peer' | 'community' | 'verified';
export const TRUST_LEVELS: readonly TrustLevel[] = ['experimental', 'peer', 'community', 'verified'];

/** At most this many capabilities in a manifest (receivers refuse more). */
export const MAX_CAPABILITIES = 64;
/** The capabilities of a node that syncs over a tab channel / over libp2p. */
export const SYNC_BROADCAST_CHANNEL = 'sync/broadcast-channel';
export const SYNC_LIBP2P = 'sync/libp2p';

/** What a node says about itself (F2). Health is measured by the receiver, not claimed. */
export interface Manifest {
  readonly region: string;
  readonly shard: string;
  readonly types: readonly NodeType[];
  readonly capabilities: readonly string[];
  /** The trust level the node claims; receivers start every unknown node at `experimental`. */
  readonly trust: TrustLevel;
  /** Wall-clock ms when the node started (for uptime). */
  readonly started: number;
  readonly software: string;
}

/**
 * A held log in compact form: the first 8 bytes of SHA-256(origin), the size held and the
 * first 8 bytes of its Merkle root at that size (so a copy of equal size but another
 * history — an equivocation, F11 — is noticed too).
 */
export interface HaveRecord {
  readonly log: Uint8Array;
  readonly size: number;
  readonly root: Uint8Array;
}

/** One held log as listed in a heads response. */
export interface HeadAdvert {
  readonly verifierKey: string;
  readonly checkpoint: string;
}

export type Body =
  | { readonly type: 'DISCOVER' }
  | { readonly type: 'ANNOUNCE'; readonly manifest: Manifest }
  | { readonly type: 'HEARTBEAT'; readonly root: Uint8Array; readonly logs: number }
  | {
      readonly type: 'REQUEST';
      readonly to: string;
      readonly id: number;
      readonly want: 'heads';
      /** What the requester holds, so the answer lists only logs it lacks or is behind on. */
      readonly have: readonly HaveRecord[];
    }
  | {
      readonly type: 'REQUEST';
      readonly to: string;
      readonly id: number;
      readonly want: 'entries';
      readonly origin: string;
      readonly start: number;
    }
  | {
      /** How the answerer's copy of a log looked at `size1`: its root there and the consistency proof to `size2`. */
      readonly type: 'REQUEST';
      readonly to: string;
      readonly id: number;
      readonly want: 'consistency';
      readonly origin: string;
      readonly size1: number;
      readonly size2: number;
    }
  | { readonly type: 'RESPONSE'; readonly to: string; readonly id: number; readonly heads: readonly HeadAdvert[] }
  | { readonly type: 'RESPONSE'; readonly to: string; readonly id: number; readonly batch: LogBatch }
  | { readonly type: 'RESPONSE'; readonly to: string; readonly id: number; readonly error: string }
  | {
      readonly type: 'RESPONSE';
      readonly to: string;
      readonly id: number;
      readonly consistency: { readonly root: Uint8Array; readonly proof: readonly Uint8Array[] };
    }
  | { readonly type: 'REPLICATE'; readonly batch: LogBatch }
  /** Proof that a log's author signed two histories (F11), gossiped to every peer. */
  | { readonly type: 'EVIDENCE'; readonly evidence: Equivocation };

export type MessageType = Body['type'];

export interface Envelope {
  readonly v: 1;
  readonly from: string;
  readonly key: Uint8Array;
  readonly session: Uint8Array;
  readonly seq: number;
  readonly body: Body;
  readonly sig: Uint8Array;
}

export type UnsignedEnvelope = Omit<Envelope, 'sig'>;

/** Bytes that are not a well-formed message; `reason` is a stable code for counters. */
export class MessageDecodeError extends NaosError {
  constructor(
    readonly reason: 'oversized' | 'not-dag-cbor' | 'not-canonical' | 'bad-shape',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const SIGNING_CONTEXT = 'naos/sync/1.0.0\n';

/** The bytes the envelope signature covers: a context string then the unsigned envelope. */
export function signingBytes(envelope: UnsignedEnvelope): Uint8Array {
  return concatBytes(utf8(SIGNING_CONTEXT), dagCbor.encode(toWire(envelope)));
}

export function encodeEnvelope(envelope: Envelope): Uint8Array {
  const bytes = plainBytes(dagCbor.encode({ ...toWire(envelope), sig: envelope.sig }));
  if (bytes.length > MAX_MESSAGE_BYTES) throw new RangeError(`message is ${bytes.length} bytes, over the ${MAX_MESSAGE_BYTES}-byte limit`);
  return bytes;
}

export function decodeEnvelope(bytes: Uint8Array): Envelope {
  if (!(bytes instanceof Uint8Array)) throw new MessageDecodeError('bad-shape', `message must be bytes, got ${describeValue(bytes)}`);
  if (bytes.length > MAX_MESSAGE_BYTES) {
    throw new MessageDecodeError('oversized', `message is ${bytes.length} bytes, over the ${MAX_MESSAGE_BYTES}-byte limit`);
  }
  let value: unknown;
  try {
    value = dagCbor.decode(bytes);
  } catch (cause) {
    throw new MessageDecodeError('not-dag-cbor', `message is not DAG-CBOR: ${(cause as Error).message}`, { cause });
  }
  let again: Uint8Array;
  try {
    again = dagCbor.encode(value);
  } catch (cause) {
    throw new MessageDecodeError('not-canonical', 'message does not re-encode', { cause });
  }
  if (!bytesEqual(again, bytes)) throw new MessageDecodeError('not-canonical', 'message is not canonical DAG-CBOR');
  return parseEnvelope(value);
}

// ---- shape checking -------------------------------------------------------------

class Shape {
  constructor(readonly path: string) {}
  fail(why: string): never {
    throw new MessageDecodeError('bad-shape', `${this.path}: ${why}`);
  }
  record(value: unknown, keys: readonly string[]): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
      this.fail(`must be a map, got ${describeValue(value)}`);
    }
    const got = Object.keys(value).sort().join(',');
    const want = [...keys].sort().join(',');
    if (got !== want) this.fail(`must have fields ${want}, got ${got}`);
    return value as Record<string, unknown>;
  }
  at(key: string): Shape {
    return new Shape(`${this.path}.${key}`);
  }
  string(value: unknown, max = MAX_STRING): string {
    if (typeof value !== 'string') this.fail(`must be a string, got ${describeValue(value)}`);
    if (value.length > max) this.fail(`longer than ${max} characters`);
    return value;
  }
  count(value: unknown, max = Number.MAX_SAFE_INTEGER): number {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > max) {
      this.fail(`must be an integer in 0..${max}, got ${String(value)}`);
    }
    return value;
  }
  bytes(value: unknown, length?: number): Uint8Array {
    if (!(value instanceof Uint8Array)) this.fail(`must be bytes, got ${describeValue(value)}`);
    if (length !== undefined && value.length !== length) this.fail(`must be ${length} bytes, got ${value.length}`);
    return plainBytes(value);
  }
  array(value: unknown, max: number): unknown[] {
    if (!Array.isArray(value)) this.fail(`must be an array, got ${describeValue(value)}`);
    if (value.length > max) this.fail(`has ${value.length} items, more than ${max}`);
    return value;
  }
  nodeId(value: unknown): string {
    const id = this.string(value, 64);
    if (!isNodeId(id)) this.fail(`is not a node id: ${JSON.stringify(id)}`);
    return id;
  }
  oneOf<T extends string>(value: unknown, options: readonly T[]): T {
    const text = this.string(value, 64);
    if (!(options as readonly string[]).includes(text)) this.fail(`must be one of ${options.join(', ')}, got ${JSON.stringify(text)}`);
    return text as T;
  }
}

function parseEnvelope(value: unknown): Envelope {
  const s = new Shape('envelope');
  const r = s.record(value, ['v', 'from', 'key', 'session', 'seq', 'body', 'sig']);
  if (r['v'] !== 1) s.at('v').fail(`must be 1, got ${String(r['v'])}`);
  return {
    v: 1,
    from: s.at('from').nodeId(r['from']),
    key: s.at('key').bytes(r['key'], 32),
    session: s.at('session').bytes(r['session'], 8),
    seq: s.at('seq').count(r['seq']),
    body: parseBody(r['body'], s.at('body')),
    sig: s.at('sig').bytes(r['sig'], 64),
  };
}

function parseBody(value: unknown, s: Shape): Body {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) s.fail(`must be a map, got ${describeValue(value)}`);
  const type = (value as Record<string, unknown>)['type'];
  switch (type) {
    case 'DISCOVER':
      s.record(value, ['type']);
      return { type };
    case 'ANNOUNCE': {
      const r = s.record(value, ['type', 'manifest']);
      return { type, manifest: parseManifest(r['manifest'], s.at('manifest')) };
    }
    case 'HEARTBEAT': {
      const r = s.record(value, ['type', 'root', 'logs']);
      return { type, root: s.at('root').bytes(r['root'], HASH_SIZE), logs: s.at('logs').count(r['logs'], MAX_HEADS) };
    }
    case 'REQUEST': {
      const want = (value as Record<string, unknown>)['want'];
      if (want === 'heads') {
        const r = s.record(value, ['type', 'to', 'id', 'want', 'have']);
        const have = s
          .at('have')
          .array(r['have'], MAX_HEADS)
          .map((h, i) => {
            const hs = s.at(`have[${i}]`);
            const hr = hs.record(h, ['log', 'size', 'root']);
            return {
              log: hs.at('log').bytes(hr['log'], 8),
              size: hs.at('size').count(hr['size']),
              root: hs.at('root').bytes(hr['root'], 8),
            };
          });
        return { type, to: s.at('to').nodeId(r['to']), id: s.at('id').count(r['id']), want, have };
      }
      if (want === 'entries') {
        const r = s.record(value, ['type', 'to', 'id', 'want', 'origin', 'start']);
        return {
          type,
          to: s.at('to').nodeId(r['to']),
          id: s.at('id').count(r['id']),
          want,
          origin: s.at('origin').string(r['origin'], 256),
          start: s.at('start').count(r['start']),
        };
      }
      if (want === 'consistency') {
        const r = s.record(value, ['type', 'to', 'id', 'want', 'origin', 'size1', 'size2']);
        return {
          type,
          to: s.at('to').nodeId(r['to']),
          id: s.at('id').count(r['id']),
          want,
          origin: s.at('origin').string(r['origin'], 256),
          size1: s.at('size1').count(r['size1']),
          size2: s.at('size2').count(r['size2']),
        };
      }
      return s.at('want').fail(`must be heads, entries or consistency, got ${JSON.stringify(want)}`);
    }
    case 'RESPONSE': {
      const v = value as Record<string, unknown>;
      const kind = 'heads' in v ? 'heads' : 'batch' in v ? 'batch' : 'consistency' in v ? 'consistency' : 'error';
      const r = s.record(value, ['type', 'to', 'id', kind]);
      const to = s.at('to').nodeId(r['to']);
      const id = s.at('id').count(r['id']);
      if (kind === 'heads') {
        const heads = s
          .at('heads')
          .array(r['heads'], MAX_HEADS)
          .map((h, i) => {
            const hs = s.at(`heads[${i}]`);
            const hr = hs.record(h, ['verifierKey', 'checkpoint']);
            return {
              verifierKey: hs.at('verifierKey').string(hr['verifierKey'], 512),
              checkpoint: hs.at('checkpoint').string(hr['checkpoint'], 16_384),
            };
          });
        return { type, to, id, heads };
      }
      if (kind === 'batch') return { type, to, id, batch: parseBatch(r['batch'], s.at('batch')) };
      if (kind === 'consistency') {
        const cs = s.at('consistency');
        const cr = cs.record(r['consistency'], ['root', 'proof']);
        return {
          type,
          to,
          id,
          consistency: {
            root: cs.at('root').bytes(cr['root'], HASH_SIZE),
            proof: cs
              .at('proof')
              .array(cr['proof'], 64)
              .map((p, i) => cs.at(`proof[${i}]`).bytes(p, HASH_SIZE)),
          },
        };
      }
      return { type, to, id, error: s.at('error').string(r['error'], 1024) };
    }
    case 'REPLICATE': {
      const r = s.record(value, ['type', 'batch']);
      return { type, batch: parseBatch(r['batch'], s.at('batch')) };
    }
    case 'EVIDENCE': {
      const r = s.record(value, ['type', 'evidence']);
      try {
        // The shape only; whether it proves anything is checked by the kernel (verifyEquivocation).
        return { type, evidence: parseEquivocation(r['evidence']) };
      } catch (error) {
        if (error instanceof EvidenceError) return s.at('evidence').fail(error.message);
        throw error;
      }
    }
    default:
      return s.at('type').fail(`unknown message type ${JSON.stringify(type)}`);
  }
}

/**
 * The manifest with `capability` added (the same object when it is already listed, or
 * when the list is full: a node that asked for 64 capabilities keeps exactly those).
 */
export function withCapability(manifest: Manifest, capability: string): Manifest {
  const { capabilities } = manifest;
  if (capabilities.includes(capability) || capabilities.length >= MAX_CAPABILITIES) return manifest;
  return { ...manifest, capabilities: [...capabilities, capability] };
}

/** Checks a manifest received from a peer (strict shape, bounded sizes); MessageDecodeError otherwise. */
export function decodeManifest(value: unknown, path = 'manifest'): Manifest {
  return parseManifest(value, new Shape(path));
}

function parseManifest(value: unknown, s: Shape): Manifest {
  const r = s.record(value, ['region', 'shard', 'types', 'capabilities', 'trust', 'started', 'software']);
  return {
    region: s.at('region').string(r['region'], 64),
    shard: s.at('shard').string(r['shard'], 64),
    types: s
      .at('types')
      .array(r['types'], NODE_TYPES.length)
      .map((t, i) => s.at(`types[${i}]`).oneOf(t, NODE_TYPES)),
    capabilities: s
      .at('capabilities')
      .array(r['capabilities'], MAX_CAPABILITIES)
      .map((c, i) => s.at(`capabilities[${i}]`).string(c, 128)),
    trust: s.at('trust').oneOf(r['trust'], TRUST_LEVELS),
    started: s.at('started').count(r['started']),
    software: s.at('software').string(r['software'], 128),
  };
}

function parseBatch(value: unknown, s: Shape): LogBatch {
  const r = s.record(value, ['origin', 'verifierKey', 'start', 'entries', 'checkpoint', 'proof']);
  return {
    origin: s.at('origin').string(r['origin'], 256),
    verifierKey: s.at('verifierKey').string(r['verifierKey'], 512),
    start: s.at('start').count(r['start']),
    entries: s
      .at('entries')
      .array(r['entries'], MAX_BATCH_ENTRIES)
      .map((e, i) => s.at(`entries[${i}]`).bytes(e)),
    checkpoint: s.at('checkpoint').string(r['checkpoint'], 16_384),
    proof: s
      .at('proof')
      .array(r['proof'], 64)
      .map((p, i) => s.at(`proof[${i}]`).bytes(p, HASH_SIZE)),
  };
}

/** The envelope as a plain DAG-CBOR value (no undefined, arrays not readonly-typed). */
function toWire(envelope: UnsignedEnvelope): Record<string, unknown> {
  return { v: envelope.v, from: envelope.from, key: envelope.key, session: envelope.session, seq: envelope.seq, body: envelope.body };
}
