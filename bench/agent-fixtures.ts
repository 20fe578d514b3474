/** Programs and step requests the agent benchmarks (Node and browser) share. */
import type { StepRequest } from '../src/sandbox/sandbox.js';

/** A counter: the smallest step that reads state and message and writes state. */
export const COUNTER = 'function step(state, message) { return { state: { n: (state.n || 0) + (message.by || 1) } }; }';

/** A step request for `code` with a small state and message (override any field). */
export function stepRequest(code: string, overrides: Partial<StepRequest> = {}): StepRequest {
  return {
    code,
    modules: [],
    state: '{"n":1}',
    message: '{"by":1}',
    ctx: '{"self":"agent:bench::local","step":1}',
    seed: [1, 2, 3, 4],
    ...overrides,
  };
}
