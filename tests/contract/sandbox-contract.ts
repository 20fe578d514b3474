import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxHost, SandboxLimits, StepOutcome, StepRequest } from '../../src/sandbox/sandbox.js';

/**
 * The acceptance suite every sandbox host passes (in-process in Node, the Web Worker
 * host in Chromium). Limits are small so hostile cases end quickly.
 */
export const CONTRACT_LIMITS: Partial<SandboxLimits> = { cpuMs: 40, watchdogMs: 1_500, memoryBytes: 24 * 1024 * 1024 };

const COUNTER = `function step(state, message, ctx) {
  return { state: { n: state.n + message.by, r: Math.random(), r2: ctx.random(), step: ctx.step } };
}`;

export function request(code: string, overrides: Partial<StepRequest> = {}): StepRequest {
  return {
    code,
    modules: [],
    state: '{"n":1}',
    message: '{"by":2}',
    ctx: '{"self":"agent:test::local","step":1}',
    seed: [1, 2, 3, 4],
    ...overrides,
  };
}

export function output(outcome: StepOutcome): unknown {
  if (!outcome.ok) throw new Error(`expected output, got fault ${outcome.fault.kind}: ${outcome.fault.message}`);
  return JSON.parse(outcome.output) as unknown;
}

function faultOf(outcome: StepOutcome): string {
  if (outcome.ok) throw new Error(`expected a fault, got output ${outcome.output.slice(0, 200)}`);
  return outcome.fault.kind;
}

export function sandboxContract(name: string, make: () => SandboxHost | Promise<SandboxHost>): void {
  describe(`sandbox host contract: ${name}`, () => {
    let sandbox: SandboxHost;
    beforeAll(async () => {
      sandbox = await make();
    });
    afterAll(async () => {
      await sandbox.close();
    });

    const healthy = async () => expect(output(await sandbox.run(request(COUNTER)))).toMatchObject({ state: { n: 3 } });

    it('runs step(state, message, ctx) and returns its result as JSON text', async () => {
      expect(output(await sandbox.run(request(COUNTER)))).toMatchObject({ state: { n: 3, step: 1 } });
    });

    it('is deterministic: the same request gives the same output; the seed drives Math.random and ctx.random', async () => {
      const a = output(await sandbox.run(request(COUNTER)));
      const b = output(await sandbox.run(request(COUNTER)));
      const c = output(await sandbox.run(request(COUNTER, { seed: [9, 9, 9, 9] })));
      expect(a).toEqual(b);
      expect(a).not.toEqual(c);
      // A golden value, equal to sfc32(1, 2, 3, 4) after 12 warm-up draws computed natively: the same on every node and adapter.
      expect(a).toEqual({ state: { n: 3, r: 0.09715683059766889, r2: 0.2785244262777269, step: 1 } });
    });

    it('offers no wall clock, no GC observation and no host globals', async () => {
      const probe = `function step() {
        const names = ['Date', 'WeakRef', 'FinalizationRegistry', 'performance', 'setTimeout', 'fetch', 'XMLHttpRequest',
          'WebSocket', 'postMessage', 'self', 'importScripts', 'process', 'require', 'WebAssembly', 'SharedArrayBuffer',
          'Atomics', 'indexedDB', 'navigator', 'location', 'console', 'print', 'std', 'os'];
        const seen = {};
        for (const n of names) seen[n] = typeof globalThis[n];
        return { state: seen };
      }`;
      const state = (output(await sandbox.run(request(probe))) as { state: Record<string, string> }).state;
      for (const [name, type] of Object.entries(state)) expect(`${name}: ${type}`).toBe(`${name}: undefined`);
    });

    it('keeps nothing between steps: globals and prototype changes of one step are gone in the next', async () => {
      const polluter = `var leaked = 1; Object.prototype.polluted = 'yes'; Array.prototype.push = null;
        function step(state) { return { state: { polluted: ({}).polluted } }; }`;
      expect(output(await sandbox.run(request(polluter)))).toEqual({ state: { polluted: 'yes' } });
      const reader = `function step() { return { state: { leaked: typeof leaked, polluted: typeof ({}).polluted, push: typeof [].push } }; }`;
      expect(output(await sandbox.run(request(reader)))).toEqual({
        state: { leaked: 'undefined', polluted: 'undefined', push: 'function' },
      });
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    });

    it('runs a program prepared while idle exactly as a fresh one: no carry-over, same draws, same faults', async () => {
      const idle = () => new Promise((resolve) => setTimeout(resolve, 30));
      const counting = `var calls = 0; var drawn = Math.random();
        function step(state, message, ctx) { calls++; return { state: { calls, drawn, n: state.n, m: ctx.modules.m && ctx.modules.m.v } }; }`;
      const fresh = output(await sandbox.run(request(`${counting}\n// fresh`)));
      const outputs = [];
      for (let i = 0; i < 3; i++) {
        await idle();
        outputs.push(output(await sandbox.run(request(counting))));
      }
      expect(outputs).toEqual([fresh, fresh, fresh]);
      // The same code with other modules, or other code in between, is not taken for the prepared one.
      await idle();
      const withModule = output(await sandbox.run(request(counting, { modules: [{ name: 'm', source: 'exports.v = 7;' }] })));
      expect(withModule).toEqual({ state: { ...(fresh as { state: object }).state, m: 7 } });
      await idle();
      expect(output(await sandbox.run(request(COUNTER)))).toMatchObject({ state: { n: 3 } });
      await idle();
      expect(output(await sandbox.run(request(counting)))).toEqual(fresh);
      // A program whose top level throws fails the same way every time.
      const throwing = 'throw new TypeError("top level"); function step() {}';
      for (let i = 0; i < 2; i++) {
        await idle();
        expect(await sandbox.run(request(throwing))).toEqual({
          ok: false,
          fault: { kind: 'exception', message: 'TypeError: top level (agent.js:1:20)' },
        });
      }
    });

    it('cannot tamper with how its inputs arrive or its output leaves', async () => {
      const tamper = `JSON.parse = () => ({ n: 1000 }); JSON.stringify = () => '{"state":"forged"}';
        function step(state) { return { state: { n: state.n } }; }`;
      expect(output(await sandbox.run(request(tamper)))).toEqual({ state: { n: 1 } });
    });

    it('reports a thrown exception, a syntax error and a missing step as exception faults', async () => {
      const thrown = await sandbox.run(request('function step() { throw new RangeError("nope"); }'));
      expect(thrown).toEqual({ ok: false, fault: { kind: 'exception', message: 'RangeError: nope (agent.js:1:39)' } });
      expect(faultOf(await sandbox.run(request('function step( {')))).toBe('exception');
      const missing = await sandbox.run(request('var x = 1;'));
      expect(missing.ok ? '' : missing.fault.message).toMatch(/defines no function step/);
      await healthy();
    });

    it('loadOnly loads a program without calling step, and fails it the way its first step would', async () => {
      const load = (code: string) => sandbox.run(request(code, { loadOnly: true }));
      // step would throw if it were called: loading only does not call it.
      expect(await load('var loaded = true; function step() { throw new Error("called"); }')).toEqual({ ok: true, output: 'null' });
      expect(await load('function step( {')).toMatchObject({ ok: false, fault: { kind: 'exception', message: /SyntaxError/ } });
      expect(await load('throw new TypeError("top level"); function step() {}')).toEqual({
        ok: false,
        fault: { kind: 'exception', message: 'TypeError: top level (agent.js:1:20)' },
      });
      // Where in the program (or in a module's own source) it failed; never a place in the prelude.
      expect(await load('var a = 1;\nfunction step() {\n  return {;\n}')).toEqual({
        ok: false,
        fault: { kind: 'exception', message: 'SyntaxError: invalid property name (agent.js:3:11)' },
      });
      expect(await sandbox.run(request(COUNTER, { loadOnly: true, modules: [{ name: 'm', source: 'exports.v = 1;\nnull.x;' }] }))).toEqual({
        ok: false,
        fault: { kind: 'exception', message: "TypeError: cannot read property 'x' of null (module:m:2:5)" },
      });
      expect(await load('var x = 1;')).toEqual({
        ok: false,
        fault: { kind: 'exception', message: 'TypeError: the agent defines no function step(state, message, ctx)' },
      });
      expect(faultOf(await load('while (true) {} function step() {}'))).toBe('cpu');
      // A loaded program's next step runs as usual.
      expect(output(await sandbox.run(request(COUNTER)))).toMatchObject({ state: { n: 3 } });
      await healthy();
    });

    it('stops a bytecode infinite loop at the CPU deadline', async () => {
      const looping = await sandbox.run(request('function step() { for (;;) {} }'));
      // The fault names the limit and where the guest was stopped.
      expect(looping.ok ? '' : looping.fault).toEqual({
        kind: 'cpu',
        message: expect.stringMatching(/^interrupted: the step ran past its \d+ ms CPU limit \(agent\.js:1:\d+\)$/) as string,
      });
      expect(faultOf(await sandbox.run(request('while (true) {} function step() {}')))).toBe('cpu');
      await healthy();
    });

    it('stops a runaway that spends its time in built-ins and catastrophic regular expressions', async () => {
      expect(faultOf(await sandbox.run(request('function step() { for (;;) Array(2000).fill(0).map((x) => x + 1); }')))).toBe('cpu');
      expect(faultOf(await sandbox.run(request('function step() { /(a+)+$/.test("a".repeat(40) + "b"); return {state: 1}; }')))).toBe(
        'cpu',
      );
      await healthy();
    });

    it('contains memory and string bombs, then runs the next step in a fresh sandbox', async () => {
      const before = sandbox.stats();
      const objects = await sandbox.run(request('function step() { const a = []; for (;;) a.push({ x: a.length, y: [a.length] }); }'));
      expect(['memory', 'cpu']).toContain(faultOf(objects));
      const bomb = await sandbox.run(request('function step() { return { state: "x".repeat(2e8).length }; }'));
      expect(bomb.ok ? '' : bomb.fault).toEqual({
        kind: 'memory',
        message: expect.stringMatching(/^out of memory: past the \d+ MiB memory limit/) as string,
      });
      // Doubling a string ends at QuickJS's string length limit (a RangeError) or at the memory cap.
      const doubling = await sandbox.run(request('function step() { let s = "xx"; for (;;) s = s + s; }'));
      expect(['memory', 'exception']).toContain(faultOf(doubling));
      await healthy();
      expect(sandbox.stats().replaced).toBeGreaterThan(before.replaced);
    });

    it('reports deep recursion as a stack fault and stays usable', async () => {
      const deep = await sandbox.run(request('function f(n) { return f(n + 1) + 1; } function step() { return f(0); }'));
      expect(deep.ok ? '' : deep.fault).toEqual({
        kind: 'stack',
        message: expect.stringMatching(/^stack overflow: past the \d+ KiB stack limit/) as string,
      });
      const parse = await sandbox.run(
        request('function step() { return { state: JSON.parse("[".repeat(100000) + "]".repeat(100000)) }; }'),
      );
      // Deep JSON nesting recurses in C: a stack fault, or in a Chromium worker (whose native stack is
      // small) a trap that ends this sandbox — contained either way.
      expect(['stack', 'exception', 'crash']).toContain(faultOf(parse));
      await healthy();
    });

    it('refuses output that is too large or not JSON', async () => {
      expect(faultOf(await sandbox.run(request('function step() { return { state: "y".repeat(2e6) }; }')))).toBe('output');
      expect(faultOf(await sandbox.run(request('function step() { return undefined; }')))).toBe('exception');
      await healthy();
    });

    it('gives imported modules to the guest as ctx.modules', async () => {
      const code = 'function step(state, message, ctx) { return { state: ctx.modules.math.double(state.n) }; }';
      const modules = [{ name: 'math', source: 'exports.double = (x) => x * 2;' }];
      expect(output(await sandbox.run(request(code, { modules })))).toEqual({ state: 2 });
      const broken = [{ name: 'bad', source: 'throw new Error("module failed")' }];
      expect(faultOf(await sandbox.run(request(code, { modules: broken })))).toBe('exception');
    });

    it('honours a per-step CPU override (as replays use)', async () => {
      const code = 'function step() { let x = 0; for (let i = 0; i < 3e6; i++) x += i; return { state: x }; }';
      const short = await sandbox.run(request(code, { cpuMs: 1 }));
      expect(short.ok ? '' : short.fault.message).toMatch(/^interrupted: the step ran past its 1 ms CPU limit/);
      expect(output(await sandbox.run(request(code, { cpuMs: 5_000 })))).toEqual({ state: 4499998500000 });
    });

    it('comes back after kill()', async () => {
      const before = sandbox.stats();
      sandbox.kill();
      await healthy();
      expect(sandbox.stats().started).toBeGreaterThanOrEqual(before.started);
    });
  });
}
