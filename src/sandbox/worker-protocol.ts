import type { SandboxLimits, StepOutcome, StepRequest } from './sandbox.js';

/**
 * Messages between a sandbox worker and its host (adapters/browser/worker-sandbox.ts).
 * Plain postMessage rather than comlink: a step round trip is on the hot path.
 */

/** Posted by the worker once its module graph has evaluated and it listens. */
export const SANDBOX_READY_MESSAGE = 'naos:sandbox-worker-ready';

export type ToSandbox =
  { readonly type: 'init'; readonly limits: SandboxLimits } | { readonly type: 'step'; readonly id: number; readonly request: StepRequest };

export type FromSandbox =
  | { readonly type: 'loaded' }
  | { readonly type: 'load-failed'; readonly message: string }
  | { readonly type: 'outcome'; readonly id: number; readonly outcome: StepOutcome; readonly broken: boolean };
