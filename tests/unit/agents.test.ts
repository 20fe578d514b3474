import { afterAll, describe, expect, it } from 'vitest';
import { InProcessSandbox } from '../../adapters/quickjs/in-process-sandbox.js';
import { MAX_PROGRAM_LOADS_PER_STEP } from '../../src/agents/agent-host.js';
import { blobCid } from '../../src/agents/content.js';
import {
  AgentExistsError,
  AgentNotFoundError,
  ContentUnavailableError,
  InvalidAgentIdError,
  InvalidProgramError,
} from '../../src/agents/errors.js';
import { stateHash } from '../../src/agents/state-hash.js';
import { utf8 } from '../../src/bytes.js';
import { InvalidValueError } from '../../src/ledger/json-value.js';
import { agentNode, committed, COUNTER, rolledBack, TEST_LIMITS } from '../support/agents.js';

const sandbox = new InProcessSandbox(TEST_LIMITS);
afterAll(() => sandbox.close());

describe('AgentHost: spawn, steps and committed state', () => {
  it('spawns an agent: program as content-addressed chunks, policy.register and agent.spawn in one batch', async () => {
    const { kernel, host } = await agentNode(11, { sandbox });
    const { id, program, stateHash: hash } = await host.spawn(COUNTER, { name: 'counter' });
    expect(id).toBe('agent:counter::local');
    expect(program).toBe(blobCid(utf8(COUNTER)));
    expect(hash).toBe(stateHash({}));
    expect((await kernel.entries(0, 10)).map((e) => e.kind)).toEqual(['blob.chunk', 'policy.register', 'agent.spawn']);
    expect(kernel.checkpoints().map((c) => c.size)).toEqual([0, 3]);
    expect(host.get(id)).toMatchObject({
      id,
      step: 0,
      state: {},
      live: true,
      host: kernel.nodeId,
      rights: ['agent.send', 'ledger.append'],
    });
    await expect(host.spawn(COUNTER, { name: 'counter' })).rejects.toThrow(AgentExistsError);
    await expect(host.spawn(COUNTER, { name: 'Bad Name' })).rejects.toThrow(InvalidAgentIdError);
  });

  it('steps an agent and commits the new state hash with the message in agent.step', async () => {
    const { kernel, host } = await agentNode(12, { sandbox });
    const { id } = await host.spawn(COUNTER, { name: 'counter', state: { n: 10 } });
    const first = committed(await host.send(id, { by: 5 }));
    expect(first).toMatchObject({ agent: id, step: 1, state: { n: 15 }, stateHash: stateHash({ n: 15 }) });
    committed(await host.send(id, { by: 1 }));
    expect(host.get(id)).toMatchObject({ step: 2, state: { n: 16 }, stateHash: stateHash({ n: 16 }) });
    const steps = (await kernel.entries(0, 100)).filter((e) => e.kind === 'agent.step');
    expect(steps.map((e) => e.payload)).toEqual([
      expect.objectContaining({ step: 1, message: { by: 5 }, prevHash: stateHash({ n: 10 }), stateHash: stateHash({ n: 15 }) }),
      expect.objectContaining({ step: 2, message: { by: 1 }, prevHash: stateHash({ n: 15 }), stateHash: stateHash({ n: 16 }) }),
    ]);
  });

  it('spawns from the CID of a program the node holds, and refuses an unknown CID', async () => {
    const { host } = await agentNode(13, { sandbox });
    const { program } = await host.spawn(COUNTER, { name: 'one' });
    const two = await host.spawn({ cid: program }, { name: 'two' });
    expect(committed(await host.send(two.id, {})).state).toEqual({ n: 1 });
    await expect(host.spawn({ cid: blobCid(utf8('other')) }, { name: 'three' })).rejects.toThrow(ContentUnavailableError);
  });

  it('refuses to spawn a program that does not load, writes nothing and leaves the name free', async () => {
    const { kernel, host } = await agentNode(16, { sandbox });
    const broken: [string, RegExp][] = [
      ['function step(state { return {}; }', /does not load: exception: SyntaxError/],
      ['throw new Error("no"); function step() {}', /does not load: exception: Error: no/],
      ['var notAStep = 1;', /does not load: exception: TypeError: the agent defines no function step/],
      ['for (;;) {} function step() {}', /does not load: cpu/],
    ];
    for (const [code, why] of broken) {
      const spawning = host.spawn(code, { name: 'broken' });
      await expect(spawning).rejects.toThrow(InvalidProgramError);
      await expect(spawning).rejects.toThrow(why);
    }
    // The top level of a program that loads runs, its step does not.
    const { id } = await host.spawn('var calls = 0; function step(state) { return { state: { n: (state.n || 0) + 1 } }; }', {
      name: 'broken',
    });
    // Only the program that loaded was written.
    expect((await kernel.entries(0, 100)).map((e) => e.kind)).toEqual(['blob.chunk', 'policy.register', 'agent.spawn']);
    expect(host.get(id)).toMatchObject({ step: 0, state: {} });
    expect(committed(await host.send(id, {})).state).toEqual({ n: 1 });
  });

  it('gives the same result on two nodes for the same code, state and message (seeded randomness included)', async () => {
    const code = `function step(state, message, ctx) { return { state: { r: Math.random(), c: ctx.random(), n: message.n * 2, self: ctx.self, step: ctx.step } }; }`;
    const a = await agentNode(14, { sandbox });
    const b = await agentNode(15, { sandbox: new InProcessSandbox(TEST_LIMITS) });
    const idA = (await a.host.spawn(code, { name: 'dice' })).id;
    const idB = (await b.host.spawn(code, { name: 'dice' })).id;
    const ra = committed(await a.host.send(idA, { n: 21 }));
    const rb = committed(await b.host.send(idB, { n: 21 }));
    expect(ra.stateHash).toBe(rb.stateHash);
    const second = committed(await a.host.send(idA, { n: 21 }));
    expect(second.stateHash).not.toBe(ra.stateHash); // a new step draws new numbers
  });

  it('rejects sends that cannot run: unknown agent, bad id, non-JSON or oversized message', async () => {
    const { host } = await agentNode(16, { sandbox, messageChars: 100 });
    const { id } = await host.spawn(COUNTER, { name: 'c' });
    await expect(host.send('agent:nobody::local', {})).rejects.toThrow(AgentNotFoundError);
    await expect(host.send('nobody', {})).rejects.toThrow(InvalidAgentIdError);
    await expect(host.send(id, { f: Number.NaN })).rejects.toThrow(InvalidValueError);
    await expect(host.send(id, { big: 'x'.repeat(200) })).rejects.toThrow(/more than 100/);
  });
});

describe('AgentHost: rights (F16)', () => {
  const ACTOR = `function step(state, message) { return { state: { k: (state.k || 0) + 1 }, effects: message.effects }; }`;

  it('carries out effects the agent has the right to, and refuses and records the others', async () => {
    const { kernel, host } = await agentNode(21, { sandbox });
    const { id } = await host.spawn(ACTOR, { name: 'actor', rights: ['ledger.append'] });
    const result = committed(
      await host.send(id, {
        effects: [
          { type: 'append', value: { hello: 'ledger' } },
          { type: 'propose', proposal: { upgrade: 'v2' } },
          { type: 'teleport' },
          { type: 'report', report: {} },
        ],
      }),
    );
    expect(result.effects).toEqual([
      { type: 'append', status: 'done', right: 'ledger.append' },
      { type: 'propose', status: 'refused', right: 'council.propose', reason: `${id} has no right council.propose` },
      { type: 'teleport', status: 'refused', right: null, reason: 'unknown effect type "teleport"' },
      { type: 'report', status: 'refused', right: 'health.report', reason: `${id} has no right health.report` },
    ]);
    const kinds = (await kernel.entries(0, 100)).map((e) => e.kind);
    expect(kinds.slice(-5)).toEqual(['agent.step', 'agent.data', 'agent.refusal', 'agent.refusal', 'agent.refusal']);
    expect(host.refusals(id).map((r) => (r.payload as { effect: string }).effect)).toEqual(['propose', 'teleport', 'report']);
    expect(host.get(id).refusals).toBe(3);
  });

  it('delivers sends between local agents and stops send loops at the hop limit', async () => {
    const { host } = await agentNode(22, { sandbox, maxHops: 3 });
    const pinger = `function step(state, message, ctx) { return { state: { got: (state.got || 0) + 1 }, effects: [{ type: 'send', to: ctx.self, message: {} }] }; }`;
    const { id } = await host.spawn(pinger, { name: 'pinger' });
    committed(await host.send(id, {}));
    // Wait for the chain of self-sends to run out.
    for (let i = 0; i < 50 && host.refusals(id).length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(host.refusals(id).map((r) => (r.payload as { reason: string }).reason)).toEqual(['hop limit: a chain of 3 sends ends here']);
    expect(host.get(id).state).toEqual({ got: 4 });
  });

  it('spawns children only with rights the parent holds', async () => {
    const { host } = await agentNode(23, { sandbox });
    const { id } = await host.spawn(ACTOR, { name: 'parent', rights: ['agent.spawn', 'ledger.append'] });
    const result = committed(
      await host.send(id, {
        effects: [
          { type: 'spawn', name: 'child', code: COUNTER, rights: ['ledger.append'] },
          { type: 'spawn', name: 'greedy', code: COUNTER, rights: ['council.propose'] },
        ],
      }),
    );
    expect(result.effects.map((e) => e.status)).toEqual(['done', 'refused']);
    expect(host.get('agent:child::local')).toMatchObject({ parent: id, rights: ['ledger.append'], live: true });
    expect(() => host.get('agent:greedy::local')).toThrow(AgentNotFoundError);
  });

  it('refuses, and records, a child whose program does not load; the parent step commits', async () => {
    const { host } = await agentNode(24, { sandbox });
    const { id } = await host.spawn(ACTOR, { name: 'parent', rights: ['agent.spawn'] });
    const result = committed(
      await host.send(id, {
        effects: [
          { type: 'spawn', name: 'broken-child', code: 'function step( {' },
          { type: 'spawn', name: 'good-child', code: COUNTER },
        ],
      }),
    );
    expect(result.effects.map((e) => e.status)).toEqual(['refused', 'done']);
    expect(result.effects[0]!.reason).toMatch(/^spawn refused: program \S+ does not load: exception: SyntaxError/);
    expect(host.refusals(id)).toHaveLength(1);
    expect(() => host.get('agent:broken-child::local')).toThrow(AgentNotFoundError);
    expect(host.get('agent:good-child::local')).toMatchObject({ parent: id, live: true });
  });

  it(`loads at most ${MAX_PROGRAM_LOADS_PER_STEP} programs new to the node per step: a flood of spawns cannot multiply a step's cost`, async () => {
    const { host } = await agentNode(25, { sandbox });
    const { id } = await host.spawn(ACTOR, { name: 'breeder', rights: ['agent.spawn'] });
    const program = (i: number) => `${COUNTER}\n// variant ${i}`;
    const spawns = (from: number, count: number) =>
      Array.from({ length: count }, (_, i) => ({ type: 'spawn', name: `kid-${from + i}`, code: program(from + i) }));
    const burst = committed(
      await host.send(id, {
        effects: [...spawns(0, MAX_PROGRAM_LOADS_PER_STEP + 2), ...spawns(0, 1).map((e) => ({ ...e, name: 'twin' }))],
      }),
    );
    expect(burst.effects.map((e) => e.status)).toEqual([
      ...Array<string>(MAX_PROGRAM_LOADS_PER_STEP).fill('done'),
      'refused',
      'refused',
      'done', // a program already loaded in this step costs nothing more
    ]);
    expect(burst.effects[MAX_PROGRAM_LOADS_PER_STEP]!.reason).toMatch(
      new RegExp(
        `^spawn refused: program \\S+ was not loaded: one step loads at most ${MAX_PROGRAM_LOADS_PER_STEP} programs new to this node$`,
      ),
    );
    // In a later step the refused ones go ahead.
    const later = committed(await host.send(id, { effects: spawns(MAX_PROGRAM_LOADS_PER_STEP, 2) }));
    expect(later.effects.map((e) => e.status)).toEqual(['done', 'done']);
  });
});

describe('AgentHost: rollback (F17)', () => {
  it('rolls a throwing step back to the committed state, verified by hash, and records it', async () => {
    const { kernel, host } = await agentNode(31, { sandbox });
    const code = `function step(state, message) { if (message.fail) throw new Error('boom'); return { state: { n: state.n + 1 } }; }`;
    const { id } = await host.spawn(code, { name: 'fragile', state: { n: 0 } });
    committed(await host.send(id, {}));
    const failed = rolledBack(await host.send(id, { fail: true }));
    expect(failed).toMatchObject({
      step: 2,
      fault: { kind: 'exception', message: 'Error: boom (agent.js:1:66)' },
      state: { n: 1 },
      stateHash: stateHash({ n: 1 }),
      verified: true,
    });
    const rollback = (await kernel.entries(0, 100)).find((e) => e.kind === 'agent.rollback')!;
    expect(rollback.payload).toEqual({
      agent: id,
      step: 2,
      fault: { kind: 'exception', message: 'Error: boom (agent.js:1:66)' },
      restoredHash: stateHash({ n: 1 }),
      committedHash: stateHash({ n: 1 }),
    });
    expect(committed(await host.send(id, {}))).toMatchObject({ step: 2, state: { n: 2 } });
    expect(host.get(id).rollbacks).toBe(1);
  });

  it('kills the running step on request and rolls it back', async () => {
    const { host } = await agentNode(32, { sandbox });
    const { id } = await host.spawn(COUNTER, { name: 'victim' });
    expect(host.kill(id)).toEqual({ running: false });
    const killed = rolledBack(await host.send(id, {}));
    expect(killed.fault.kind).toBe('crash');
    expect(committed(await host.send(id, {})).state).toEqual({ n: 1 });
  });
});
