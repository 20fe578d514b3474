import { base32 } from 'multiformats/bases/base32';
import { assertBytes } from '../bytes.js';
import { PUBLIC_KEY_SIZE } from '../crypto/ed25519.js';
import { sha256 } from '../crypto/sha256.js';

/**
 * A node id is the first 20 bytes of SHA-256(Ed25519 public key) in lower-case base32
 * (32 characters). Anyone holding the public key can recompute it, so an id cannot be
 * claimed without the key.
 */
const NODE_ID_PATTERN = /^[a-z2-7]{32}$/;

export function nodeIdFromPublicKey(publicKey: Uint8Array): string {
  assertBytes(publicKey, 'public key', PUBLIC_KEY_SIZE);
  return base32.baseEncode(sha256(publicKey).subarray(0, 20));
}

export function isNodeId(value: unknown): value is string {
  return typeof value === 'string' && NODE_ID_PATTERN.test(value);
}

/** The origin line (and note key name) of a node's own log. */
export function logOrigin(nodeId: string): string {
  return `naos/${nodeId}`;
}

/** The node id named by a log origin, or undefined if the origin is not a node log. */
export function nodeIdOfOrigin(origin: string): string | undefined {
  const match = /^naos\/([a-z2-7]{32})$/.exec(origin);
  return match?.[1];
}
