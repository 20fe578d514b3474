import { expect, test } from '@playwright/test';
import { expectConverged, expectMesh, openTab, openTabs, syncState } from './tabs.js';

// Tab federation (issue 3) in real Chromium: the tabs of one browser context are nodes
// that gossip over BroadcastChannel. Four tabs per test (≈100 MB a context).

test('four tabs that each append converge to one state root and one derived state', async ({ context }) => {
  const pages = await openTabs(context, 4);
  await expectMesh(pages);
  await Promise.all(
    pages.map((page, i) =>
      page.evaluate(async (i) => {
        await naos.append({ tab: i, n: 1 });
        await naos.appendMany([
          { tab: i, n: 2 },
          { tab: i, n: 3 },
        ]);
        await naos.set(`key-${i}`, { from: i });
      }, i),
    ),
  );
  await expectConverged(pages, { logs: 4 });
  const [first] = await Promise.all(pages.map(syncState));
  expect(first!.heads.map((h) => h.size)).toEqual([4, 4, 4, 4]);
  const state = await pages[3]!.evaluate(() => naos.state());
  expect(state.map((kv) => [kv.key, kv.value])).toEqual([0, 1, 2, 3].map((i) => [`key-${i}`, { from: i }]));
  // Every tab holds every log and can prove any entry of it.
  const origin = first!.heads[0]!.origin;
  const verdict = await pages[2]!.evaluate(async (origin) => naos.verifyInclusion(await naos.prove(1, undefined, origin)), origin);
  expect(verdict).toEqual({ valid: true });
  // The manifest is announced and the Peers panel draws this node and its three peers.
  const peers = await pages[0]!.evaluate(() => naos.peers());
  expect(peers).toHaveLength(3);
  for (const peer of peers) {
    expect(peer).toMatchObject({ trust: 'experimental', manifest: { region: 'local', trust: 'experimental' }, rejected: 0 });
    expect(peer.health.uptimeMs).toBeGreaterThanOrEqual(0);
  }
  await pages[0]!.getByRole('link', { name: 'Peers' }).click();
  await expect(pages[0]!.getByTestId('federation-graph')).toHaveAttribute('data-nodes', '4');
  await expect(pages[0]!.getByTestId('peers-table').locator('tbody tr')).toHaveCount(3);
});

test('two tabs closed while the others append catch up when they are reopened, as the same nodes', async ({ context }) => {
  const pages = await openTabs(context, 4);
  await pages[0]!.evaluate(() => naos.append('before'));
  await expectConverged(pages, { logs: 1 });
  const closedIds = await Promise.all(pages.slice(2).map((p) => p.evaluate(() => naos.nodeId())));
  await Promise.all(pages.slice(2).map((p) => p.close()));
  const [a, b] = pages as [(typeof pages)[0], (typeof pages)[0]];
  // Their slots (and identities) are free again once their workers are gone.
  await expect
    .poll(async () =>
      a.evaluate(async () =>
        ((await navigator.locks.query()).held ?? [])
          .map((l) => l.name ?? '')
          .filter((name) => name.startsWith('naos-slot-'))
          .sort(),
      ),
    )
    .toEqual(['naos-slot-0', 'naos-slot-1']);
  await a.evaluate(() => naos.appendMany(['while', 'two', 'tabs', 'were', 'closed']));
  await b.evaluate(() => naos.append('b too'));
  await expectConverged([a, b], { logs: 2 });

  const reopened = [await openTab(context), await openTab(context)];
  expect((await Promise.all(reopened.map((p) => p.evaluate(() => naos.nodeId())))).sort()).toEqual([...closedIds].sort());
  await expectConverged([a, b, ...reopened], { logs: 2 });
  const heads = (await syncState(reopened[0]!)).heads;
  expect(heads.map((h) => h.size).sort()).toEqual([0, 1, 6]);
});

test('a reloaded tab keeps its identity and its place in the federation', async ({ context }) => {
  const pages = await openTabs(context, 4);
  const tab = pages[1]!;
  const before = await tab.evaluate(async () => ({ id: await naos.nodeId(), index: (await naos.append('mine')).index }));
  await expectConverged(pages, { logs: 1 });
  await tab.reload();
  await tab.evaluate(() => naos.ready);
  expect(await tab.evaluate(() => naos.nodeId())).toBe(before.id);
  await tab.evaluate(() => naos.append('after reload'));
  await pages[0]!.evaluate(() => naos.append('from another tab'));
  await expectConverged(pages, { logs: 2 });
  const own = await tab.evaluate(async () => naos.entries(0, 10));
  expect(own.map((e) => e.payload)).toEqual(['mine', 'after reload']);
  await expect.poll(async () => (await pages[0]!.evaluate(() => naos.peers())).map((p) => p.nodeId)).toContain(before.id);
});

test('concurrent writes of one key in a partition show the same drift event in every tab after the heal', async ({ context }) => {
  const pages = await openTabs(context, 4);
  await expectMesh(pages);
  const [left, right] = pages as [(typeof pages)[0], (typeof pages)[0]];
  // Debug affordance: the left tab hears only tabs in its partition group (none).
  await left.evaluate(() => naos.debug.partition('left'));
  expect(await left.evaluate(() => naos.debug.partitionGroup())).toBe('left');
  await left.evaluate(() => naos.set('policy/retention', { days: 7 }));
  await right.evaluate(() => naos.set('policy/retention', { days: 30 }));
  await expectConverged(pages.slice(1), { logs: 1 });
  expect(await left.evaluate(() => naos.drift())).toEqual([]);
  expect((await syncState(left)).heads.filter((h) => h.size > 0)).toHaveLength(1);

  await left.evaluate(() => naos.debug.partition(null));
  await expectConverged(pages, { logs: 2 });
  const events = await Promise.all(pages.map((p) => p.evaluate(() => naos.drift())));
  expect(events[0]).toHaveLength(1);
  expect(events[0]![0]).toMatchObject({ key: 'policy/retention', base: null });
  expect(events[0]![0]!.contenders.map((c) => (c.value as { days: number }).days).sort((x, y) => x - y)).toEqual([7, 30]);
  for (const event of events) expect(event).toEqual(events[0]);

  // The Drift panel of every tab shows that event, with the same winner.
  const winner = events[0]![0]!.contenders.find((c) => c.id === events[0]![0]!.winner)!;
  for (const page of pages) {
    await page.getByRole('link', { name: 'Drift' }).click();
    const event = page.getByTestId('drift-event');
    await expect(event).toHaveCount(1);
    await expect(event).toContainText('policy/retention');
    await expect(event.locator('tr.winner')).toHaveAttribute('data-author', winner.author);
    await expect(event.locator('tbody tr')).toHaveCount(2);
  }
});
