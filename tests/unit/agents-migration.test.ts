import { afterAll, describe, expect, it } from 'vitest';
import { InProcessSandbox } from '../../adapters/quickjs/in-process-sandbox.js';
import { AgentHost } from '../../src/agents/agent-host.js';
import { AgentNotHostedError } from '../../src/agents/errors.js';
import { stateHash } from '../../src/agents/state-hash.js';
import { committed, COUNTER, stepRecord, TEST_LIMITS } from '../support/agents.js';
import { SimNet } from '../support/simnet.js';

const sandboxes: InProcessSandbox[] = [];
afterAll(async () => {
  for (const s of sandboxes) await s.close();
});

async function federation(nodes: number, seed: number) {
  const net = await SimNet.create({ seed, nodes, loss: 0.05, duplicate: 0.05 });
  const hosts = net.nodes.map((node) => {
    const sandbox = new InProcessSandbox(TEST_LIMITS);
    sandboxes.push(sandbox);
    return new AgentHost({ kernel: node.kernel, sandbox });
  });
  const until = async (condition: () => boolean, what: string) => {
    for (let waited = 0; waited < 60_000; waited += 250) {
      if (condition()) return;
      await net.run(250);
    }
    throw new Error(`simulated network (seed ${seed}) never reached: ${what}`);
  };
  return { net, hosts, until };
}

describe('migration over the simulated network (F18)', () => {
  it('hands an agent over with its state and passport; the new host resumes it, the old one stops', async () => {
    const { net, hosts, until } = await federation(3, 501);
    const [a, b, c] = hosts as [AgentHost, AgentHost, AgentHost];
    const { id } = await a.spawn(COUNTER, { name: 'traveller', state: { n: 0 } });
    committed(await a.send(id, { by: 5 }));
    committed(await a.send(id, { by: 5 }));
    await until(() => net.converged(), 'the spawn and steps replicate');
    // Nobody else may run it: every node derives node A as its host.
    await expect(b.send(id, {})).rejects.toThrow(AgentNotHostedError);
    expect(c.get(id)).toMatchObject({ host: a.nodeId, epoch: 0, step: 2, state: { n: 10 }, live: false });

    const moved = await a.migrate(id, b.nodeId);
    expect(moved).toMatchObject({ agent: id, to: b.nodeId, epoch: 1, step: 2, stateHash: stateHash({ n: 10 }) });
    // The old host stops at once, before the hand-over has reached anyone.
    await expect(a.send(id, {})).rejects.toThrow(AgentNotHostedError);
    expect(a.get(id).live).toBe(false);

    await until(() => b.get(id).live, 'B resumes the agent');
    const resumed = committed(await b.send(id, { by: 1 }));
    expect(resumed).toMatchObject({ step: 3, state: { n: 11 } });
    await until(() => net.converged() && c.get(id).step === 3, 'everyone sees the step at B');
    for (const host of hosts) expect(host.get(id)).toMatchObject({ host: b.nodeId, epoch: 1, step: 3, stateHash: stateHash({ n: 11 }) });
    expect(hosts.filter((h) => h.get(id).live).map((h) => h.nodeId)).toEqual([b.nodeId]);
    await expect(a.send(id, {})).rejects.toThrow(/hosted by node/);
    await expect(c.send(id, {})).rejects.toThrow(AgentNotHostedError);

    // Any node re-executes any recorded step — including those recorded by the old host.
    expect(await c.replay(id, 2)).toMatchObject({ status: 'confirmed', recordedBy: a.nodeId });
    expect(await c.replay(id, 3)).toMatchObject({ status: 'confirmed', recordedBy: b.nodeId });
  });

  it('ignores steps the old host writes after its hand-over (never two live copies)', async () => {
    const { net, hosts, until } = await federation(2, 502);
    const [a, b] = hosts as [AgentHost, AgentHost];
    const { id } = await a.spawn(COUNTER, { name: 'split', state: { n: 0 } });
    await a.migrate(id, b.nodeId);
    // A misbehaving old host keeps stepping by writing a step record of its own.
    await net.nodes[0]!.kernel.appendEntries([stepRecord({ agent: id, step: 1, prevHash: stateHash({ n: 0 }), state: { n: 99 } })]);
    await until(() => net.converged() && b.get(id).live, 'B resumes');
    expect(b.get(id)).toMatchObject({ step: 0, state: { n: 0 } });
    expect(committed(await b.send(id, { by: 2 })).state).toEqual({ n: 2 });
  });

  it('delivers sends across nodes through the sync, exactly once, even after the host restarts its agent runtime', async () => {
    const { net, hosts, until } = await federation(2, 503);
    const [a, b] = hosts as [AgentHost, AgentHost];
    const sender = `function step(state, message) { return { state: { sent: (state.sent || 0) + 1 }, effects: [{ type: 'send', to: message.to, message: { hello: state.sent || 0 } }] }; }`;
    const inbox = `function step(state, message) { return { state: { got: [...(state.got || []), message.hello] } }; }`;
    const { id: to } = await b.spawn(inbox, { name: 'inbox' });
    await until(() => net.converged(), 'A learns of the inbox agent');
    const { id: from } = await a.spawn(sender, { name: 'sender' });
    committed(await a.send(from, { to }));
    committed(await a.send(from, { to }));
    await until(() => b.get(to).step === 2, 'both messages are delivered at B');
    expect(b.get(to).state).toEqual({ got: [0, 1] });
    const steps = b.history(to).filter((e) => e.kind === 'agent.step');
    expect(steps.map((e) => (e.payload as { cause?: string }).cause)).toEqual(
      a
        .history(from)
        .filter((e) => e.kind === 'agent.send')
        .map((e) => e.id),
    );
    // A second runtime over the same kernel (a restart) finds every message handled.
    const again = new AgentHost({ kernel: net.nodes[1]!.kernel, sandbox: sandboxes.at(-1)! });
    await net.run(2_000);
    expect(again.get(to)).toMatchObject({ step: 2, state: { got: [0, 1] } });
  });
});

describe('PolicyLedger records made by two nodes at once (drift, F12)', () => {
  it('resolves to the first registration on every node, and every node reports the same drift event', async () => {
    const { net, hosts, until } = await federation(3, 504);
    const [a, b] = hosts as [AgentHost, AgentHost, AgentHost];
    // Neither has heard of the other's registration: each node takes the id.
    const [fromA, fromB] = await Promise.all([
      a.spawn(COUNTER, { name: 'twin', state: { n: 1 } }),
      b.spawn(COUNTER, { name: 'twin', state: { n: 2 } }),
    ]);
    const id = fromA.id;
    expect(fromB.id).toBe(id);
    expect([a.ledger.drift(), b.ledger.drift()]).toEqual([[], []]);

    await until(() => net.converged(), 'both registrations replicate');
    const drift = hosts.map((host) => host.ledger.drift());
    for (const events of drift) expect(events).toEqual(drift[0]);
    expect(drift[0]).toHaveLength(1);
    const event = drift[0]![0]!;
    expect(event).toMatchObject({ kind: 'policy.register', key: id, base: null });
    expect(event.contenders.map((c) => c.author).sort()).toEqual([a.nodeId, b.nodeId].sort());
    // The first registration by (time, author, seq) wins: its registrar hosts the agent everywhere.
    const winner = event.contenders[0]!;
    expect(event.winner).toBe(winner.id);
    for (const host of hosts) expect(host.get(id)).toMatchObject({ registrar: winner.author, host: winner.author, epoch: 0 });
    const [won, lost] = winner.author === a.nodeId ? [a, b] : [b, a];
    await expect(lost.send(id, { by: 1 })).rejects.toThrow(AgentNotHostedError);
    expect(committed(await won.send(id, { by: 1 })).step).toBe(1);
  });

  it('a module version published by two nodes with different content: the first publication wins everywhere, shown as drift', async () => {
    const { net, hosts, until } = await federation(3, 505);
    const [a, b] = hosts as [AgentHost, AgentHost, AgentHost];
    await Promise.all([
      a.module.publish('math', '1.0.0', 'exports.twice = (x) => x * 2;', 'js'),
      b.module.publish('math', '1.0.0', 'exports.twice = (x) => x + x + 1;', 'js'),
      // The same content from both is no conflict.
      a.module.publish('same', '1.0.0', 'exports.one = 1;', 'js'),
      b.module.publish('same', '1.0.0', 'exports.one = 1;', 'js'),
    ]);
    await until(() => net.converged(), 'both publications replicate');
    const drift = hosts.map((host) => host.ledger.drift());
    for (const events of drift) expect(events).toEqual(drift[0]);
    expect(drift[0]!.map((e) => [e.kind, e.key, e.contenders.length])).toEqual([['module.publish', 'math@1.0.0', 2]]);
    const winner = drift[0]![0]!.contenders[0]!;
    expect(drift[0]![0]!.winner).toBe(winner.id);
    for (const host of hosts) {
      expect(host.ledger.moduleVersions('math')).toMatchObject([
        { version: '1.0.0', publisher: winner.author, cid: (winner.value as { cid: string }).cid },
      ]);
    }
  });
});
