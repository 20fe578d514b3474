/**
 * Base class of every error Naos raises on purpose. `name` is the subclass's own name,
 * so callers (and peers reading a rejection reason) can branch on `err.name` without
 * importing the class — the js-libp2p convention.
 */
export class NaosError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A value handed to a public function has the wrong shape; says which and why. */
export class InvalidInputError extends NaosError {}

/** Anything thrown, as an Error (non-Error throwables are wrapped, keeping their text). */
export function asError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown));
}
