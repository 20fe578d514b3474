/**
 * Node-side agent benchmarks (issue 5 point 10): sandbox start (cold: WebAssembly load +
 * runtime; warm: a new program's first step in a running sandbox), step round trip (the
 * sandbox alone, and a whole AgentHost step with its signed ledger commit), the cost of
 * one host effect in a batch, guest compute against native V8, memory per idle agent.
 * Alone: `npx tsx bench/agents.bench.ts > .bench/agents.json` (add
 * `node --expose-gc --import tsx` for a steadier memory figure).
 */
import { webcrypto } from 'node:crypto';
import { Bench } from 'tinybench';
import { InProcessSandbox } from '../adapters/quickjs/in-process-sandbox.js';
import { AgentHost } from '../src/agents/agent-host.js';
import { parseStepOutput } from '../src/agents/step-output.js';
import { webCryptoSigner } from '../src/crypto/ed25519.js';
import { Kernel } from '../src/kernel/kernel.js';
import { MemoryLedgerStore } from '../src/storage/memory-store.js';
import { coldStartRow, COUNTER, stepRequest } from './agent-fixtures.js';
import { summarize, type BenchRow } from './support.js';

const rows: BenchRow[] = [];
// Sandbox start, cold: load and instantiate the WebAssembly module with its own memory, make a runtime, warm it up.
rows.push(await coldStartRow('cold: WebAssembly module + runtime (in-process)', () => new InProcessSandbox()));

const sandbox = new InProcessSandbox({ cpuMs: 10_000, watchdogMs: 20_000 });
await sandbox.start();
let program = 0;
const steps = new Bench({ time: 500, warmupTime: 100 });
steps
  // Warm spawn: a program never seen before, its first step in a running sandbox (fresh context, compile, call).
  .add('warm: first step of a new program', async () => {
    await sandbox.run(stepRequest(`${COUNTER}\n// program ${program++}`));
  })
  .add('step round trip: sandbox only (in-process, no postMessage)', async () => {
    await sandbox.run(stepRequest(COUNTER));
  });
await steps.run();
rows.push(...summarize('sandbox', steps));
// Latency of a step arriving at an idle sandbox (its next context already made), as agents are driven.
rows.push(timedRow('sandbox', 'step round trip, idle sandbox (in-process)', await idleLatency(() => sandbox.run(stepRequest(COUNTER)))));

// A real node: kernel over a memory store, WebCrypto Ed25519 signing each commit.
const keys = (await webcrypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify'])) as CryptoKeyPair;
const kernel = await Kernel.open({ store: new MemoryLedgerStore(), signer: await webCryptoSigner(keys), now: () => Date.now() });
const host = new AgentHost({ kernel, sandbox });
const { id: counter } = await host.spawn(COUNTER, { name: 'counter' });
const EFFECTS = 64;
const effector = `function step(state, message) { const effects = []; for (let i = 0; i < message.count; i++) effects.push({ type: 'append', value: i }); return { state: { k: (state.k || 0) + 1 }, effects }; }`;
const { id: effects } = await host.spawn(effector, { name: 'effector', rights: ['ledger.append'] });
let spawned = 0;
const agentSteps = new Bench({ time: 800, warmupTime: 100 });
agentSteps
  .add('spawn (register + program + state, one signed batch)', async () => {
    await host.spawn(COUNTER, { name: `spawned-${spawned++}` });
  })
  .add('step: AgentHost.send (sandbox + rights + signed commit)', async () => {
    await host.send(counter, { by: 1 });
  })
  .add('step with 0 effects', async () => {
    await host.send(effects, { count: 0 });
  })
  .add(`step with ${EFFECTS} append effects`, async () => {
    await host.send(effects, { count: EFFECTS });
  });
await agentSteps.run();
rows.push(timedRow('agent host', 'step: AgentHost.send, idle sandbox', await idleLatency(() => host.send(counter, { by: 1 }))));
const agentRows = summarize('agent host', agentSteps);
rows.push(...agentRows);
const zero = agentRows.find((r) => r.name === 'step with 0 effects')!.value;
const many = agentRows.find((r) => r.name === `step with ${EFFECTS} append effects`)!.value;
rows.push({
  group: 'agent host',
  name: 'batched host effect: cost per effect (checked, recorded, committed)',
  unit: 'µs',
  value: (many - zero) / EFFECTS,
});
// The part that crosses the sandbox boundary: effects come back as data, in one batch with the state.
const marshal = new Bench({ time: 500, warmupTime: 100 });
marshal
  .add('sandbox step returning 0 effects, parsed', async () => {
    const outcome = await sandbox.run(stepRequest(effector, { message: '{"count":0}' }));
    if (outcome.ok) parseStepOutput(outcome.output);
  })
  .add(`sandbox step returning ${EFFECTS} effects, parsed`, async () => {
    const outcome = await sandbox.run(stepRequest(effector, { message: `{"count":${EFFECTS}}` }));
    if (outcome.ok) parseStepOutput(outcome.output);
  });
await marshal.run();
const marshalRows = summarize('sandbox', marshal);
rows.push({
  group: 'sandbox',
  name: 'batched host effect: marshalling cost per effect (guest → host, parsed)',
  unit: 'µs',
  value: (marshalRows[1]!.value - marshalRows[0]!.value) / EFFECTS,
});

// Guest compute against native V8: the same integer loop.
const LOOP = 'let x = 0; for (let i = 0; i < 3000000; i++) { x = (x + i * i) % 1000003; }';
const guestRuns: number[] = [];
for (let i = 0; i < 5; i++) {
  const started = performance.now();
  const outcome = await sandbox.run(stepRequest(`function step() { ${LOOP} return { state: x }; }`, { cpuMs: 60_000 }));
  if (!outcome.ok) throw new Error(`guest loop faulted: ${outcome.fault.message}`);
  guestRuns.push(performance.now() - started);
}
const native = nativeLoop;
const nativeRuns: number[] = [];
for (let i = 0; i < 5; i++) {
  const started = performance.now();
  native();
  nativeRuns.push(performance.now() - started);
}
rows.push({ group: 'compute', name: 'guest (QuickJS/WASM): 3M-iteration integer loop', unit: 'ms', value: Math.min(...guestRuns) });
rows.push({ group: 'compute', name: 'native V8: the same loop', unit: 'ms', value: Math.min(...nativeRuns) });
rows.push({ group: 'compute', name: 'guest / native', unit: 'ratio', value: Math.min(...guestRuns) / Math.min(...nativeRuns) });

// Memory per idle agent: agents keep no sandbox context between steps, so an idle agent
// is its records in the derived registry (and the kernel's view of its entries).
const gc = (globalThis as { gc?: () => void }).gc;
const IDLE = 500;
const idleKernel = await Kernel.open({ store: new MemoryLedgerStore(), signer: await webCryptoSigner(keys), now: () => Date.now() });
const idleHost = new AgentHost({ kernel: idleKernel, sandbox });
gc?.();
const before = process.memoryUsage().heapUsed;
for (let i = 0; i < IDLE; i++)
  await idleHost.spawn(COUNTER, { name: `idle-${i}`, state: { n: i, note: 'an idle agent with a small state' } });
for (const agent of idleHost.list().slice(0, 1)) await idleHost.send(agent.id, {});
gc?.();
const after = process.memoryUsage().heapUsed;
rows.push({
  group: 'memory',
  name: `per idle agent (JS heap, ${IDLE} agents, ledger in memory)${gc ? '' : ' — without --expose-gc'}`,
  unit: 'B',
  value: Math.max(0, (after - before) / IDLE),
});
await sandbox.close();

process.stdout.write(JSON.stringify({ runtime: `Node ${process.version}`, rows }, null, 2));

/** Runs `action` 200 times with a short pause before each (outside the timing); returns the latencies in µs. */
async function idleLatency(action: () => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < 200; i++) {
    await new Promise((resolve) => setTimeout(resolve, 3));
    const started = performance.now();
    await action();
    samples.push((performance.now() - started) * 1000);
  }
  return samples;
}

function timedRow(group: string, name: string, samples: number[]): BenchRow {
  const sorted = [...samples].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  return {
    group,
    name: `${name} (median)`,
    unit: 'µs',
    value: median,
    p99: sorted[Math.floor(sorted.length * 0.99)]!,
    samples: sorted.length,
  };
}

/** The same loop as LOOP, compiled by V8. */
function nativeLoop(): number {
  let x = 0;
  for (let i = 0; i < 3000000; i++) {
    x = (x + i * i) % 1000003;
  }
  return x;
}
