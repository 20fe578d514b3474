import { NaosError } from '../../src/errors.js';
import {
  DEFAULT_LIMITS,
  SandboxClosedError,
  type SandboxFault,
  type SandboxHost,
  type SandboxLimits,
  type SandboxStats,
  type StepOutcome,
  type StepRequest,
} from '../../src/sandbox/sandbox.js';
import { type FromSandbox, SANDBOX_READY_MESSAGE, type ToSandbox } from '../../src/sandbox/worker-protocol.js';

/** A sandbox worker could not be started (the script or the WebAssembly failed to load). */
export class SandboxStartError extends NaosError {}

interface Live {
  readonly worker: Worker;
  readonly ready: Promise<void>;
}

interface Pending {
  readonly id: number;
  readonly resolve: (outcome: StepOutcome) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/**
 * The Web Worker sandbox host: QuickJS in a dedicated worker, one step at a time, each
 * watched by a watchdog. When a step overruns `watchdogMs` (code stuck inside a long
 * built-in, where the interrupt handler cannot reach), when the engine reports its heap
 * broken (out of memory, a WebAssembly trap) or when kill() is called, the worker is
 * terminated — its whole WebAssembly memory goes with it — and the next step starts a
 * new one. The caller's thread is never blocked by a guest.
 *
 * The worker is created by an injected factory (the kernel worker passes
 * `new Worker(new URL('./sandbox.worker.ts', import.meta.url), {type: 'module'})`), so
 * this adapter never names a worker module.
 */
export class WorkerSandbox implements SandboxHost {
  readonly #createWorker: () => Worker;
  readonly #limits: SandboxLimits;
  #live: Live | undefined;
  #pending: Pending | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #nextId = 1;
  #closed = false;
  #started = 0;
  #replaced = 0;
  #steps = 0;

  constructor(createWorker: () => Worker, limits: Partial<SandboxLimits> = {}) {
    this.#createWorker = createWorker;
    this.#limits = { ...DEFAULT_LIMITS, ...limits };
    if (!(this.#limits.watchdogMs > this.#limits.cpuMs)) {
      throw new RangeError(`watchdogMs (${this.#limits.watchdogMs}) must be larger than cpuMs (${this.#limits.cpuMs})`);
    }
  }

  /** Starts the worker now rather than at the first step. */
  start(): Promise<void> {
    return this.#current().ready;
  }

  run(request: StepRequest): Promise<StepOutcome> {
    if (this.#closed) return Promise.reject(new SandboxClosedError('the sandbox host is closed'));
    const run = this.#queue.then(() => this.#runNow(request));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  kill(): void {
    this.#terminate({ kind: 'crash', message: 'the sandbox worker was killed' });
  }

  stats(): SandboxStats {
    return { started: this.#started, replaced: this.#replaced, steps: this.#steps };
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#queue;
    this.#live?.worker.terminate();
    this.#live = undefined;
  }

  async #runNow(request: StepRequest): Promise<StepOutcome> {
    let live: Live;
    try {
      live = this.#current();
      await live.ready;
    } catch (error) {
      this.#live = undefined;
      return { ok: false, fault: { kind: 'crash', message: error instanceof Error ? error.message : String(error) } };
    }
    this.#steps++;
    const id = this.#nextId++;
    const watchdogMs = Math.max(this.#limits.watchdogMs, (request.cpuMs ?? 0) + this.#limits.watchdogMs - this.#limits.cpuMs);
    return new Promise<StepOutcome>((resolve) => {
      const timer = setTimeout(
        () =>
          this.#terminate({ kind: 'cpu', message: `the step ran past the ${watchdogMs} ms watchdog; the sandbox worker was terminated` }),
        watchdogMs,
      );
      this.#pending = { id, resolve, timer };
      const message: ToSandbox = { type: 'step', id, request };
      live.worker.postMessage(message);
    });
  }

  #current(): Live {
    if (this.#live) return this.#live;
    const worker = this.#createWorker();
    this.#started++;
    const ready = new Promise<void>((resolve, reject) => {
      worker.addEventListener('message', (event: MessageEvent<FromSandbox | string>) => {
        const data = event.data;
        if (data === SANDBOX_READY_MESSAGE) {
          worker.postMessage({ type: 'init', limits: this.#limits } satisfies ToSandbox);
          return;
        }
        if (typeof data !== 'object' || data === null) return;
        if (data.type === 'loaded') resolve();
        else if (data.type === 'load-failed') reject(new SandboxStartError(`the sandbox failed to load QuickJS: ${data.message}`));
        else if (data.type === 'outcome') this.#settle(worker, data.id, data.outcome, data.broken);
      });
      worker.addEventListener('error', (event) => {
        event.preventDefault();
        reject(new SandboxStartError(`the sandbox worker failed: ${event.message || 'unknown error'}`));
        if (this.#live?.worker === worker)
          this.#terminate({ kind: 'crash', message: `the sandbox worker crashed: ${event.message || 'unknown error'}` });
      });
    });
    ready.catch(() => undefined);
    this.#live = { worker, ready };
    return this.#live;
  }

  #settle(worker: Worker, id: number, outcome: StepOutcome, broken: boolean): void {
    const pending = this.#pending;
    if (!pending || pending.id !== id || this.#live?.worker !== worker) return;
    clearTimeout(pending.timer);
    this.#pending = undefined;
    if (broken) this.#replace();
    pending.resolve(outcome);
  }

  /** Terminates the live worker; a step in progress ends with `fault`. */
  #terminate(fault: SandboxFault): void {
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending) clearTimeout(pending.timer);
    this.#replace();
    pending?.resolve({ ok: false, fault });
  }

  #replace(): void {
    if (!this.#live) return;
    this.#live.worker.terminate();
    this.#live = undefined;
    this.#replaced++;
  }
}
