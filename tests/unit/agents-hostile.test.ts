import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InProcessSandbox } from '../../adapters/quickjs/in-process-sandbox.js';
import type { AgentHost } from '../../src/agents/agent-host.js';
import type { Kernel } from '../../src/kernel/kernel.js';
import { agentNode, committed, COUNTER, rolledBack, TEST_LIMITS } from '../support/agents.js';

/**
 * The hostile-agent suite (issue 5 point 9): each program is contained — its step faults
 * and rolls back, or its effects are refused — the node stays responsive, a bystander
 * agent keeps working, and nothing outside the agent changes except the records of what
 * happened (agent.rollback / agent.refusal).
 */
const HOSTILE: readonly (readonly [string, string, string])[] = [
  ['bytecode infinite loop', 'function step() { for (;;) {} }', 'cpu'],
  ['loop inside built-ins', 'function step() { for (;;) [5, 3, 1].concat(Array(800).fill(7)).sort(); }', 'cpu'],
  ['catastrophic regular expression', 'function step() { return { state: /(x+x+)+y/.test("x".repeat(5000)) }; }', 'cpu'],
  ['memory bomb', 'function step() { const a = []; for (;;) a.push(new Array(100000).fill(0)); }', 'memory'],
  ['string bomb', 'function step() { return { state: "ab".repeat(1 << 28) }; }', 'memory'],
  ['deep recursion', 'function step(s) { const f = (n) => f(n + 1) + 1; return { state: f(0) }; }', 'stack'],
  ['huge output', 'function step() { return { state: "z".repeat(300000) }; }', 'output'],
  [
    'effect flood',
    'function step() { return { state: {}, effects: Array.from({ length: 5000 }, () => ({ type: "append", value: 1 })) }; }',
    'output',
  ],
  ['output that is not a step result', 'function step() { return { state: 1, extra: "field" }; }', 'output'],
  ['throws a non-Error', 'function step() { throw { toString() { for (;;) {} } }; }', 'exception'],
];

describe('hostile agents are contained (Node, in-process sandbox)', () => {
  const sandbox = new InProcessSandbox(TEST_LIMITS);
  let host: AgentHost;
  let kernel: Kernel;
  let bystander: string;
  afterAll(() => sandbox.close());
  beforeAll(async () => {
    ({ host, kernel } = await agentNode(81, { sandbox }));
    bystander = (await host.spawn(COUNTER, { name: 'bystander', state: { n: 0 } })).id;
  });

  for (const [i, [what, code, kind]] of HOSTILE.entries()) {
    it(`${what}: rolled back (${kind}), node and bystander unaffected`, async () => {
      const { id } = await host.spawn(code, { name: `hostile-${i}`, state: { keep: i } });
      const bystanderBefore = host.get(bystander);
      const result = rolledBack(await host.send(id, {}));
      expect(result.fault.kind).toBe(kind);
      expect(result).toMatchObject({ state: { keep: i }, verified: true });
      expect(host.get(id)).toMatchObject({ step: 0, state: { keep: i }, rollbacks: 1 });
      // The bystander's state did not move, and it keeps running.
      expect(host.get(bystander).stateHash).toBe(bystanderBefore.stateHash);
      expect(committed(await host.send(bystander, {})).step).toBe(bystanderBefore.step + 1);
      // The node still appends and signs.
      await expect(kernel.append({ alive: i })).resolves.toMatchObject({ index: expect.any(Number) as unknown });
    });
  }

  it('prototype pollution and reaching for host globals or the network change nothing outside the step', async () => {
    const code = `function step() {
      Object.prototype.polluted = true;
      JSON.parse = () => 'hijacked';
      const reach = ['process', 'require', 'fetch', 'XMLHttpRequest', 'WebSocket', 'importScripts', 'postMessage', 'Deno', 'Bun']
        .filter((name) => typeof globalThis[name] !== 'undefined');
      let escaped = null;
      try { escaped = (function () { return this; })().constructor.constructor('return typeof process')(); } catch (e) { escaped = 'threw'; }
      return { state: { reach, escaped, viaProto: ({}).constructor.name }, effects: [{ type: 'append', value: { '__proto__': { polluted: 1 } } }] };
    }`;
    const { id } = await host.spawn(code, { name: 'escape-artist' });
    const result = committed(await host.send(id, {}));
    expect(result.state).toEqual({ reach: [], escaped: 'undefined', viaProto: 'Object' });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    const data = (await kernel.entries(0, 1000)).filter((e) => e.kind === 'agent.data').pop()!;
    expect(Object.getPrototypeOf(data.payload)).toBe(Object.prototype);
    expect(committed(await host.send(bystander, {})).status).toBe('committed');
  });

  it('a flood of refused effects is recorded, bounded per step, and does not stop the agent', async () => {
    const code = `function step(s) { return { state: { k: (s.k || 0) + 1 }, effects: Array.from({ length: 64 }, () => ({ type: 'propose', proposal: 'spam' })) }; }`;
    const { id } = await host.spawn(code, { name: 'spammer', rights: [] });
    const result = committed(await host.send(id, {}));
    expect(result.effects.filter((e) => e.status === 'refused')).toHaveLength(64);
    expect(host.refusals(id)).toHaveLength(64);
  });
});
