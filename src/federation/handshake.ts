import * as dagCbor from '@ipld/dag-cbor';
import { bytesEqual, concatBytes, describe as describeValue, plainBytes, toHex, utf8 } from '../bytes.js';
import { type Signer, verifyEd25519 } from '../crypto/ed25519.js';
import { NaosError } from '../errors.js';
import { isNodeId, nodeIdFromPublicKey } from '../identity/node-id.js';
import { decodeManifest, type Manifest, MessageDecodeError } from './messages.js';

/**
 * The handshake two nodes run when a connection opens (`/naos/handshake/1.0.0`), before
 * any sync message is accepted from the other side. Each node proves that it holds the
 * Ed25519 key of the node id it claims, bound to this connection's transport identities
 * (libp2p peer ids, which the transport's own encryption has already authenticated) and
 * to fresh nonces from both sides, and tells the other its manifest.
 *
 *   initiator → responder   challenge {nonce_i}
 *   responder → initiator   response  {nonce_r, identity_r}
 *   initiator → responder   proof     {identity_i}            (or result {ok: false, reason})
 *   responder → initiator   result    {ok: true} | {ok: false, reason}
 *
 * identity = {from, key, manifest, sig}: `from` must be the hash of `key` (a node id),
 * and `sig` is Ed25519 by `key` over
 *   "naos/handshake/1.0.0\n" ‖ DAG-CBOR {v: 1, role, initiator, responder, initiatorNonce, responderNonce, manifest}
 * where `role` is the signer's ("initiator" or "responder", so a signature cannot be
 * reflected back), `initiator`/`responder` are the two peer ids, and the manifest is the
 * signer's. A signature made for one connection (peer ids) or one run (nonces) verifies
 * for no other. This module is the pure part: formats, signing, checking; the libp2p
 * adapter moves the bytes.
 */

export const HANDSHAKE_PROTOCOL = '/naos/handshake/1.0.0';
export const NONCE_BYTES = 32;
/** Largest handshake message (a manifest is small; this bounds what a stranger can make us decode). */
export const MAX_HANDSHAKE_MESSAGE_BYTES = 16 * 1024;
const SIGNING_CONTEXT = 'naos/handshake/1.0.0\n';
const MAX_PEER_ID = 256;

export type HandshakeRole = 'initiator' | 'responder';

/** Why a handshake failed; stable codes for counters and logs. */
export type HandshakeRefusal =
  /** A message is not a well-formed handshake message, or came out of order. */
  | 'malformed'
  /** `from` is not the hash of `key`. */
  | 'bad-identity'
  /** The signature does not verify for this connection and these nonces. */
  | 'bad-signature'
  /** A nonce was seen before (a replayed challenge or response). */
  | 'replayed-nonce'
  /** The node id is already bound to another live peer id. */
  | 'node-id-in-use'
  /** The other side claims our own node id. */
  | 'own-node-id'
  /** The other side refused us (its reason follows). */
  | 'refused-by-peer'
  /** The handshake did not complete in time, or the stream ended early. */
  | 'timeout';

export class HandshakeError extends NaosError {
  constructor(
    readonly reason: HandshakeRefusal,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`handshake refused (${reason}): ${message}`, options);
  }
}

/** What a node proves about itself. */
export interface HandshakeIdentity {
  readonly from: string;
  readonly key: Uint8Array;
  readonly manifest: Manifest;
  readonly sig: Uint8Array;
}

export type HandshakeMessage =
  | { readonly type: 'challenge'; readonly nonce: Uint8Array }
  | { readonly type: 'response'; readonly nonce: Uint8Array; readonly identity: HandshakeIdentity }
  | { readonly type: 'proof'; readonly identity: HandshakeIdentity }
  | { readonly type: 'result'; readonly ok: true }
  | { readonly type: 'result'; readonly ok: false; readonly reason: string };

/** The connection and run a signature is bound to. */
export interface HandshakeTranscript {
  /** Transport identity (libp2p peer id) of the side that opened the handshake. */
  readonly initiator: string;
  readonly responder: string;
  readonly initiatorNonce: Uint8Array;
  readonly responderNonce: Uint8Array;
}

/** A node whose identity proof checked out. */
export interface ProvenNode {
  readonly nodeId: string;
  readonly publicKey: Uint8Array;
  readonly manifest: Manifest;
}

export function handshakeSigningBytes(role: HandshakeRole, transcript: HandshakeTranscript, manifest: Manifest): Uint8Array {
  return concatBytes(
    utf8(SIGNING_CONTEXT),
    dagCbor.encode({
      v: 1,
      role,
      initiator: transcript.initiator,
      responder: transcript.responder,
      initiatorNonce: transcript.initiatorNonce,
      responderNonce: transcript.responderNonce,
      manifest: manifestWire(manifest),
    }),
  );
}

/** Signs this side's identity for the transcript. */
export async function proveIdentity(
  signer: Signer,
  role: HandshakeRole,
  transcript: HandshakeTranscript,
  manifest: Manifest,
): Promise<HandshakeIdentity> {
  const sig = await signer.sign(handshakeSigningBytes(role, transcript, manifest));
  return { from: nodeIdFromPublicKey(signer.publicKey), key: signer.publicKey.slice(), manifest, sig };
}

/**
 * Checks the other side's identity proof for the transcript: `from` is the hash of `key`
 * and `sig` verifies for `role` (the other side's role), this connection and these
 * nonces. Returns the proven node; HandshakeError otherwise.
 */
export async function checkIdentity(
  identity: HandshakeIdentity,
  role: HandshakeRole,
  transcript: HandshakeTranscript,
): Promise<ProvenNode> {
  if (nodeIdFromPublicKey(identity.key) !== identity.from) {
    throw new HandshakeError('bad-identity', `node id ${identity.from} is not the hash of the key presented`);
  }
  if (!(await verifyEd25519(identity.key, handshakeSigningBytes(role, transcript, identity.manifest), identity.sig))) {
    throw new HandshakeError('bad-signature', `the ${role}'s signature by ${identity.from} does not verify for this connection`);
  }
  return { nodeId: identity.from, publicKey: identity.key, manifest: identity.manifest };
}

/**
 * A Signer that signs handshake transcripts only (messages starting with the handshake
 * context) and refuses anything else. Where the node key lives apart from the network
 * code — the kernel worker, while libp2p runs in the page — hand this out instead of the
 * key's full signer, so the network side can prove the node id but cannot sign
 * checkpoints or sync messages with it.
 */
export function handshakeOnlySigner(signer: Signer): Signer {
  const context = utf8(SIGNING_CONTEXT);
  return {
    publicKey: signer.publicKey.slice(),
    sign(message) {
      if (
        !(message instanceof Uint8Array) ||
        message.length < context.length ||
        !bytesEqual(message.subarray(0, context.length), context)
      ) {
        return Promise.reject(new HandshakeError('malformed', 'this signer signs handshake transcripts only'));
      }
      return signer.sign(message);
    },
  };
}

/**
 * Nonces seen recently, from any peer: a nonce that comes back (a replayed challenge or
 * response, or our own reflected) is refused. Bounded: the oldest are forgotten first;
 * a replay older than that still fails, because the other side's nonce is fresh.
 */
export class NonceRegistry {
  readonly #seen = new Set<string>();

  constructor(readonly capacity = 8192) {}

  /** Remembers `nonce`; false if it was seen before. */
  remember(nonce: Uint8Array): boolean {
    const key = toHex(nonce);
    if (this.#seen.has(key)) return false;
    this.#seen.add(key);
    if (this.#seen.size > this.capacity) this.#seen.delete(this.#seen.values().next().value!);
    return true;
  }

  get size(): number {
    return this.#seen.size;
  }
}

/** Checks a received nonce: the right length, never seen before. */
export function checkNonce(nonce: Uint8Array, registry: NonceRegistry, own?: Uint8Array): void {
  if (nonce.length !== NONCE_BYTES) throw new HandshakeError('malformed', `nonce must be ${NONCE_BYTES} bytes, got ${nonce.length}`);
  if ((own && bytesEqual(nonce, own)) || !registry.remember(nonce)) {
    throw new HandshakeError('replayed-nonce', `nonce ${toHex(nonce.subarray(0, 8))}… was seen before`);
  }
}

// ---- the two sides, as steps ---------------------------------------------------------

export interface HandshakeSideOptions {
  readonly signer: Signer;
  readonly manifest: Manifest;
  /** This side's transport identity (peer id) and the other side's. */
  readonly self: string;
  readonly remote: string;
  /** A fresh random nonce of NONCE_BYTES for this run (injected: the core draws no randomness). */
  readonly nonce: Uint8Array;
  /** Nonces seen before, shared by all handshakes of the node. */
  readonly nonces: NonceRegistry;
}

function expect<T extends HandshakeMessage['type']>(message: HandshakeMessage, type: T): Extract<HandshakeMessage, { type: T }> {
  if (message.type === 'result' && !message.ok) throw new HandshakeError('refused-by-peer', message.reason);
  if (message.type !== type) throw new HandshakeError('malformed', `expected ${type}, got ${message.type}`);
  return message as Extract<HandshakeMessage, { type: T }>;
}

function checkNotSelf(proven: ProvenNode, signer: Signer): ProvenNode {
  if (proven.nodeId === nodeIdFromPublicKey(signer.publicKey)) {
    throw new HandshakeError('own-node-id', `the other side proved this node's own id ${proven.nodeId}`);
  }
  return proven;
}

/** The side that opened the connection's handshake: challenge → (response) → proof → (result). */
export class HandshakeInitiator {
  readonly #o: HandshakeSideOptions;
  #transcript: HandshakeTranscript | undefined;

  constructor(options: HandshakeSideOptions) {
    if (options.nonce.length !== NONCE_BYTES) throw new RangeError(`nonce must be ${NONCE_BYTES} bytes, got ${options.nonce.length}`);
    this.#o = { ...options, self: checkPeerId(options.self), remote: checkPeerId(options.remote) };
    options.nonces.remember(options.nonce);
  }

  challenge(): HandshakeMessage {
    return { type: 'challenge', nonce: this.#o.nonce };
  }

  /** Checks the responder's nonce and identity; returns the proven responder and this side's proof to send. */
  async onResponse(message: HandshakeMessage): Promise<{ readonly peer: ProvenNode; readonly reply: HandshakeMessage }> {
    const response = expect(message, 'response');
    checkNonce(response.nonce, this.#o.nonces, this.#o.nonce);
    this.#transcript = {
      initiator: this.#o.self,
      responder: this.#o.remote,
      initiatorNonce: this.#o.nonce,
      responderNonce: response.nonce,
    };
    const peer = checkNotSelf(await checkIdentity(response.identity, 'responder', this.#transcript), this.#o.signer);
    const identity = await proveIdentity(this.#o.signer, 'initiator', this.#transcript, this.#o.manifest);
    return { peer, reply: { type: 'proof', identity } };
  }

  /** The responder's verdict on our proof. */
  onResult(message: HandshakeMessage): void {
    expect(message, 'result');
  }
}

/** The side that accepted the handshake stream: (challenge) → response → (proof) → result. */
export class HandshakeResponder {
  readonly #o: HandshakeSideOptions;
  #transcript: HandshakeTranscript | undefined;

  constructor(options: HandshakeSideOptions) {
    if (options.nonce.length !== NONCE_BYTES) throw new RangeError(`nonce must be ${NONCE_BYTES} bytes, got ${options.nonce.length}`);
    this.#o = { ...options, self: checkPeerId(options.self), remote: checkPeerId(options.remote) };
    options.nonces.remember(options.nonce);
  }

  /** Checks the initiator's nonce; returns our nonce and identity proof. */
  async onChallenge(message: HandshakeMessage): Promise<HandshakeMessage> {
    const challenge = expect(message, 'challenge');
    checkNonce(challenge.nonce, this.#o.nonces, this.#o.nonce);
    this.#transcript = {
      initiator: this.#o.remote,
      responder: this.#o.self,
      initiatorNonce: challenge.nonce,
      responderNonce: this.#o.nonce,
    };
    const identity = await proveIdentity(this.#o.signer, 'responder', this.#transcript, this.#o.manifest);
    return { type: 'response', nonce: this.#o.nonce, identity };
  }

  /** Checks the initiator's identity proof; returns the proven initiator (the caller then sends the result). */
  async onProof(message: HandshakeMessage): Promise<ProvenNode> {
    const proof = expect(message, 'proof');
    if (!this.#transcript) throw new HandshakeError('malformed', 'proof before challenge');
    return checkNotSelf(await checkIdentity(proof.identity, 'initiator', this.#transcript), this.#o.signer);
  }
}

// ---- encoding ----------------------------------------------------------------------

export function encodeHandshakeMessage(message: HandshakeMessage): Uint8Array {
  const wire: Record<string, unknown> = { v: 1, type: message.type };
  if (message.type === 'challenge') wire['nonce'] = message.nonce;
  if (message.type === 'response') {
    wire['nonce'] = message.nonce;
    wire['identity'] = identityWire(message.identity);
  }
  if (message.type === 'proof') wire['identity'] = identityWire(message.identity);
  if (message.type === 'result') {
    wire['ok'] = message.ok;
    if (!message.ok) wire['reason'] = message.reason.slice(0, 256);
  }
  return plainBytes(dagCbor.encode(wire));
}

/** Strict decoding: canonical DAG-CBOR, exact fields, bounded sizes; HandshakeError('malformed') otherwise. */
export function decodeHandshakeMessage(bytes: Uint8Array): HandshakeMessage {
  const fail = (why: string): never => {
    throw new HandshakeError('malformed', why);
  };
  if (!(bytes instanceof Uint8Array)) fail(`message must be bytes, got ${describeValue(bytes)}`);
  if (bytes.length > MAX_HANDSHAKE_MESSAGE_BYTES) fail(`message is ${bytes.length} bytes, over ${MAX_HANDSHAKE_MESSAGE_BYTES}`);
  let value: unknown;
  try {
    value = dagCbor.decode(bytes);
  } catch (cause) {
    return fail(`not DAG-CBOR: ${(cause as Error).message}`);
  }
  if (!bytesEqual(dagCbor.encode(value), bytes)) fail('not canonical DAG-CBOR');
  const r = record(value, fail);
  if (r['v'] !== 1) fail(`v must be 1, got ${String(r['v'])}`);
  const exact = (keys: string[]): void => {
    const got = Object.keys(r).sort().join(',');
    if (got !== [...keys, 'type', 'v'].sort().join(',')) fail(`${String(r['type'])} must have fields ${keys.join(', ')}; got ${got}`);
  };
  switch (r['type']) {
    case 'challenge':
      exact(['nonce']);
      return { type: 'challenge', nonce: bytesField(r['nonce'], 'nonce', fail) };
    case 'response':
      exact(['nonce', 'identity']);
      return { type: 'response', nonce: bytesField(r['nonce'], 'nonce', fail), identity: parseIdentity(r['identity'], fail) };
    case 'proof':
      exact(['identity']);
      return { type: 'proof', identity: parseIdentity(r['identity'], fail) };
    case 'result': {
      if (r['ok'] === true) {
        exact(['ok']);
        return { type: 'result', ok: true };
      }
      exact(['ok', 'reason']);
      if (r['ok'] !== false || typeof r['reason'] !== 'string' || r['reason'].length > 256)
        fail('result must be ok: true, or ok: false with a reason');
      return { type: 'result', ok: false, reason: r['reason'] as string };
    }
    default:
      return fail(`unknown handshake message type ${JSON.stringify(r['type'])}`);
  }
}

/** Checks a peer id string as it appears in a transcript (no parsing: the transport vouches for it). */
export function checkPeerId(peerId: string): string {
  if (typeof peerId !== 'string' || peerId.length === 0 || peerId.length > MAX_PEER_ID) {
    throw new HandshakeError('malformed', `peer id must be a non-empty string of at most ${MAX_PEER_ID} characters`);
  }
  return peerId;
}

function record(value: unknown, fail: (why: string) => never): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    fail(`must be a map, got ${describeValue(value)}`);
  }
  return value as Record<string, unknown>;
}

function bytesField(value: unknown, what: string, fail: (why: string) => never): Uint8Array {
  if (!(value instanceof Uint8Array)) fail(`${what} must be bytes`);
  return plainBytes(value);
}

function parseIdentity(value: unknown, fail: (why: string) => never): HandshakeIdentity {
  const r = record(value, fail);
  if (Object.keys(r).sort().join(',') !== 'from,key,manifest,sig') fail('identity must have exactly from, key, manifest, sig');
  const from = r['from'];
  if (!isNodeId(from)) fail(`identity.from is not a node id: ${JSON.stringify(from)}`);
  const key = bytesField(r['key'], 'identity.key', fail);
  const sig = bytesField(r['sig'], 'identity.sig', fail);
  if (key.length !== 32) fail(`identity.key must be 32 bytes, got ${key.length}`);
  if (sig.length !== 64) fail(`identity.sig must be 64 bytes, got ${sig.length}`);
  let manifest: Manifest;
  try {
    manifest = decodeManifest(r['manifest'], 'identity.manifest');
  } catch (error) {
    if (error instanceof MessageDecodeError) return fail(error.message);
    throw error;
  }
  return { from: from, key, manifest, sig };
}

function identityWire(identity: HandshakeIdentity): Record<string, unknown> {
  return { from: identity.from, key: identity.key, manifest: manifestWire(identity.manifest), sig: identity.sig };
}

function manifestWire(manifest: Manifest): Record<string, unknown> {
  return {
    region: manifest.region,
    shard: manifest.shard,
    types: [...manifest.types],
    capabilities: [...manifest.capabilities],
    trust: manifest.trust,
    started: manifest.started,
    software: manifest.software,
  };
}
