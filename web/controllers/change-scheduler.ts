/** Head changes within this many ms collapse into one panel refresh. */
export const UI_REFRESH_MS = 100;

/**
 * When a panel re-reads kernel state after changes. Changes can arrive many times a
 * second and every re-read costs the kernel worker work that competes with replication,
 * so a burst collapses into one refresh UI_REFRESH_MS after its first change. A hidden
 * page (a background tab) refreshes nothing: it remembers that it is stale and refreshes
 * once when it is shown again — with many tabs open, only the one in front pays.
 */
export class ChangeScheduler {
  readonly #refresh: () => void;
  readonly #document: Document;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stale = false;
  readonly #onVisibility = (): void => {
    if (this.#document.visibilityState === 'hidden' || !this.#stale) return;
    this.#stale = false;
    this.#refresh();
  };

  constructor(refresh: () => void, document: Document = globalThis.document) {
    this.#refresh = refresh;
    this.#document = document;
    this.#document.addEventListener('visibilitychange', this.#onVisibility);
  }

  /** Something changed: refresh soon, or once the page is visible again. */
  changed(): void {
    if (this.#document.visibilityState === 'hidden') {
      this.#stale = true;
      return;
    }
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      if (this.#document.visibilityState === 'hidden') this.#stale = true;
      else this.#refresh();
    }, UI_REFRESH_MS);
  }

  /** A periodic re-read (state that changes without a head change): now, or once visible again. */
  tick(): void {
    if (this.#document.visibilityState === 'hidden') this.#stale = true;
    else this.#refresh();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#document.removeEventListener('visibilitychange', this.#onVisibility);
  }
}

/**
 * Wraps a re-read so that one runs at a time: calls made while one runs collapse into one
 * more run after it, with the arguments of the latest call. Resolves when the run this
 * call started is done (at once for a call that was collapsed).
 */
export function oneAtATime<A extends unknown[]>(run: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  let running = false;
  let again: A | undefined;
  return async (...args: A) => {
    if (running) {
      again = args;
      return;
    }
    running = true;
    try {
      for (let next: A | undefined = args; next; next = again) {
        again = undefined;
        await run(...next);
      }
    } finally {
      running = false;
    }
  };
}
