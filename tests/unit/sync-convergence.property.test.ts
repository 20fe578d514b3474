import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SimNet } from '../support/simnet.js';

/**
 * F13: after any sequence of appends and partitions on a faulty network, once the network
 * heals every node holds the same entries, and every copy of a log is a prefix-consistent
 * copy of its author's log. fast-check prints the seed and path of a failing run; replay
 * it with NAOS_SIM_SEED=<seed> NAOS_SIM_PATH=<path> npx vitest run tests/unit/sync-convergence.
 */

type Op =
  | { kind: 'append'; node: number; count: number }
  | { kind: 'partition'; groups: number[] }
  | { kind: 'heal' }
  | { kind: 'wait'; ms: number };

const scenario = fc.integer({ min: 2, max: 20 }).chain((nodes) =>
  fc.record({
    nodes: fc.constant(nodes),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    loss: fc.constantFrom(0, 0.05, 0.2),
    duplicate: fc.constantFrom(0, 0.1),
    maxDelayMs: fc.constantFrom(5, 50, 300),
    ops: fc.array(
      fc.oneof(
        {
          weight: 5,
          arbitrary: fc.record({ kind: fc.constant('append' as const), node: fc.nat(nodes - 1), count: fc.integer({ min: 1, max: 4 }) }),
        },
        {
          weight: 1,
          arbitrary: fc.record({
            kind: fc.constant('partition' as const),
            groups: fc.array(fc.nat(2), { minLength: nodes, maxLength: nodes }),
          }),
        },
        { weight: 1, arbitrary: fc.constant({ kind: 'heal' as const }) },
        { weight: 2, arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 10, max: 1500 }) }) },
      ),
      { minLength: 1, maxLength: 14 },
    ),
  }),
);

describe('convergence after partitions (property)', () => {
  it('every node ends with the same state root and author-consistent copies', async () => {
    const seed = process.env['NAOS_SIM_SEED'];
    const path = process.env['NAOS_SIM_PATH'];
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const net = await SimNet.create({ seed: s.seed, nodes: s.nodes, loss: s.loss, duplicate: s.duplicate, maxDelayMs: s.maxDelayMs });
        for (const op of s.ops as Op[]) {
          if (op.kind === 'append')
            await net.nodes[op.node]!.kernel.appendMany(Array.from({ length: op.count }, (_, i) => ({ i, t: net.time })));
          else if (op.kind === 'partition') net.partition(op.groups);
          else if (op.kind === 'heal') net.heal();
          else await net.run(op.ms);
        }
        net.heal();
        const converged = await net.converge(120_000);
        expect(converged, `no convergence (seed ${s.seed})`).toBe(true);
        for (const author of net.nodes) {
          const own = author.kernel.heads().find((h) => h.origin === author.kernel.origin)!;
          for (const node of net.nodes) {
            const copy = node.kernel.heads().find((h) => h.origin === author.kernel.origin);
            if (own.size === 0) continue;
            expect(copy, `node ${node.index} lacks the log of ${author.index}`).toBeDefined();
            expect(copy!.size).toBe(own.size);
            expect(copy!.root).toBe(own.root);
          }
        }
        for (const node of net.nodes) node.engine.close();
      }),
      {
        numRuns: Number(process.env['NAOS_SIM_RUNS'] ?? 20),
        ...(seed ? { seed: Number(seed) } : {}),
        ...(path ? { path } : {}),
        endOnFailure: true,
      },
    );
  }, 600_000);
});
