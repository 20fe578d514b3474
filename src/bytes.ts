import { InvalidInputError } from './errors.js';

/** Byte helpers shared by the core. Decoders are strict: anything non-canonical is refused. */

const HEX_DIGITS = '0123456789abcdef';
const HEX_CODES = Uint8Array.from(HEX_DIGITS, (digit) => digit.charCodeAt(0));
const ASCII = new TextDecoder();
/** The value of each lower-case hex digit by character code; -1 for any other character below 128. */
const HEX_VALUES = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) HEX_VALUES[HEX_DIGITS.charCodeAt(i)] = i;

export function toHex(bytes: Uint8Array): string {
  // Character codes decoded in one go give a flat string. Concatenating digit by digit
  // leaves a rope of 64 pieces per hash, alive as long as the string: an export of 100k
  // entries then kept ~100M small objects and spent most of its time collecting them.
  const codes = new Uint8Array(bytes.length * 2);
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    codes[2 * i] = HEX_CODES[byte >> 4]!;
    codes[2 * i + 1] = HEX_CODES[byte & 15]!;
  }
  return ASCII.decode(codes);
}

/** Lower-case hex only, even length; `what` names the value in the error. */
export function fromHex(text: string, what = 'hex string'): Uint8Array {
  if (typeof text !== 'string') throw new TypeError(`${what} must be a string, got ${typeof text}`);
  const bad = (): never => {
    throw new InvalidInputError(`${what} must be lower-case hex of even length, got ${JSON.stringify(text.slice(0, 80))}`);
  };
  if (text.length % 2 !== 0) bad();
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) {
    const high = HEX_VALUES[text.charCodeAt(2 * i)] ?? -1;
    const low = HEX_VALUES[text.charCodeAt(2 * i + 1)] ?? -1;
    if (high < 0 || low < 0) bad();
    out[i] = (high << 4) | low;
  }
  return out;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_LOOKUP = new Int16Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) B64_LOOKUP[B64.charCodeAt(i)] = i;
const B64_CODES = Uint8Array.from(B64, (symbol) => symbol.charCodeAt(0));
const PAD = '='.charCodeAt(0);

/** Standard base64 (RFC 4648 §4) with padding, as C2SP notes use. One flat string (see toHex). */
export function toBase64(bytes: Uint8Array): string {
  const codes = new Uint8Array(Math.ceil(bytes.length / 3) * 4);
  let o = 0;
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    codes[o++] = B64_CODES[n >> 18]!;
    codes[o++] = B64_CODES[(n >> 12) & 63]!;
    codes[o++] = B64_CODES[(n >> 6) & 63]!;
    codes[o++] = B64_CODES[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest > 0) {
    const n = (bytes[i]! << 16) | (rest === 2 ? bytes[i + 1]! << 8 : 0);
    codes[o++] = B64_CODES[n >> 18]!;
    codes[o++] = B64_CODES[(n >> 12) & 63]!;
    codes[o++] = rest === 2 ? B64_CODES[(n >> 6) & 63]! : PAD;
    codes[o] = PAD;
  }
  return ASCII.decode(codes);
}

/**
 * Strict standard base64: padding required, no whitespace, and the unused low bits of
 * the last symbol must be zero — so every byte string has exactly one accepted text.
 */
export function fromBase64(text: string, what = 'base64 string'): Uint8Array {
  if (typeof text !== 'string') throw new TypeError(`${what} must be a string, got ${typeof text}`);
  const bad = (why: string): never => {
    throw new InvalidInputError(`${what} is not canonical base64 (${why}): ${JSON.stringify(text.slice(0, 80))}`);
  };
  if (text.length % 4 !== 0) bad('length is not a multiple of 4');
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    const last = i + 4 === text.length;
    let n = 0;
    for (let j = 0; j < 4; j++) {
      const code = text.charCodeAt(i + j);
      const isPad = last && j >= 4 - pad;
      const v = isPad ? 0 : code < 128 ? B64_LOOKUP[code]! : -1;
      if (v < 0) bad(`bad character at ${i + j}`);
      n = (n << 6) | v;
    }
    if (last && pad === 2 && (n & 0xffff) !== 0) bad('non-zero trailing bits');
    if (last && pad === 1 && (n & 0xff) !== 0) bad('non-zero trailing bits');
    out[o++] = n >> 16;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * The same bytes as a plain Uint8Array view (no copy). Node's Buffer is a Uint8Array
 * whose slice() does NOT copy; libraries (cborg) hand out Buffers in Node, so every
 * encoder/decoder boundary normalises with this before anyone relies on slice().
 */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A copy in a fresh plain Uint8Array, whatever subclass the input is. */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decodes UTF-8, refusing invalid sequences instead of substituting U+FFFD. */
export function fromUtf8(bytes: Uint8Array, what = 'text'): string {
  try {
    return strictDecoder.decode(bytes);
  } catch (cause) {
    throw new InvalidInputError(`${what} is not valid UTF-8`, { cause });
  }
}

export function assertBytes(value: unknown, what: string, length?: number): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${what} must be a Uint8Array, got ${describe(value)}`);
  if (length !== undefined && value.length !== length) {
    throw new RangeError(`${what} must be ${length} bytes, got ${value.length}`);
  }
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Uint8Array) return `Uint8Array(${value.length})`;
  return typeof value;
}

/** Bytes in all of `chunks` together. */
export function totalLength(chunks: readonly Uint8Array[]): number {
  return chunks.reduce((total, chunk) => total + chunk.length, 0);
}
