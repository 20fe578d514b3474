/**
 * Token bucket: `rate` tokens per second, at most `burst` saved up. Pure: the caller
 * passes the time. Used to refuse floods before they cost a decode or a signature check.
 */
export class TokenBucket {
  #tokens: number;
  #last: number | undefined;

  constructor(
    readonly rate: number,
    readonly burst: number,
  ) {
    this.#tokens = burst;
  }

  /** Takes `cost` tokens if available at time `now` (ms); false means refuse. */
  take(now: number, cost = 1): boolean {
    if (this.#last !== undefined && now > this.#last) {
      this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) / 1000) * this.rate);
    }
    this.#last = this.#last === undefined ? now : Math.max(this.#last, now);
    if (this.#tokens < cost) return false;
    this.#tokens -= cost;
    return true;
  }
}

/** Token buckets by key, forgetting the least recently used beyond `capacity`. */
export class RateLimiter {
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(
    readonly rate: number,
    readonly burst: number,
    readonly capacity = 4096,
  ) {}

  take(key: string, now: number, cost = 1): boolean {
    let bucket = this.#buckets.get(key);
    if (bucket) this.#buckets.delete(key);
    else bucket = new TokenBucket(this.rate, this.burst);
    this.#buckets.set(key, bucket);
    if (this.#buckets.size > this.capacity) this.#buckets.delete(this.#buckets.keys().next().value!);
    return bucket.take(now, cost);
  }
}
