import { NaosError } from '../errors.js';

/**
 * The sandbox host interface (F14): runs one agent step — a pure function of
 * (code, modules, state, message, ctx) — inside a QuickJS/WASM sandbox and hands back
 * the guest's output as JSON text, or the fault that stopped it. Adapters: in-process
 * (adapters/quickjs/in-process-sandbox.ts, Node) and Web Worker
 * (adapters/browser/worker-sandbox.ts). tests/contract/sandbox-contract.ts is the one
 * acceptance suite both pass.
 *
 * A sandbox keeps nothing between steps: every step runs in a fresh QuickJS context
 * (pre-created while idle), so the same request gives the same output on any node and a
 * crashed sandbox loses nothing that was committed.
 */

export interface SandboxLimits {
  /** CPU time one step may take, checked by the interrupt handler between bytecodes. */
  readonly cpuMs: number;
  /**
   * Wall time after which a host with a watchdog (the worker adapter) terminates the
   * sandbox — for code stuck inside one long built-in call, which the interrupt handler
   * cannot stop. Must be larger than cpuMs.
   */
  readonly watchdogMs: number;
  /** Hard cap on the sandbox's whole WebAssembly memory (its own WebAssembly.Memory maximum). */
  readonly memoryBytes: number;
  /** QuickJS stack limit; ≈128 KiB is what a Chromium worker's own stack carries. */
  readonly stackBytes: number;
  /** Longest output (JSON text, in UTF-16 code units) a step may return. */
  readonly outputChars: number;
}

export const DEFAULT_LIMITS: SandboxLimits = {
  cpuMs: 100,
  watchdogMs: 1_000,
  memoryBytes: 32 * 1024 * 1024,
  stackBytes: 128 * 1024,
  outputChars: 512 * 1024,
};

/** A JS module an agent imported, evaluated before the agent's code on every step. */
export interface SandboxModule {
  readonly name: string;
  readonly source: string;
}

export interface StepRequest {
  /** The agent's program: JavaScript source defining `step(state, message, ctx)`. */
  readonly code: string;
  readonly modules: readonly SandboxModule[];
  /** JSON text of the committed state. */
  readonly state: string;
  /** JSON text of the message. */
  readonly message: string;
  /** JSON text of the plain part of ctx (agent id, step number, …). */
  readonly ctx: string;
  /** Seed of the guest's PRNG (Math.random and ctx.random): four 32-bit words. */
  readonly seed: readonly [number, number, number, number];
  /** Overrides of the host's CPU limit for this step (replay uses a generous one). */
  readonly cpuMs?: number;
  /**
   * Only load the program: evaluate the modules and the code (under the CPU limit) and
   * check that they define `step` — call nothing. The output is then `null`; a program
   * that does not compile, throws at its top level, runs past a limit or defines no step
   * gives the fault it would give its first step. A spawn checks its program this way.
   */
  readonly loadOnly?: boolean;
}

/**
 * Why a step produced no output:
 * - `exception`: the guest threw (or its code does not compile, or defines no step)
 * - `cpu`: the interrupt handler stopped it at the CPU deadline
 * - `memory`: out of memory (the sandbox is replaced afterwards)
 * - `stack`: stack overflow
 * - `output`: the output is too large or not JSON text
 * - `crash`: the sandbox died (WebAssembly trap, worker killed by the watchdog or by hand)
 */
export type FaultKind = 'exception' | 'cpu' | 'memory' | 'stack' | 'output' | 'crash';

export const FAULT_KINDS: readonly FaultKind[] = ['exception', 'cpu', 'memory', 'stack', 'output', 'crash'];

export interface SandboxFault {
  readonly kind: FaultKind;
  readonly message: string;
}

export type StepOutcome = { readonly ok: true; readonly output: string } | { readonly ok: false; readonly fault: SandboxFault };

export interface SandboxStats {
  /** Sandboxes (runtimes or workers) started so far, the first included. */
  readonly started: number;
  /** Sandboxes replaced after a crash, an out-of-memory or a watchdog kill. */
  readonly replaced: number;
  readonly steps: number;
}

export interface SandboxHost {
  /** Runs one step. Never rejects for anything the guest does: that is a fault outcome. */
  run(request: StepRequest): Promise<StepOutcome>;
  /**
   * Kills the sandbox as if it crashed (the failure-injection button): a step in
   * progress ends with a `crash` fault; the next step gets a fresh sandbox.
   */
  kill(): void;
  stats(): SandboxStats;
  close(): Promise<void>;
}

/** The sandbox host was closed; it runs no more steps. */
export class SandboxClosedError extends NaosError {}
