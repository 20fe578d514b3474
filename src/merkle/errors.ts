import { NaosError } from '../errors.js';

/** A Merkle proof did not verify; the message says which check failed, with got vs want. */
export class ProofVerificationError extends NaosError {}

/** Asked for a proof or root the tree cannot give (index or size out of range). */
export class TreeRangeError extends NaosError {}
