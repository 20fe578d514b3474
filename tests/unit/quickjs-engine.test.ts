import { beforeAll, describe, expect, it } from 'vitest';
import type { QuickJSWASMModule } from 'quickjs-emscripten-core';
import { loadQuickJs } from '../../adapters/quickjs/load.js';
import { QuickJsEngine } from '../../src/sandbox/quickjs-engine.js';
import { DEFAULT_LIMITS } from '../../src/sandbox/sandbox.js';
import { request } from '../contract/sandbox-contract.js';

/**
 * The engine's prepared ("primed") contexts, with a clock that advances one millisecond
 * every time it is read: the interrupt handler reads it every few thousand bytecodes, so
 * guest CPU time is a deterministic count here.
 */
describe('QuickJsEngine: programs prepared while idle', () => {
  let module: QuickJSWASMModule;
  beforeAll(async () => {
    module = await loadQuickJs(DEFAULT_LIMITS.memoryBytes);
  });

  function engine(cpuMs: number): QuickJsEngine {
    let now = 0;
    return new QuickJsEngine(module, { ...DEFAULT_LIMITS, cpuMs }, () => now++);
  }

  // A top level and a step that each spend about the same CPU time.
  const SPIN = 'let x = 0; for (let i = 0; i < 200000; i++) x = (x + i) % 7;';
  const heavy = `${SPIN} var top = x; function step() { ${SPIN} return { state: top + x }; }`;

  it('charges the prepared evaluation to the step that uses it: a step over budget faults, prepared or not', () => {
    // Measure each half's cost on the counting clock, then set a budget that fits either half but not both.
    let reads = 0;
    const counting = new QuickJsEngine(module, DEFAULT_LIMITS, () => reads++);
    counting.run(request(`${SPIN} function step() { return { state: 1 }; }`));
    const half = reads;
    counting.dispose();
    expect(half).toBeGreaterThan(4);

    const tight = engine(Math.round(half * 1.5));
    expect(tight.run(request(heavy))).toMatchObject({ ok: false, fault: { kind: 'cpu' } });
    tight.prewarm();
    expect(tight.run(request(heavy))).toMatchObject({ ok: false, fault: { kind: 'cpu' } });
    tight.dispose();

    const roomy = engine(half * 4);
    const first = roomy.run(request(heavy));
    expect(first.ok).toBe(true);
    roomy.prewarm();
    expect(roomy.run(request(heavy))).toEqual(first);
    roomy.dispose();
  });

  it('does not prepare a program whose top level does not load, and keeps answering', () => {
    const subject = engine(50);
    const outcome = subject.run(request('while (true) {} function step() {}'));
    expect(outcome).toMatchObject({ ok: false, fault: { kind: 'cpu' } });
    subject.prewarm();
    expect(subject.run(request('while (true) {} function step() {}'))).toEqual(outcome);
    expect(subject.run(request('function step(s) { return { state: s.n }; }'))).toEqual({ ok: true, output: '{"state":1}' });
    expect(subject.broken).toBe(false);
    subject.dispose();
  });
});
