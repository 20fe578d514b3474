/** Programs and step requests the agent benchmarks (Node and browser) share. */
import type { StepRequest } from '../src/sandbox/sandbox.js';
import type { BenchRow } from './support.js';

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

/** Times `count` cold starts of a fresh sandbox (`open()` makes one; started, then closed): mean and max in ms. */
export async function coldStartRow(
  name: string,
  open: () => { start(): Promise<void>; close(): Promise<void> },
  count = 5,
): Promise<BenchRow> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const sandbox = open();
    const started = performance.now();
    await sandbox.start();
    times.push(performance.now() - started);
    await sandbox.close();
  }
  return {
    group: 'sandbox start',
    name,
    unit: 'ms',
    value: times.reduce((a, b) => a + b) / times.length,
    p99: Math.max(...times),
    samples: count,
  };
}
