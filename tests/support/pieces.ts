/** `text` as UTF-8 (or `bytes` as they are) in pieces of `size` bytes, as a file stream hands them over. */
export function* pieces(text: string | Uint8Array, size: number): Generator<Uint8Array> {
  const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text;
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}
