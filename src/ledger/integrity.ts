import { NaosError } from '../errors.js';

/** One thing found wrong with stored state: where it is and what is wrong. */
export interface IntegrityProblem {
  /** e.g. `entry 17`, `checkpoint 12`, `entries 5..9`, `head`. */
  readonly where: string;
  readonly what: string;
}

/** A log's stored state failed verification; the node refuses to use it. */
export class LedgerIntegrityError extends NaosError {
  constructor(
    readonly origin: string,
    readonly problems: readonly IntegrityProblem[],
  ) {
    const first = problems
      .slice(0, 3)
      .map((p) => `${p.where}: ${p.what}`)
      .join('; ');
    super(`log ${origin} failed verification (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${first}`);
  }
}
