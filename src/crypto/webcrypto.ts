/**
 * The slice of WebCrypto the core uses (Ed25519 sign/verify/import). Reached through
 * globalThis so the core needs no DOM types; keys are opaque objects (CryptoKey at run time).
 */
export type CryptoKeyLike = object;

type Bytes = Uint8Array<ArrayBuffer>;

export interface SubtleLike {
  sign(algorithm: { name: string }, key: CryptoKeyLike, data: Bytes): Promise<ArrayBuffer>;
  verify(algorithm: { name: string }, key: CryptoKeyLike, signature: Bytes, data: Bytes): Promise<boolean>;
  importKey(format: 'raw', keyData: Bytes, algorithm: { name: string }, extractable: boolean, usages: string[]): Promise<CryptoKeyLike>;
  exportKey(format: 'raw', key: CryptoKeyLike): Promise<ArrayBuffer>;
}

/** WebCrypto's SubtleCrypto, or undefined where the runtime has none. */
export function subtleCrypto(): SubtleLike | undefined {
  return (globalThis as { crypto?: { subtle?: SubtleLike } }).crypto?.subtle;
}
