import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { InProcessSandbox } from '../../adapters/quickjs/in-process-sandbox.js';
import { AgentLedger } from '../../src/agents/agent-ledger.js';
import { stateHash } from '../../src/agents/state-hash.js';
import type { ViewEntry } from '../../src/state/derived-view.js';
import { agentNode, committed, COUNTER, stepRecord, TEST_LIMITS } from '../support/agents.js';

const sandbox = new InProcessSandbox(TEST_LIMITS);
afterAll(() => sandbox.close());

/** Everything a node derives about its agents, as plain data. */
function derive(entries: readonly ViewEntry[], batches: number[]): unknown {
  const ledger = new AgentLedger();
  let at = 0;
  for (const size of batches) {
    ledger.add(entries.slice(at, at + size));
    at += size;
    ledger.agentIds().forEach((id) => ledger.committed(id)); // warm the caches mid-way
  }
  ledger.add(entries.slice(at));
  return ledger.agentIds().map((id) => ({
    id,
    citizen: ledger.citizen(id),
    hosting: ledger.hosting(id),
    committed: ledger.committed(id),
    steps: [1, 2, 3, 4].map((n) => ledger.recordedStep(id, n)?.entry ?? null),
    imports: ledger.imports(id),
    counts: ledger.counts(id),
    modules: ledger.moduleNames().map((name) => ledger.moduleVersions(name)),
  }));
}

describe('AgentLedger derivation', () => {
  it('depends on the set of entries, not on their order or how they are batched', async () => {
    // Three nodes: A registers and steps agents, records one step twice, and hands one to B; B also registers the
    // same id as A (a conflict) and records a step it had no right to; C publishes a module.
    const a = await agentNode(91, { sandbox });
    const b = await agentNode(92, { sandbox });
    const c = await agentNode(93, { sandbox });
    const { id } = await a.host.spawn(COUNTER, { name: 'shared', state: { n: 0 } });
    committed(await a.host.send(id, { by: 2 }));
    await b.host.spawn(COUNTER, { name: 'shared', state: { n: 100 } });
    await b.kernel.appendEntries([stepRecord({ agent: id, step: 2, prevHash: stateHash({ n: 2 }), state: { n: -1 } })]);
    // A equivocates: a second record of step 1 (later in its log, so it loses everywhere).
    await a.kernel.appendEntries([stepRecord({ agent: id, step: 1, prevHash: stateHash({ n: 0 }), state: { n: 7 } })]);
    await c.host.module.publish('lib', '1.0.0', 'exports.v = 1;', 'js');
    const other = await a.host.spawn(COUNTER, { name: 'other' });
    committed(await a.host.send(other.id, {}));
    // B learns A's log, so A's hand-over can reach it.
    await b.kernel.applyBatch((await a.kernel.readBatch(a.kernel.origin, 0, 1 << 20))!);
    await a.host.migrate(other.id, b.kernel.nodeId);
    const entries = [a, b, c].flatMap((n) => n.kernel.timeline(Infinity).filter((e) => e.author === n.kernel.nodeId));
    const reference = derive(entries, []);
    expect(reference).toContainEqual(
      expect.objectContaining({ id, committed: expect.objectContaining({ step: 1, state: { n: 2 } }) as unknown }),
    );

    fc.assert(
      fc.property(
        fc.shuffledSubarray(entries, { minLength: entries.length }),
        fc.array(fc.integer({ min: 1, max: 5 }), { maxLength: 8 }),
        (order, batches) => {
          expect(derive(order, batches)).toEqual(reference);
        },
      ),
      { numRuns: 60 },
    );
  });
});
