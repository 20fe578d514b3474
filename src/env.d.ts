// The pure core is type-checked against the ECMAScript library only, so that a DOM,
// Worker or Node global used by accident fails to compile. The text codecs exist in
// every runtime Naos targets (browsers, workers, Node ≥ 20) and carry no I/O. WebCrypto
// is reached through a typed accessor in src/crypto/webcrypto.ts instead of a global.

interface TextEncoder {
  encode(input?: string): Uint8Array<ArrayBuffer>;
}
declare const TextEncoder: { new (): TextEncoder };

interface TextDecoder {
  decode(input?: Uint8Array): string;
}
declare const TextDecoder: {
  new (label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean }): TextDecoder;
};
