import { ed25519 } from '@noble/curves/ed25519.js';
import { assertBytes, toHex } from '../bytes.js';
import { type CryptoKeyLike, subtleCrypto } from './webcrypto.js';

/**
 * Ed25519 signatures. Verification uses WebCrypto where the runtime has Ed25519
 * (Chromium ≥ 137, Node ≥ 20 — native code, ≈10× faster than JS here) and falls back to
 * @noble/curves elsewhere. Signing lives behind the Signer interface, so private keys can
 * stay non-extractable WebCrypto keys.
 */

export const PUBLIC_KEY_SIZE = 32;
export const SIGNATURE_SIZE = 64;

/** Something that can sign with one Ed25519 key without revealing it. */
export interface Signer {
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

let webCryptoEd25519: boolean | undefined;
const importedKeys = new Map<string, CryptoKeyLike>();
const MAX_CACHED_KEYS = 1024;

async function importVerifyKey(publicKey: Uint8Array): Promise<CryptoKeyLike | undefined> {
  const subtle = subtleCrypto();
  if (webCryptoEd25519 === false || !subtle) return undefined;
  const cacheKey = toHex(publicKey);
  const cached = importedKeys.get(cacheKey);
  if (cached) return cached;
  try {
    const key = await subtle.importKey('raw', publicKey.slice(), { name: 'Ed25519' }, false, ['verify']);
    webCryptoEd25519 = true;
    if (importedKeys.size >= MAX_CACHED_KEYS) importedKeys.delete(importedKeys.keys().next().value!);
    importedKeys.set(cacheKey, key);
    return key;
  } catch (error) {
    // Only "this runtime lacks Ed25519" switches to the fallback; a malformed key is
    // simply a failed verification.
    if ((error as Error).name === 'NotSupportedError') webCryptoEd25519 = false;
    return undefined;
  }
}

/** True iff `signature` is a valid Ed25519 signature of `message` by `publicKey`. Never throws on bad bytes. */
export async function verifyEd25519(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  assertBytes(publicKey, 'public key');
  assertBytes(message, 'message');
  assertBytes(signature, 'signature');
  if (publicKey.length !== PUBLIC_KEY_SIZE || signature.length !== SIGNATURE_SIZE) return false;
  const key = await importVerifyKey(publicKey);
  const subtle = subtleCrypto();
  if (key && subtle) return subtle.verify({ name: 'Ed25519' }, key, signature.slice(), message.slice());
  try {
    return ed25519.verify(signature, message, publicKey);
  } catch {
    return false;
  }
}

/** A Signer over a WebCrypto Ed25519 key pair (the private key may be non-extractable). */
export async function webCryptoSigner(keys: { publicKey: CryptoKeyLike; privateKey: CryptoKeyLike }): Promise<Signer> {
  const subtle = subtleCrypto();
  if (!subtle) throw new Error('this runtime has no WebCrypto');
  const publicKey = new Uint8Array(await subtle.exportKey('raw', keys.publicKey));
  return {
    publicKey,
    async sign(message) {
      return new Uint8Array(await subtle.sign({ name: 'Ed25519' }, keys.privateKey, message.slice()));
    },
  };
}

/** A Signer over a raw 32-byte seed, for tests and the reference vectors only. */
export function seedSigner(seed: Uint8Array): Signer {
  assertBytes(seed, 'seed', 32);
  const secret = seed.slice();
  return {
    publicKey: ed25519.getPublicKey(secret),
    sign: (message) => Promise.resolve(ed25519.sign(message, secret)),
  };
}
