import { deleteDB } from 'idb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LaunchedKernel, launchKernelWorker } from '../../web/kernel-worker.js';
import type { AgentsRemote } from '../../workers/protocol.js';
import type { StepResult } from '../../workers/agent-service.js';

// The agent runtime in the real kernel worker: its sandbox is a nested Web Worker.
const namespace = `naos-test-agents-${Date.now()}`;
const memory = { getItem: () => null, setItem: () => undefined };

const COUNTER = 'function step(state, message) { return { state: { n: (state.n || 0) + (message.by || 1) } }; }';

describe('agents in the kernel worker (Chromium)', () => {
  let launched: LaunchedKernel;
  let agents: AgentsRemote;
  beforeAll(async () => {
    launched = await launchKernelWorker({ namespace, memory });
    agents = (await launched.kernel.agents()) as unknown as AgentsRemote;
  });
  afterAll(async () => {
    launched.worker.terminate();
    await deleteDB(`${namespace}-node-0`);
  });

  it('spawns, steps and reads an agent', async () => {
    const { id } = await agents.spawn(COUNTER, { name: 'counter' });
    expect(id).toBe('agent:counter::local');
    const result = await agents.send(id, { by: 4 });
    expect(result).toMatchObject({ status: 'committed', step: 1, state: { n: 4 } });
    expect(await agents.get(id)).toMatchObject({ id, state: { n: 4 }, step: 1, live: true });
    expect((await launched.kernel.entries(0, 10)).map((e) => e.kind)).toEqual([
      'blob.chunk',
      'policy.register',
      'agent.spawn',
      'agent.step',
    ]);
  });

  it('keeps the kernel responsive while a runaway agent is stopped by the watchdog, then rolls it back', async () => {
    const { id } = await agents.spawn('function step() { for (;;) Array(1e5).fill(0); }', { name: 'runaway', state: { safe: true } });
    const step = agents.send(id, {}) as Promise<StepResult>;
    // The sandbox is another worker: the kernel appends and signs meanwhile.
    expect(await launched.kernel.append({ during: 'runaway' })).toMatchObject({ index: expect.any(Number) as unknown });
    const result = await step;
    expect(result).toMatchObject({ status: 'rolled-back', state: { safe: true }, verified: true, fault: { kind: 'cpu' } });
    expect((await agents.sandboxStats()).replaced).toBeGreaterThanOrEqual(1);
  });

  it('contains a memory bomb and deep recursion; a bystander keeps working', async () => {
    const { id: bystander } = await agents.spawn(COUNTER, { name: 'bystander' });
    const bomb = await agents.spawn('function step() { const a = []; for (;;) a.push(new Array(100000).fill(0)); }', { name: 'bomb' });
    const deep = await agents.spawn('function f(n) { return f(n + 1) + 1; } function step() { return { state: f(0) }; }', { name: 'deep' });
    expect(await agents.send(bomb.id, {})).toMatchObject({ status: 'rolled-back', fault: { kind: 'memory' } });
    expect(await agents.send(deep.id, {})).toMatchObject({ status: 'rolled-back', fault: { kind: 'stack' } });
    expect(await agents.send(bystander, {})).toMatchObject({ status: 'committed', state: { n: 1 } });
  });

  it('kills the sandbox under a running step and rolls the agent back', async () => {
    const { id } = await agents.spawn('function step(s, m) { if (m.spin) for (;;) {} return { state: { ok: true } }; }', {
      name: 'victim',
    });
    const step = agents.send(id, { spin: true }) as Promise<StepResult>;
    await new Promise((resolve) => setTimeout(resolve, 30));
    await agents.kill(id);
    expect(await step).toMatchObject({ status: 'rolled-back', fault: { kind: expect.stringMatching(/crash|cpu/) as unknown } });
    expect(await agents.send(id, {})).toMatchObject({ status: 'committed', state: { ok: true } });
  });

  it('imports a WASM module by CID and verifies it', async () => {
    // (module (func (export "answer") (result i32) i32.const 42))
    const wasm = new Uint8Array([
      0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 127, 3, 2, 1, 0, 7, 10, 1, 6, 97, 110, 115, 119, 101, 114, 0, 0, 10, 6, 1, 4, 0, 65,
      42, 11,
    ]);
    const published = await agents.modulePublish('answer', '1.0.0', wasm, 'wasm');
    expect(await agents.moduleImport('answer', published.cid)).toMatchObject({ kind: 'wasm', exports: ['answer'], size: wasm.length });
  });
});
