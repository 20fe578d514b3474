import { type Browser, type BrowserContext, expect, type Page, test } from '@playwright/test';
import { type FederationServer, startEquivocator, startFederationServer } from './federation-server.js';
import { agentStep, expectHandedOver, nodeReady } from './support.js';
import { federationView } from './tabs.js';

// Browsers on different machines (issue 4): separate browser contexts — isolated storage,
// no shared BroadcastChannel — so they can only federate over libp2p: WebRTC between the
// browsers (signalled through the relay), WebSockets to the always-on Node peer. This
// file runs its own `npm start` (the relay in a process of its own, so it can be killed).
// The tests run in order and share the federation they build up.
const PORT = Number(process.env['E2E_PORT'] ?? 4174) + 2;

test.describe.configure({ mode: 'serial', timeout: 120_000 });

let server: FederationServer;
const contexts: BrowserContext[] = [];
const pages: Page[] = [];

async function openBrowser(browser: Browser): Promise<Page> {
  // `microphone`: Chromium then offers host ICE candidates (with --allow-loopback-in-peer-connection, loopback ones).
  const context = await browser.newContext({ baseURL: server.url, permissions: ['microphone'] });
  contexts.push(context);
  const page = await context.newPage();
  await page.goto('/#peers');
  await nodeReady(page);
  return page;
}

/** Every page and the always-on peer hold the same state root. */
async function expectAllConverged(members: readonly Page[], timeout = 45_000): Promise<void> {
  try {
    await expect
      .poll(
        async () => {
          const roots = await Promise.all(members.map((p) => p.evaluate(() => naos.stateRoot())));
          roots.push((await server.peerStatus()).stateRoot);
          return new Set(roots).size;
        },
        { timeout, message: 'browsers and the always-on peer converge to one state root' },
      )
      .toBe(1);
  } catch (error) {
    const views = await Promise.all(members.map(federationView));
    const networks = await Promise.all(members.map((p) => p.evaluate(() => naos.network())));
    throw new Error(`${(error as Error).message}\n${JSON.stringify({ views, networks, peer: await server.peerStatus() }, null, 1)}`, {
      cause: error,
    });
  }
}

/** `page` has a proven, direct libp2p link to each of `nodeIds`; if not, fails with its network state (dialer, connections). */
async function expectDirectLinks(page: Page, nodeIds: readonly string[]): Promise<void> {
  try {
    await expect
      .poll(
        async () =>
          (await page.evaluate(() => naos.peers()))
            .filter((p) => p.transport === 'libp2p' && p.libp2p?.direct === true && p.libp2p.nodeIdProven && p.trust === 'experimental')
            .map((p) => p.nodeId),
        { timeout: 45_000, message: 'direct, proven libp2p links' },
      )
      .toEqual(expect.arrayContaining([...nodeIds]));
  } catch (error) {
    const network = await page.evaluate(() => naos.network());
    throw new Error(`${(error as Error).message}\n${JSON.stringify({ network }, null, 1)}`, { cause: error });
  }
}

test.beforeAll(async () => {
  server = await startFederationServer(PORT);
});

test.afterAll(async () => {
  for (const context of contexts.splice(0)) await context.close();
  await server?.stop();
});

test('three browsers and the always-on peer find each other through the relay, link directly over WebRTC and converge', async ({
  browser,
}) => {
  for (let i = 0; i < 3; i++) pages.push(await openBrowser(browser));
  const ids = await Promise.all(pages.map((p) => p.evaluate(() => naos.nodeId())));
  const peer = await server.peerStatus();
  for (const [i, page] of pages.entries()) {
    await expectDirectLinks(page, [...ids.filter((_, j) => j !== i), peer.nodeId]);
    const network = await page.evaluate(() => naos.network());
    expect(network.state).toBe('on');
    expect(network.reserved).toBe(true);
    // The other browsers over WebRTC, the always-on peer over WebSockets.
    expect(network.connections.filter((c) => c.transport === 'webrtc' && c.direct).length).toBeGreaterThanOrEqual(2);
  }
  for (const [i, page] of pages.entries()) await page.evaluate((n) => naos.append({ from: `browser ${n}` }), i);
  await expectAllConverged(pages);
  const held = (await pages[0]!.evaluate(() => naos.heads())).filter((h) => h.size > 0).map((h) => h.origin);
  expect(held).toEqual(expect.arrayContaining(ids.map((id) => `naos/${id}`)));
  // Each node says it syncs over libp2p, and the others (browsers and the peer) have heard it.
  expect((await pages[0]!.evaluate(() => naos.manifest()))?.capabilities).toContain('sync/libp2p');
  const heard = (await pages[0]!.evaluate(() => naos.peers())).filter((p) => p.transport === 'libp2p');
  expect(heard.map((p) => p.manifest?.capabilities ?? [])).toEqual(heard.map(() => expect.arrayContaining(['sync/libp2p'])));

  // The Peers panel shows the handshake results.
  const panel = pages[0]!.locator('naos-peers-panel');
  await expect(panel.getByText('direct').first()).toBeVisible();
  await expect(panel.getByText('WebRTC').first()).toBeVisible();
  // The Node panel shows the capability the network added after boot.
  const nav = pages[0]!.getByRole('navigation', { name: 'Panels' });
  await nav.getByRole('link', { name: 'Node' }).click();
  await expect(pages[0]!.locator('naos-node-panel').getByText('ledger, sync/broadcast-channel, sync/libp2p')).toBeVisible();
  await nav.getByRole('link', { name: 'Peers' }).click();
});

test('modules and an agent travel between browsers: B pulls A’s modules by CID, the agent migrates A → B and resumes, A replays B’s step', async () => {
  const [a, b] = pages as [Page, Page, Page];
  const bId = await b.evaluate(() => naos.nodeId());
  // (module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))
  const wasm = [
    0, 97, 115, 109, 1, 0, 0, 0, 1, 7, 1, 96, 2, 127, 127, 1, 127, 3, 2, 1, 0, 7, 7, 1, 3, 97, 100, 100, 0, 0, 10, 9, 1, 7, 0, 32, 0, 32, 1,
    106, 11,
  ];
  const published = await a.evaluate(async (bytes) => {
    const js = await naos.agents.modules.publish('adder', '1.0.0', 'exports.add = function (x, y) { return x + y; };', 'js');
    const bin = await naos.agents.modules.publish('adder-wasm', '1.0.0', new Uint8Array(bytes), 'wasm');
    return { js: js.cid, wasm: bin.cid };
  }, wasm);
  // B holds no bytes of them until A's log (with the chunks) reaches it over WebRTC; then
  // it checks them against the CIDs.
  const pull = (name: string) =>
    b.evaluate(
      (n) =>
        naos.agents.modules.pull(n).then(
          (m) => ({ cid: m.cid, kind: m.kind, exports: m.exports ?? null }),
          (e: unknown) => (e as Error).name,
        ),
      name,
    );
  await expect.poll(() => pull('adder'), { timeout: 45_000 }).toEqual({ cid: published.js, kind: 'js', exports: null });
  await expect.poll(() => pull('adder-wasm'), { timeout: 45_000 }).toEqual({ cid: published.wasm, kind: 'wasm', exports: ['add'] });
  expect(await b.evaluate(() => naos.agents.modules.checkVersion('adder'))).toMatchObject({ installed: '1.0.0', upToDate: true });

  const program = `function step(state, message, ctx) {
    if (message.cid) return { state: state, effects: [{ type: 'import', name: 'adder', cid: message.cid }] };
    return { state: { n: ctx.modules.adder.add(state.n || 0, message.by) } };
  }`;
  const { id } = await a.evaluate(
    async ([code, cid]) => {
      const spawned = await naos.agents.spawn(code, { name: 'courier', rights: ['module.import'] });
      const imported = await naos.agents.send(spawned.id, { cid });
      if (imported.status !== 'committed' || imported.effects[0]?.status !== 'done') throw new Error(JSON.stringify(imported));
      await naos.agents.send(spawned.id, { by: 2 });
      return spawned;
    },
    [program, published.js] as const,
  );
  await expect.poll(() => agentStep(b, id), { timeout: 45_000 }).toBe(2);
  expect(await a.evaluate(([agent, to]) => naos.agents.migrate(agent, to), [id, bId] as const)).toMatchObject({
    to: bId,
    epoch: 1,
    step: 2,
  });
  await expect.poll(() => b.evaluate((agent) => naos.agents.get(agent).then((v) => v.live), id), { timeout: 45_000 }).toBe(true);
  // B runs it with the module from its own copy of A's chunks.
  expect(await b.evaluate((agent) => naos.agents.send(agent, { by: 3 }), id)).toMatchObject({
    status: 'committed',
    step: 3,
    state: { n: 5 },
  });
  await expectHandedOver(a, id, bId, 3, 45_000);
  // The third browser, which took no part, agrees on where the agent lives and what it holds.
  await expect
    .poll(
      () =>
        pages[2]!.evaluate(
          (agent) =>
            naos.agents.get(agent).then(
              (v) => [v.host, v.state],
              () => null,
            ),
          id,
        ),
      { timeout: 45_000 },
    )
    .toEqual([bId, { n: 5 }]);
});

test('a browser cut off (its libp2p node stopped) falls behind; healed, everyone converges', async () => {
  const [a, b, c] = pages as [Page, Page, Page];
  await c.evaluate(() => naos.debug.libp2p(false));
  await expect.poll(() => c.evaluate(async () => (await naos.network()).state)).toBe('off');
  await a.evaluate(() => naos.append('while c is cut off'));
  await c.evaluate(() => naos.append('c alone'));
  await expectAllConverged([a, b]);
  const outside = await c.evaluate(() => naos.stateRoot());
  expect(outside).not.toBe(await a.evaluate(() => naos.stateRoot()));

  await c.evaluate(() => naos.debug.libp2p(true));
  await expectAllConverged([a, b, c]);
});

test('a late joiner gets everything', async ({ browser }) => {
  const late = await openBrowser(browser);
  await expectAllConverged([...pages, late]);
  const ids = await Promise.all(pages.map((p) => p.evaluate(() => naos.nodeId())));
  const held = (await late.evaluate(() => naos.heads())).filter((h) => h.size > 0).map((h) => h.origin);
  expect(held.sort()).toEqual(ids.map((id) => `naos/${id}`).sort());
  pages.push(late);
});

test('relay killed: WebRTC links keep syncing; relay back: browsers rejoin by themselves and a newcomer links', async ({ browser }) => {
  await server.killRelay();
  for (const page of pages) {
    await expect.poll(async () => (await page.evaluate(() => naos.network())).relays.every((r) => !r.connected)).toBe(true);
  }
  await pages[0]!.evaluate(() => naos.append('while the relay is down'));
  await expectAllConverged(pages);

  await server.restartRelay();
  for (const page of pages) {
    await expect
      .poll(
        async () => {
          const network = await page.evaluate(() => naos.network());
          return network.relays.every((r) => r.connected) && network.reserved;
        },
        { timeout: 60_000, message: 'back on the relay with a reservation' },
      )
      .toBe(true);
    // Backoff, not a storm: a handful of attempts per page while the relay was down.
    const keep = (await page.evaluate(() => naos.network())).keepConnected!;
    expect(keep.scheduled).toBeLessThanOrEqual(1);
  }
  const newcomer = await openBrowser(browser);
  const ids = await Promise.all(pages.map((p) => p.evaluate(() => naos.nodeId())));
  await expectDirectLinks(newcomer, ids);
  await newcomer.evaluate(() => naos.append('after the relay came back'));
  pages.push(newcomer);
  await expectAllConverged(pages);
});

test('an equivocating node is flagged by every browser and the always-on peer, and each app shows the alert', async () => {
  const peer = await server.peerStatus();
  const peerAddress = (await (await fetch(`${server.url}/.well-known/peers.json`)).json()) as {
    peers: { peerId: string; multiaddrs: string[] }[];
  };
  const direct = peerAddress.peers.find((p) => p.peerId === peer.peerId)!.multiaddrs.find((a) => !a.includes('/p2p-circuit'))!;
  const twins = await startEquivocator(direct);
  try {
    await expect.poll(async () => (await server.peerStatus()).flagged.map((f) => f.origin), { timeout: 45_000 }).toContain(twins.origin);
    for (const page of pages) {
      await expect
        .poll(async () => (await page.evaluate(() => naos.flagged())).map((f) => f.origin), { timeout: 45_000 })
        .toContain(twins.origin);
      const [flag] = await page.evaluate(() => naos.flagged());
      expect(flag!.evidence.a).toContain(twins.origin);
      expect(flag!.evidence.b).toContain(twins.origin);
      const alert = page.getByTestId('equivocation-alert');
      await expect(alert).toBeVisible();
      await expect(alert).toContainText(twins.origin.slice(5));
    }
    // The honest rest still converges (the flagged log leaves the state root).
    await pages[1]!.evaluate(() => naos.append('after the equivocation'));
    await expectAllConverged(pages);
  } finally {
    await twins.stop();
  }
});
