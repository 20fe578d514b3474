/**
 * Anti-replay window per sender session (as in IPsec): accepts each sequence number
 * once, tolerates reordering within `size` numbers, refuses anything older than that.
 */
export class ReplayWindow {
  #highest = -1;
  readonly #seen = new Set<number>();

  constructor(readonly size = 1024) {}

  /** True if `seq` is new (and records it); false for a replay or a too-old number. */
  accept(seq: number): boolean {
    if (seq <= this.#highest - this.size) return false;
    if (this.#seen.has(seq)) return false;
    this.#seen.add(seq);
    if (seq > this.#highest) {
      this.#highest = seq;
      for (const old of this.#seen) if (old <= this.#highest - this.size) this.#seen.delete(old);
    }
    return true;
  }
}
