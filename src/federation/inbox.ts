/**
 * Where a node's transports deliver: messages are handed to the engine one at a time, in
 * arrival order — as in the simulator the engine is tested with. Beyond `limit` waiting,
 * new ones are dropped (the protocol asks again). `handle` never throwing is the engine's
 * promise (`SyncEngine.receive` refuses bad input); should it throw anyway, the inbox
 * carries on with the next message.
 */
export class SerialInbox {
  readonly #handle: (bytes: Uint8Array, link: string) => Promise<unknown>;
  readonly #limit: number;
  #chain: Promise<void> = Promise.resolve();
  #queued = 0;
  #closed = false;

  constructor(handle: (bytes: Uint8Array, link: string) => Promise<unknown>, limit = 10_000) {
    this.#handle = handle;
    this.#limit = limit;
  }

  /** Messages waiting now. */
  get queued(): number {
    return this.#queued;
  }

  push(bytes: Uint8Array, link: string): void {
    if (this.#closed || this.#queued >= this.#limit) return;
    this.#queued++;
    this.#chain = this.#chain.then(async () => {
      this.#queued--;
      await this.#handle(bytes, link).catch(() => undefined);
    });
  }

  /** Takes no more messages; resolves when those already taken are handled. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#chain;
  }
}
