import type { QuickJSWASMModule } from 'quickjs-emscripten-core';
import { QuickJsEngine } from '../../src/sandbox/quickjs-engine.js';
import {
  DEFAULT_LIMITS,
  SandboxClosedError,
  type SandboxHost,
  type SandboxLimits,
  type SandboxStats,
  type StepOutcome,
  type StepRequest,
} from '../../src/sandbox/sandbox.js';
import { loadQuickJs } from './load.js';

/**
 * The in-process sandbox host: QuickJS on the caller's own thread (Node tests, the CLI,
 * benchmarks). Same engine, limits and faults as the worker host, with one difference
 * that is inherent: nothing can pre-empt synchronous WebAssembly on the caller's thread,
 * so there is no watchdog — code stuck inside one long built-in call is stopped by the
 * interrupt handler only when that call returns. Browsers use the worker host.
 */
export class InProcessSandbox implements SandboxHost {
  readonly #limits: SandboxLimits;
  readonly #now: () => number;
  #engine: Promise<QuickJsEngine> | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #killed = false;
  #closed = false;
  #started = 0;
  #replaced = 0;
  #steps = 0;

  constructor(limits: Partial<SandboxLimits> = {}, now: () => number = () => performance.now()) {
    this.#limits = { ...DEFAULT_LIMITS, ...limits };
    this.#now = now;
  }

  /** Loads the engine now rather than at the first step (a "cold start"). */
  async start(): Promise<void> {
    const engine = await this.#currentEngine();
    engine.prewarm();
  }

  run(request: StepRequest): Promise<StepOutcome> {
    if (this.#closed) return Promise.reject(new SandboxClosedError('the sandbox host is closed'));
    const run = this.#queue.then(async () => {
      const engine = await this.#currentEngine();
      this.#steps++;
      const outcome = engine.run(request);
      if (this.#killed) {
        this.#killed = false;
        this.#discard();
        return { ok: false as const, fault: { kind: 'crash' as const, message: 'the sandbox was killed' } };
      }
      if (engine.broken) this.#discard();
      // The next step's context is made once the caller has its answer, as the worker host does.
      else setTimeout(() => void this.#engine?.then((current) => current.prewarm()), 0);
      return outcome;
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Marks the sandbox dead: the step in progress (if any) ends as a crash, the next one gets a new engine. */
  kill(): void {
    this.#killed = true;
    void this.#queue.then(() => {
      if (!this.#killed) return;
      this.#killed = false;
      this.#discard();
    });
  }

  stats(): SandboxStats {
    return { started: this.#started, replaced: this.#replaced, steps: this.#steps };
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#queue;
    const engine = this.#engine;
    this.#engine = undefined;
    if (engine) (await engine).dispose();
  }

  #currentEngine(): Promise<QuickJsEngine> {
    this.#engine ??= this.#load();
    return this.#engine;
  }

  async #load(): Promise<QuickJsEngine> {
    const module: QuickJSWASMModule = await loadQuickJs(this.#limits.memoryBytes);
    this.#started++;
    return new QuickJsEngine(module, this.#limits, this.#now);
  }

  /** Drops the engine and its WebAssembly memory without disposing inside a possibly damaged heap. */
  #discard(): void {
    if (this.#engine) this.#replaced++;
    this.#engine = undefined;
  }
}
