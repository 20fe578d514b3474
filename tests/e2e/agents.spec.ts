import { expect, type Page, test } from '@playwright/test';
import { agentStep, expectHandedOver, openNode } from './support.js';
import { expectConverged, expectMesh, openTabs } from './tabs.js';

const COUNTER = 'function step(state, message) { return { state: { n: (state.n || 0) + (message.by || 1) } }; }';

test('naos.agents: spawn → {id}, send → the outcome or a named rejection, get → {id, state, stateHash}', async ({ page }) => {
  await openNode(page);
  const result = await page.evaluate(async (code) => {
    const { id } = await naos.agents.spawn(code, { name: 'counter' });
    const outcome = await naos.agents.send(id, { by: 3 });
    const agent = await naos.agents.get(id);
    const named = async (p: Promise<unknown>) =>
      p.then(
        () => 'resolved',
        (e: unknown) => `${(e as Error).name}: ${(e as Error).message}`,
      );
    return {
      id,
      outcome,
      unloadable: await named(naos.agents.spawn('var notAStep = 1;', { name: 'unloadable' })),
      agent: { id: agent.id, state: agent.state, stateHash: agent.stateHash, step: agent.step },
      unknown: await named(naos.agents.send('agent:nobody::local', {})),
      badMessage: await named(naos.agents.send(id, { x: undefined as unknown as number, f: () => 1 })),
      refused: await naos.agents.send(
        (
          await naos.agents.spawn('function step(s) { return { state: s, effects: [{ type: "propose", proposal: 1 }] }; }', {
            name: 'proposer',
          })
        ).id,
        {},
      ),
    };
  }, COUNTER);
  expect(result.id).toBe('agent:counter::local');
  expect(result.outcome).toMatchObject({ status: 'committed', step: 1, state: { n: 3 } });
  expect(result.agent).toEqual({ id: result.id, state: { n: 3 }, stateHash: result.outcome.stateHash, step: 1 });
  expect(result.unloadable).toMatch(
    /^InvalidProgramError: program \S+ does not load: exception: TypeError: the agent defines no function step/,
  );
  expect(result.unknown).toMatch(/^AgentNotFoundError: no agent agent:nobody::local/);
  expect(result.badMessage).toMatch(/^InvalidValueError/);
  expect(result.refused).toMatchObject({
    status: 'committed',
    effects: [{ type: 'propose', status: 'refused', right: 'council.propose' }],
  });
});

test('the Agents panel spawns, steps, and shows a killed step rolled back in its history', async ({ page }) => {
  await openNode(page, '/#agents');
  const panel = page.locator('naos-agents-panel');
  // A program that does not compile is refused, named, and registers nothing.
  const example = await panel.getByLabel('Code').inputValue();
  await panel.getByLabel('Name').fill('ui-agent');
  await panel.getByLabel('Code').fill('function step(state { return state; }');
  await panel.getByRole('button', { name: 'Spawn' }).click();
  await expect(panel.getByTestId('agent-outcome')).toContainText(/InvalidProgramError: program \S+ does not load: exception: SyntaxError/);
  expect(await page.evaluate(() => naos.agents.list())).toEqual([]);
  await panel.getByLabel('Code').fill(example);
  await panel.getByRole('button', { name: 'Spawn' }).click();
  await expect(panel.getByTestId('agent-outcome')).toContainText('Spawned agent:ui-agent::local');
  await expect(panel.getByTestId('agent-detail')).toContainText('agent:ui-agent::local');
  await panel.getByRole('button', { name: 'Send' }).click();
  await expect(panel.getByTestId('agent-outcome')).toContainText('Step 1 committed');
  await expect(panel.getByTestId('agent-state')).toContainText('"count": 1');
  // A runaway step, killed by hand: rolled back to step 1's state.
  await panel.getByLabel('Message (JSON)').fill('{"spin": true}');
  await panel.getByRole('button', { name: 'Send' }).click();
  await panel.getByRole('button', { name: 'Kill sandbox' }).click();
  await expect(panel.getByTestId('agent-outcome')).toContainText(/Step 2 rolled back \((crash|cpu)/);
  await expect(panel.getByTestId('agent-history')).toContainText('agent.rollback');
  await expect(panel.getByTestId('agent-step')).toHaveText('1');
});

test('the Agents panel shows refused effects, spawns from a program CID, replays a step and migrates to another tab', async ({
  context,
}) => {
  const a = await context.newPage();
  const b = await context.newPage();
  await openNode(a, '/#agents');
  const bId = await openNode(b);
  const panel = a.locator('naos-agents-panel');
  await panel.getByLabel('Name').fill('scribe');
  await panel
    .getByLabel('Code')
    .fill("function step(state, message) { return { state: { n: (state.n || 0) + 1 }, effects: [{ type: 'append', value: message }] }; }");
  // Spawned with agent.send only: its append effects are refused and recorded.
  await panel.getByLabel('ledger.append').uncheck();
  await panel.getByRole('button', { name: 'Spawn' }).click();
  await expect(panel.getByTestId('agent-outcome')).toContainText('Spawned agent:scribe::local');
  await panel.getByRole('button', { name: 'Send' }).click();
  await expect(panel.getByTestId('agent-outcome')).toContainText('Step 1 committed; 1 effect(s) refused');
  await expect(panel.getByTestId('agent-refusals')).toContainText(/step 1: append refused — .*ledger\.append/);
  await expect(panel.getByTestId('agent-state')).toContainText('"n": 1');
  await panel.getByRole('button', { name: 'Replay step 1' }).click();
  await expect(panel.getByTestId('agent-outcome')).toContainText('Step 1 replayed: confirmed');

  // The same program again, by its CID: nothing pasted but the hash.
  const { program } = await a.evaluate(() => naos.agents.get('agent:scribe::local'));
  await panel.getByLabel('Name').fill('copyist');
  await panel.getByLabel('Code').fill('');
  await panel.getByLabel('…or program CID').fill(program);
  await panel.getByRole('button', { name: 'Spawn' }).click();
  await expect(panel.getByTestId('agent-outcome')).toContainText('Spawned agent:copyist::local');
  expect(await a.evaluate(() => naos.agents.get('agent:copyist::local').then((v) => v.program))).toBe(program);
  await panel.getByLabel('Name').fill('nobody');
  await panel.getByLabel('…or program CID').fill('bafkreinotacid');
  await panel.getByRole('button', { name: 'Spawn' }).click();
  await expect(panel.getByTestId('agent-outcome')).toContainText('spawn refused: InvalidInputError');

  // Migrate the selected agent (copyist) to the other tab, chosen from the peers.
  await panel.getByLabel('Migrate to').selectOption(bId, { timeout: 30_000 });
  await panel.getByRole('button', { name: 'Migrate' }).click();
  await expect(panel.getByTestId('agent-outcome')).toContainText(`Handed over to ${bId} at step 0`);
  await expect(panel.getByRole('button', { name: 'Send' })).toBeDisabled();
  await expect.poll(() => b.evaluate(() => naos.agents.get('agent:copyist::local').then((v) => v.live)), { timeout: 30_000 }).toBe(true);
});

test('an agent migrates between two tabs: the new tab resumes it, the old one stops; any tab replays its steps', async ({ context }) => {
  const a = await context.newPage();
  const b = await context.newPage();
  await openNode(a);
  const bId = await openNode(b);
  const { id } = await a.evaluate(async (code) => {
    const spawned = await naos.agents.spawn(code, { name: 'traveller' });
    await naos.agents.send(spawned.id, { by: 10 });
    return spawned;
  }, COUNTER);
  // B learns of the agent through tab federation.
  await expect.poll(() => agentStep(b, id), { timeout: 30_000 }).toBe(1);
  const moved = await a.evaluate(([agent, to]) => naos.agents.migrate(agent, to), [id, bId] as const);
  expect(moved).toMatchObject({ to: bId, epoch: 1, step: 1 });
  await expect.poll(() => b.evaluate((agent) => naos.agents.get(agent).then((v) => v.live), id), { timeout: 30_000 }).toBe(true);
  const atB = await b.evaluate((agent) => naos.agents.send(agent, { by: 1 }), id);
  expect(atB).toMatchObject({ status: 'committed', step: 2, state: { n: 11 } });
  await expectHandedOver(a, id, bId, 2);
});

test('one agent spawned in two partitioned tabs: after the heal both derive the same host, and both show the drift', async ({
  context,
}) => {
  const [left, right] = (await openTabs(context, 2)) as [Page, Page];
  await expectMesh([left, right]);
  await left.evaluate(() => naos.debug.partition('left'));
  const spawnAndStep = (page: Page, by: number) =>
    page.evaluate(
      async ([code, step]) => {
        const { id } = await naos.agents.spawn(code, { name: 'twin' });
        const outcome = await naos.agents.send(id, { by: step });
        return { id, status: outcome.status };
      },
      [COUNTER, by] as const,
    );
  const [fromLeft, fromRight] = [await spawnAndStep(left, 1), await spawnAndStep(right, 100)];
  expect(fromLeft).toEqual({ id: fromRight.id, status: 'committed' });
  const id = fromLeft.id;
  expect(await left.evaluate(() => naos.drift())).toEqual([]);

  await left.evaluate(() => naos.debug.partition(null));
  await expectConverged([left, right], { logs: 2 });
  const [leftDrift, rightDrift] = await Promise.all([left, right].map((page) => page.evaluate(() => naos.drift())));
  expect(leftDrift).toEqual(rightDrift);
  expect(leftDrift).toHaveLength(1);
  expect(leftDrift![0]).toMatchObject({ kind: 'policy.register', key: id, base: null });
  const winner = leftDrift![0]!.contenders.find((c) => c.id === leftDrift![0]!.winner)!;

  // Both derive the same citizen: the first registration's node hosts it, with its step.
  const views = await Promise.all([left, right].map((page) => page.evaluate((agent) => naos.agents.get(agent), id)));
  for (const view of views) expect(view).toMatchObject({ registrar: winner.author, host: winner.author, step: 1 });
  expect(views[0]!.stateHash).toBe(views[1]!.stateHash);
  const lost = (await left.evaluate(() => naos.nodeId())) === winner.author ? right : left;
  expect(
    await lost.evaluate(
      (agent) =>
        naos.agents.send(agent, {}).then(
          () => 'ran',
          (e: unknown) => (e as Error).name,
        ),
      id,
    ),
  ).toBe('AgentNotHostedError');

  // The Drift panel names the agent and marks the winning registration.
  await lost.getByRole('link', { name: 'Drift' }).click();
  const event = lost.getByTestId('drift-event');
  await expect(event).toHaveAttribute('data-kind', 'policy.register');
  await expect(event).toContainText(id);
  await expect(event.locator('tr.winner')).toHaveAttribute('data-author', winner.author);
});
