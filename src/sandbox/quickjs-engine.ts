import type { QuickJSContext, QuickJSHandle, QuickJSRuntime, QuickJSWASMModule } from 'quickjs-emscripten-core';
import { GUEST_PRELUDE, MODULE_WRAPPER_LINES, moduleWrapper } from './guest-prelude.js';
import type { FaultKind, SandboxFault, SandboxLimits, SandboxModule, StepOutcome, StepRequest } from './sandbox.js';

/** Everything the guest may use of QuickJS's built-ins: all defaults except Date (no wall clock). */
const INTRINSICS = {
  BaseObjects: true,
  Date: false,
  Eval: true,
  StringNormalize: true,
  RegExp: true,
  JSON: true,
  Proxy: true,
  MapSet: true,
  TypedArrays: true,
  Promise: true,
} as const;

/** A program: the agent's code and the modules evaluated before it. */
interface Program {
  readonly code: string;
  readonly modules: readonly SandboxModule[];
}

interface WarmContext {
  readonly context: QuickJSContext;
  readonly run: QuickJSHandle;
  readonly check: QuickJSHandle;
  readonly addModule: QuickJSHandle;
  /** Set when the program is already evaluated in this context, with the CPU time that took. */
  program?: Program & { readonly ms: number };
}

/**
 * Runs agent steps in one QuickJS runtime, synchronously. Platform-free: the adapters
 * load the WebAssembly module (with its own capped WebAssembly.Memory) and inject the
 * clock the CPU deadline is measured with.
 *
 * Every step gets a fresh context, created while the host is idle (`prewarm`). Two are
 * kept ready: a plain one (the prelude only) and a primed one in which the last
 * program that loaded is already evaluated, so that the next step of the same program
 * costs only the call. Priming is exactly what a step would do first — a fresh context,
 * the prelude, the modules, the code, with the PRNG not yet seeded — so the result is
 * the same either way; its CPU time counts against the step that uses it. After a fault that
 * can leave the WebAssembly heap in an unknown state (out of memory, a trap, any host
 * exception) the engine reports itself `broken`: the adapter throws it away, with its
 * memory, and loads a new one.
 */
export class QuickJsEngine {
  readonly #runtime: QuickJSRuntime;
  readonly #limits: SandboxLimits;
  readonly #now: () => number;
  #deadline = Infinity;
  /** The CPU budget of the step running (named in its fault if it runs out). */
  #budgetMs = 0;
  #plain: WarmContext | undefined;
  #primed: WarmContext | undefined;
  #lastProgram: Program | undefined;
  #broken = false;

  constructor(module: QuickJSWASMModule, limits: SandboxLimits, now: () => number) {
    this.#limits = limits;
    this.#now = now;
    this.#runtime = module.newRuntime();
    this.#runtime.setMaxStackSize(limits.stackBytes);
    // Not a cumulative cap (quickjs-emscripten #255/#271) — the WebAssembly.Memory maximum
    // is — but it refuses single huge allocations early and cleanly.
    this.#runtime.setMemoryLimit(Math.floor(limits.memoryBytes / 2));
    this.#runtime.setInterruptHandler(() => this.#now() > this.#deadline);
    this.#warmUp();
  }

  /** True once the heap may be damaged; the engine must then be replaced. */
  get broken(): boolean {
    return this.#broken;
  }

  /** Creates the next step's contexts ahead of time (idempotent): a plain one and one primed with the last program. */
  prewarm(): void {
    if (this.#broken) return;
    try {
      this.#plain ??= this.#newWarmContext();
      const wanted = this.#lastProgram;
      if (wanted && !(this.#primed?.program && sameProgram(this.#primed.program, wanted))) {
        this.#release(this.#primed);
        this.#primed = undefined;
        this.#primed = this.#prime(wanted);
      }
    } catch {
      this.#broken = true;
    }
  }

  run(request: StepRequest): StepOutcome {
    if (this.#broken) return fault('crash', 'the sandbox is broken and must be replaced');
    const budget = request.cpuMs ?? this.#limits.cpuMs;
    let warm: WarmContext;
    const primed = this.#primed;
    if (primed?.program && sameProgram(primed.program, request) && primed.program.ms < budget) {
      warm = primed;
      this.#primed = undefined;
    } else {
      try {
        warm = this.#plain ?? this.#newWarmContext();
      } catch (error) {
        this.#broken = true;
        return fault('crash', `the sandbox could not create a context: ${describe(error)}`);
      }
      this.#plain = undefined;
    }
    const { context } = warm;
    this.#budgetMs = budget;
    this.#deadline = this.#now() + budget - (warm.program?.ms ?? 0);
    try {
      if (!warm.program) {
        const failed = this.#load(warm, request);
        if (failed) return failed;
      }
      this.#lastProgram = { code: request.code, modules: request.modules };
      const result = request.loadOnly ? context.callFunction(warm.check, context.undefined) : callStep(context, warm.run, request);
      if (result.error) return this.#guestFault(context, result.error);
      return this.#readOutput(context, result.value);
    } catch (error) {
      // A host-side exception (a WebAssembly trap, a RangeError from the glue) means the
      // heap can no longer be trusted.
      this.#broken = true;
      return fault('crash', `the sandbox crashed: ${describe(error)}`);
    } finally {
      this.#deadline = Infinity;
      this.#release(warm);
    }
  }

  /** Frees the runtime (skipped when broken: disposal can abort inside a damaged heap). */
  dispose(): void {
    this.#release(this.#plain);
    this.#release(this.#primed);
    this.#plain = undefined;
    this.#primed = undefined;
    if (this.#broken) return;
    try {
      this.#runtime.dispose();
    } catch {
      this.#broken = true;
    }
  }

  /** Evaluates the request's modules, then its code, in `warm`; a fault if the guest failed. */
  #load(warm: WarmContext, program: Program): StepOutcome | undefined {
    const { context } = warm;
    for (const module of program.modules) {
      const value = this.#evaluate(context, moduleWrapper(module.source), `module:${module.name}`);
      if (!value.ok) return value.outcome;
      const name = context.newString(module.name);
      const added = context.callFunction(warm.addModule, context.undefined, name, value.handle);
      name.dispose();
      value.handle.dispose();
      if (added.error) return this.#guestFault(context, added.error);
      added.value.dispose();
    }
    const evaluated = this.#evaluate(context, program.code, 'agent.js');
    if (!evaluated.ok) return evaluated.outcome;
    evaluated.handle.dispose();
    return undefined;
  }

  /**
   * A new context with `program` evaluated, under the CPU limit, or nothing when it did
   * not load this time (the step that wants it then loads it itself and reports why).
   */
  #prime(program: Program): WarmContext | undefined {
    const warm = this.#newWarmContext();
    const started = this.#now();
    this.#deadline = started + this.#limits.cpuMs;
    try {
      if (this.#load(warm, program) === undefined) {
        warm.program = { ...program, ms: this.#now() - started };
        return warm;
      }
    } finally {
      this.#deadline = Infinity;
    }
    this.#release(warm);
    this.#lastProgram = undefined;
    return undefined;
  }

  /** Disposes a context (not when the heap is broken: disposal can abort inside it). */
  #release(warm: WarmContext | undefined): void {
    if (!warm || this.#broken) return;
    try {
      warm.run.dispose();
      warm.check.dispose();
      warm.addModule.dispose();
      warm.context.dispose();
    } catch {
      this.#broken = true;
    }
  }

  /**
   * The first evaluations in a new WebAssembly instance are many times slower than the
   * rest (the engine compiles its code lazily); one throw-away step here keeps that out
   * of the first agent's CPU budget.
   */
  #warmUp(): void {
    const warm = this.#newWarmContext();
    const result = warm.context.evalCode(
      'function step(s, m, c) { return { state: [s, m, c.random()] }; } __naos.run("1", "2", "{}", 1, 2, 3, 4)',
    );
    if (result.error) result.error.dispose();
    else result.value.dispose();
    this.#release(warm);
  }

  #newWarmContext(): WarmContext {
    const context = this.#runtime.newContext({ intrinsics: INTRINSICS });
    // The prelude is ours, not the guest's: a generous deadline, only against a stall.
    this.#deadline = this.#now() + Math.max(1_000, this.#limits.cpuMs);
    try {
      const prelude = context.evalCode(GUEST_PRELUDE, 'naos-prelude.js');
      if (prelude.error) {
        const why = safeDump(context, prelude.error);
        prelude.error.dispose();
        throw new Error(`the guest prelude failed: ${why.message}`);
      }
      prelude.value.dispose();
      const api = context.getProp(context.global, '__naos');
      const run = context.getProp(api, 'run');
      const check = context.getProp(api, 'check');
      const addModule = context.getProp(api, 'addModule');
      api.dispose();
      return { context, run, check, addModule };
    } finally {
      this.#deadline = Infinity;
    }
  }

  #evaluate(
    context: QuickJSContext,
    code: string,
    filename: string,
  ): { ok: true; handle: QuickJSHandle } | { ok: false; outcome: StepOutcome } {
    const result = context.evalCode(code, filename);
    if (result.error) return { ok: false, outcome: this.#guestFault(context, result.error) };
    return { ok: true, handle: result.value };
  }

  #readOutput(context: QuickJSContext, handle: QuickJSHandle): StepOutcome {
    try {
      if (context.typeof(handle) !== 'string') return fault('output', 'step output is not JSON text');
      const length = context.getProp(handle, 'length');
      const chars = context.getNumber(length);
      length.dispose();
      if (chars > this.#limits.outputChars) {
        return fault('output', `step output is ${chars} characters, more than the ${this.#limits.outputChars}-character limit`);
      }
      return { ok: true, output: context.getString(handle) };
    } finally {
      handle.dispose();
    }
  }

  #guestFault(context: QuickJSContext, error: QuickJSHandle): StepOutcome {
    const { name, message, where } = safeDump(context, error);
    try {
      error.dispose();
    } catch {
      this.#broken = true;
    }
    const kind = classify(name, message);
    if (kind === 'memory') this.#broken = true;
    const at = where ? ` (${where})` : '';
    return fault(kind, truncate(kind === 'exception' ? `${name}: ${message}${at}` : `${this.#limitPassed(kind)}${at}`));
  }

  /** What a limit fault says: which limit, and how large it is. */
  #limitPassed(kind: Exclude<FaultKind, 'exception'>): string {
    const limits = this.#limits;
    switch (kind) {
      case 'cpu':
        return `interrupted: the step ran past its ${this.#budgetMs} ms CPU limit`;
      case 'stack':
        return `stack overflow: past the ${limits.stackBytes / 1024} KiB stack limit`;
      case 'memory':
        return `out of memory: past the ${limits.memoryBytes / (1024 * 1024)} MiB memory limit`;
      default:
        return kind;
    }
  }
}

/** Calls the prelude's step runner with the request's state, message, context and PRNG seed. */
function callStep(context: QuickJSContext, run: QuickJSHandle, request: StepRequest) {
  const args = [
    context.newString(request.state),
    context.newString(request.message),
    context.newString(request.ctx),
    ...request.seed.map((word) => context.newNumber(word)),
  ];
  const result = context.callFunction(run, context.undefined, ...args);
  for (const arg of args) arg.dispose();
  return result;
}

function classify(name: string, message: string): FaultKind {
  if (name === 'InternalError' && message === 'interrupted') return 'cpu';
  if (name === 'InternalError' && message === 'stack overflow') return 'stack';
  if (message === 'out of memory' || name === '<undumpable>') return 'memory';
  if (name === 'RangeError' && /Maximum call stack/i.test(message)) return 'stack';
  return 'exception';
}

/** The error's name and message; an error that cannot even be read (a heap out of memory) is `<undumpable>`. */
function safeDump(context: QuickJSContext, error: QuickJSHandle): { name: string; message: string; where?: string } {
  try {
    const dumped: unknown = context.dump(error);
    if (typeof dumped === 'object' && dumped !== null) {
      const record = dumped as { name?: unknown; message?: unknown; stack?: unknown };
      const name = typeof record.name === 'string' ? record.name : 'Error';
      const message = typeof record.message === 'string' ? record.message : '';
      if (typeof record.name !== 'string' && typeof record.message !== 'string')
        return { name: 'Error', message: 'uncaught non-Error object' };
      const where = typeof record.stack === 'string' ? guestLocation(record.stack) : undefined;
      return where === undefined ? { name, message } : { name, message, where };
    }
    // An out-of-memory error reads back as an empty string (so does a guest's `throw ''`,
    // which thus costs it a fresh sandbox — erring on the side of a clean heap).
    if (dumped === '' || dumped === undefined) return { name: '<undumpable>', message: '' };
    return { name: 'Error', message: `uncaught ${typeof dumped}: ${JSON.stringify(dumped) ?? typeof dumped}` };
  } catch {
    return { name: '<undumpable>', message: '' };
  }
}

/**
 * Where in the guest's own code an error arose — `agent.js:4:11` or `module:<name>:2:7`, the
 * names its code and modules are evaluated under — from the first such frame of its stack
 * (a module's line counted in its own source, not in the wrapper around it); frames in the
 * prelude are ours and not reported.
 */
function guestLocation(stack: string): string | undefined {
  const frame = /\b(agent\.js|module:[a-z0-9._-]{1,64}):(\d{1,7}):(\d{1,7})\b/.exec(stack.slice(0, 2000));
  if (!frame) return undefined;
  const [, file, line, column] = frame as unknown as [string, string, string, string];
  const own = file.startsWith('module:') ? Number(line) - MODULE_WRAPPER_LINES : Number(line);
  return `${file}:${own}:${column}`;
}

function truncate(text: string): string {
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function sameProgram(a: Program, b: Program): boolean {
  return (
    a.code === b.code &&
    a.modules.length === b.modules.length &&
    a.modules.every((module, i) => module.name === b.modules[i]!.name && module.source === b.modules[i]!.source)
  );
}

function fault(kind: FaultKind, message: string): { ok: false; fault: SandboxFault } {
  return { ok: false, fault: { kind, message } };
}
