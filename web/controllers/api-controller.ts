import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { KernelClient } from '../kernel-client.js';
import type { NaosApi } from '../naos-api.js';
import { ChangeScheduler, oneAtATime } from './change-scheduler.js';
import { describeError } from './kernel-controller.js';

export interface ApiControllerOptions<T> {
  /** Reads the value through the naos API (never by reaching into the worker). */
  readonly read: (naos: NaosApi) => Promise<T>;
  /** Re-read this often while the host is connected (for state that changes without a head change, e.g. peers). */
  readonly pollMs?: number;
  /** Re-read whenever a held head changes (default true). */
  readonly onChange?: boolean;
  /** A further change source to re-read on (coalesced like head changes); returns its unsubscribe. */
  readonly changes?: (naos: NaosApi, listener: () => void) => () => void;
}

/**
 * One piece of kernel state in a Lit element: read through the naos API once the kernel
 * is up, again on every head change and/or every `pollMs`, only while the host is
 * connected and the page visible (ChangeScheduler). Reads that are asked for while one
 * runs collapse into one more read. The host renders `value` (undefined until the first
 * read) and `error` (the last failure).
 */
export class ApiController<T> implements ReactiveController {
  value: T | undefined = undefined;
  error: string | undefined = undefined;
  readonly #host: ReactiveControllerHost;
  readonly #options: ApiControllerOptions<T>;
  #client: KernelClient | undefined;
  #connected = false;
  #stop: (() => void)[] = [];

  constructor(host: ReactiveControllerHost, options: ApiControllerOptions<T>) {
    this.#host = host;
    this.#options = options;
    host.addController(this);
  }

  set client(client: KernelClient | undefined) {
    if (client === this.#client) return;
    this.#teardown();
    this.#client = client;
    this.value = undefined;
    this.error = undefined;
    if (this.#connected) this.#setup();
    this.#host.requestUpdate();
  }

  get client(): KernelClient | undefined {
    return this.#client;
  }

  hostConnected(): void {
    this.#connected = true;
    this.#setup();
  }

  hostDisconnected(): void {
    this.#connected = false;
    this.#teardown();
  }

  /** Reads again now (e.g. after the host changed what it asks for). */
  refresh(): Promise<void> {
    const client = this.#client;
    return client ? this.#read(client) : Promise.resolve();
  }

  #setup(): void {
    const client = this.#client;
    if (!client) return;
    let alive = true;
    this.#stop.push(() => (alive = false));
    client.naos.ready.then(
      () => {
        if (!alive) return;
        // Bursts of changes collapse into one read; a hidden page reads once shown again.
        const scheduler = new ChangeScheduler(() => void this.#read(client));
        this.#stop.push(() => scheduler.stop());
        if (this.#options.onChange ?? true) this.#stop.push(client.naos.onChange(() => scheduler.changed()));
        if (this.#options.changes) this.#stop.push(this.#options.changes(client.naos, () => scheduler.changed()));
        if (this.#options.pollMs !== undefined) {
          const timer = setInterval(() => scheduler.tick(), this.#options.pollMs);
          this.#stop.push(() => clearInterval(timer));
        }
        void this.#read(client);
      },
      (error: unknown) => {
        if (!alive) return;
        this.error = describeError(error);
        this.#host.requestUpdate();
      },
    );
  }

  #teardown(): void {
    for (const stop of this.#stop.splice(0)) stop();
  }

  readonly #read = oneAtATime(async (client: KernelClient): Promise<void> => {
    try {
      const value = await this.#options.read(client.naos);
      if (this.#client !== client) return;
      this.value = value;
      this.error = undefined;
    } catch (error) {
      if (this.#client !== client) return;
      this.error = describeError(error);
    }
    this.#host.requestUpdate();
  });
}
