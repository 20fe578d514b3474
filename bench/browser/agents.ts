/**
 * Browser agent benchmarks (issue 5 point 10), run inside a page of the app build
 * (`globalThis.naos` up): sandbox start (cold worker, warm worker), step round trip to a
 * sandbox worker, a whole `naos.agents.send` (page → kernel worker → sandbox worker →
 * signed IndexedDB commit), the cost of one batched host effect, and guest compute
 * against native V8. Memory per idle agent is measured in Node (bench/agents.bench.ts):
 * the sandbox keeps no per-agent context, and the kernel worker's heap is not visible here.
 */
import { WorkerSandbox } from '../../adapters/browser/worker-sandbox.js';
import { coldStartRow, COUNTER, stepRequest } from '../agent-fixtures.js';
import type { BenchRow } from '../support.js';

const EFFECTOR = `function step(state, message) { const effects = []; for (let i = 0; i < message.count; i++) effects.push({ type: 'append', value: i }); return { state: { k: (state.k || 0) + 1 }, effects }; }`;
const LOOP = 'let x = 0; for (let i = 0; i < 3000000; i++) { x = (x + i * i) % 1000003; }';
const EFFECTS = 64;

const createWorker = () =>
  new Worker(new URL('../../workers/sandbox.worker.ts', import.meta.url), { type: 'module', name: 'naos-sandbox-bench' });

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `count` timed runs with an idle pause of `idleMs` before each (0: back to back); median and p99 in µs. */
async function timed(group: string, name: string, count: number, action: (i: number) => Promise<unknown>, idleMs = 3): Promise<BenchRow> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    if (idleMs > 0) await pause(idleMs);
    const started = performance.now();
    await action(i);
    samples.push((performance.now() - started) * 1000);
  }
  samples.sort((a, b) => a - b);
  return {
    group,
    name: `${name} (median)`,
    unit: 'µs',
    value: samples[Math.floor(count / 2)]!,
    p99: samples[Math.floor(count * 0.99)]!,
    samples: count,
  };
}

function nativeLoop(): number {
  let x = 0;
  for (let i = 0; i < 3000000; i++) {
    x = (x + i * i) % 1000003;
  }
  return x;
}

export async function runAgentBenchmarks(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  rows.push(await coldStartRow('cold: new worker + WebAssembly + runtime', () => new WorkerSandbox(createWorker)));

  const sandbox = new WorkerSandbox(createWorker, { cpuMs: 60_000, watchdogMs: 120_000 });
  await sandbox.start();
  rows.push(
    await timed('sandbox start', 'warm: first step of a new program in a running worker', 100, (i) =>
      sandbox.run(stepRequest(`${COUNTER}\n// program ${i}`)),
    ),
  );
  rows.push(
    await timed('sandbox', 'step round trip to the sandbox worker (postMessage both ways)', 300, () => sandbox.run(stepRequest(COUNTER))),
    await timed('sandbox', 'step round trip, steps back to back', 300, () => sandbox.run(stepRequest(COUNTER)), 0),
  );
  // The floor under that: a bare worker that echoes each message, timed the same way.
  const echo = new Worker(
    URL.createObjectURL(new Blob(['self.onmessage = (e) => self.postMessage(e.data);'], { type: 'text/javascript' })),
  );
  const echoOnce = (): Promise<unknown> =>
    new Promise((resolve) => {
      echo.onmessage = resolve;
      echo.postMessage(stepRequest(COUNTER));
    });
  rows.push(
    await timed('sandbox', 'floor: postMessage round trip to a bare echo worker, same request', 300, echoOnce),
    await timed('sandbox', 'floor, back to back', 300, echoOnce, 0),
  );
  echo.terminate();

  const guest: number[] = [];
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    const outcome = await sandbox.run(stepRequest(`function step() { ${LOOP} return { state: x }; }`));
    if (!outcome.ok) throw new Error(`guest loop faulted: ${outcome.fault.message}`);
    guest.push(performance.now() - started);
  }
  const native: number[] = [];
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    nativeLoop();
    native.push(performance.now() - started);
  }
  rows.push({ group: 'compute', name: 'guest (QuickJS/WASM): 3M-iteration integer loop', unit: 'ms', value: Math.min(...guest) });
  rows.push({ group: 'compute', name: 'native V8: the same loop', unit: 'ms', value: Math.min(...native) });
  rows.push({ group: 'compute', name: 'guest / native', unit: 'ratio', value: Math.min(...guest) / Math.min(...native) });
  await sandbox.close();

  await naos.ready;
  const suffix = Math.floor(performance.now()).toString(36);
  rows.push(
    await timed('agents', 'naos.agents.spawn (page → kernel worker, signed IndexedDB commit)', 30, (i) =>
      naos.agents.spawn(COUNTER, { name: `bench-${suffix}-${i}` }),
    ),
  );
  const { id } = await naos.agents.spawn(COUNTER, { name: `bench-${suffix}-counter` });
  rows.push(await timed('agents', 'naos.agents.send: step + signed IndexedDB commit', 100, () => naos.agents.send(id, { by: 1 })));
  const effector = (await naos.agents.spawn(EFFECTOR, { name: `bench-${suffix}-effects`, rights: ['ledger.append'] })).id;
  const zero = await timed('agents', 'naos.agents.send, 0 effects', 50, () => naos.agents.send(effector, { count: 0 }));
  const many = await timed('agents', `naos.agents.send, ${EFFECTS} append effects`, 50, () =>
    naos.agents.send(effector, { count: EFFECTS }),
  );
  rows.push(zero, many, {
    group: 'agents',
    name: 'batched host effect: cost per effect',
    unit: 'µs',
    value: (many.value - zero.value) / EFFECTS,
  });
  return rows;
}
