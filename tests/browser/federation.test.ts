import { afterEach, describe, expect, it } from 'vitest';
import '../../web/components/drift-panel.js';
import '../../web/components/ledger-panel.js';
import '../../web/components/peers-panel.js';
import type { Head } from '../../src/kernel/api.js';
import { seedSigner } from '../../src/crypto/ed25519.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { MemoryLedgerStore } from '../../src/storage/memory-store.js';
import { KernelService } from '../../workers/kernel-service.js';
import { localFederation, type LocalNode } from './local-federation.js';

let open: { close: () => Promise<void> } | undefined;
afterEach(async () => {
  document.body.replaceChildren();
  await open?.close();
  open = undefined;
});

async function federation(count: number) {
  const fed = await localFederation(count);
  open = fed;
  return fed.nodes;
}

const converged = (nodes: readonly LocalNode[]) =>
  new Set(nodes.map((n) => `${n.kernel.stateRoot()}/${n.kernel.viewDigest()}`)).size === 1 &&
  nodes.every((n) => n.kernel.heads().filter((h) => h.size > 0).length === nodes[0]!.kernel.heads().filter((h) => h.size > 0).length);

describe('Federation over BroadcastChannel (the worker setup, in one page)', () => {
  it('finds its peers with their manifests and replicates appends; onChange fires for replicated logs', async () => {
    const nodes = await federation(3);
    const [a, b, c] = nodes as [LocalNode, LocalNode, LocalNode];
    await expect
      .poll(() =>
        a.service
          .peers()
          .map((p) => p.manifest?.region)
          .sort(),
      )
      .toEqual(['r1', 'r2']);
    const seen: Head[] = [];
    await b.client.naos.ready;
    b.client.naos.onChange((head) => seen.push(head));
    await a.service.append({ hello: 'tabs' });
    await c.service.appendMany([1, 2]);
    await expect.poll(() => converged(nodes)).toBe(true);
    expect(
      b.kernel
        .heads()
        .map((h) => h.size)
        .sort(),
    ).toEqual([0, 1, 2]);
    await expect.poll(() => seen.map((h) => h.origin).sort()).toEqual([a.kernel.origin, c.kernel.origin].sort());
    const entries = await b.service.entries(0, 2, c.kernel.origin);
    expect(entries.map((e) => e.payload)).toEqual([1, 2]);
    expect(await b.client.naos.verifyInclusion(b.service.prove(1, undefined, c.kernel.origin))).toEqual({ valid: true });
    expect(b.service.logs().map((l) => l.origin)).toContain(a.kernel.origin);
    expect(a.service.rejections()).toEqual([]);
    expect(a.service.manifest()).toMatchObject({ region: 'r0', trust: 'experimental' });
  });

  it('a node that attaches a libp2p network says so: its manifest gains sync/libp2p and its peers hear it at once', async () => {
    const nodes = await federation(2);
    const [a, b] = nodes as [LocalNode, LocalNode];
    const capabilitiesOfA = () => b.service.peers().find((p) => p.nodeId === a.kernel.nodeId)?.manifest?.capabilities;
    await expect.poll(capabilitiesOfA).toEqual(['ledger', 'sync/broadcast-channel']);
    const channel = new MessageChannel();
    await a.service.attachNetwork(channel.port2);
    expect(a.service.manifest()?.capabilities).toEqual(['ledger', 'sync/broadcast-channel', 'sync/libp2p']);
    // Heard from the ANNOUNCE sent on attaching, well before any timer would repeat it.
    await expect.poll(capabilitiesOfA, { timeout: 1000 }).toEqual(['ledger', 'sync/broadcast-channel', 'sync/libp2p']);
    // A second network (the page restarted its node) changes nothing more.
    await a.service.attachNetwork(new MessageChannel().port2);
    expect(a.service.manifest()?.capabilities).toEqual(['ledger', 'sync/broadcast-channel', 'sync/libp2p']);
    expect(b.service.manifest()?.capabilities).toEqual(['ledger', 'sync/broadcast-channel']);
    expect(b.service.rejections()).toEqual([]);
    channel.port1.close();
  });

  it('a partitioned node writes concurrently with the others; after the heal every node has the same drift event', async () => {
    const nodes = await federation(3);
    const [a, b] = nodes as [LocalNode, LocalNode];
    await expect.poll(() => a.service.peers().length).toBe(2);
    await a.service.partition('alone');
    expect(a.service.partitionGroup()).toBe('alone');
    await a.service.set('mode', 'a');
    await b.service.set('mode', 'b');
    await expect.poll(() => converged(nodes.slice(1))).toBe(true);
    expect(a.kernel.heads().filter((h) => h.size > 0)).toHaveLength(1);
    expect(a.service.drift()).toEqual([]);
    await a.service.partition(null);
    await expect.poll(() => converged(nodes), { timeout: 10_000 }).toBe(true);
    const drift = nodes.map((n) => n.service.drift());
    expect(drift[0]).toHaveLength(1);
    expect(drift[0]![0]!.contenders.map((c) => c.value).sort()).toEqual(['a', 'b']);
    for (const events of drift) expect(events).toEqual(drift[0]);
    expect(new Set(nodes.map((n) => JSON.stringify(n.service.state())))).toHaveProperty('size', 1);
    expect(a.service.timeline(10).map((e) => e.kind)).toEqual(['set', 'set']);
  });

  it('refuses bad partition groups and a closed federation hears nothing', async () => {
    const nodes = await federation(2);
    const [a, b] = nodes as [LocalNode, LocalNode];
    await expect(a.service.partition('')).rejects.toMatchObject({ name: 'InvalidInputError' });
    await expect(a.service.partition(42)).rejects.toMatchObject({ name: 'InvalidInputError' });
    await expect(a.service.partition('a/b')).rejects.toMatchObject({ name: 'InvalidInputError' });
    await expect.poll(() => b.service.peers().length).toBe(1);
    await a.federation.close();
    await b.service.append('after a left');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(a.kernel.heads().filter((h) => h.size > 0)).toHaveLength(0);
    await expect.poll(() => b.service.peers().length, { timeout: 5000 }).toBe(0);
  });
});

describe('KernelService without federation, and its input checks', () => {
  it('has no peers, rejections or forks, and refuses to partition', async () => {
    const kernel = await Kernel.open({ store: new MemoryLedgerStore(), signer: seedSigner(new Uint8Array(32).fill(3)), now: () => 0 });
    const service = new KernelService(kernel, 0);
    expect([service.peers(), service.rejections(), service.forks(), service.manifest(), service.partitionGroup()]).toEqual([
      [],
      [],
      [],
      undefined,
      null,
    ]);
    await expect(service.partition('x')).rejects.toMatchObject({ name: 'InvalidInputError' });
    await service.append('x');
    await expect(service.entries(0, 1, 7 as unknown as string)).rejects.toThrow(TypeError);
    expect(() => service.prove(0, undefined, 'naos/nobody')).toThrow(expect.objectContaining({ name: 'UnknownLogError' }));
    await expect(service.entries(0, 1, 'naos/nobody')).rejects.toMatchObject({ name: 'UnknownLogError' });
    expect(() => service.timeline(-1)).toThrow(RangeError);
    expect(() => service.timeline(10_001)).toThrow(RangeError);
    await expect(service.set('', 1)).rejects.toMatchObject({ name: 'InvalidInputError' });
    await expect(service.set(5 as unknown as string, 1)).rejects.toMatchObject({ name: 'InvalidInputError' });
    for (const result of [service.logs(), service.state(), service.drift(), service.timeline(), service.viewDigest()]) {
      expect(structuredClone(result)).toEqual(result);
    }
  });
});

const shadow = (element: Element) => element.shadowRoot!;
const text = (root: ParentNode, selector: string) => (root.querySelector(selector)?.textContent ?? '').replace(/\s+/g, ' ').trim();

/** Node b appends `values`; a Ledger panel of node a, once a holds them, showing b's log. */
async function ledgerPanelOnReplica(values: unknown[]) {
  const nodes = await federation(2);
  const [a, b] = nodes as [LocalNode, LocalNode];
  await b.service.appendMany(values);
  await expect.poll(() => converged(nodes)).toBe(true);
  const panel = document.createElement('naos-ledger-panel');
  panel.client = a.client;
  document.body.append(panel);
  const root = shadow(panel);
  await expect.poll(() => root.querySelector('select')?.options.length).toBe(2);
  const select = root.querySelector('select')!;
  select.value = b.kernel.origin;
  select.dispatchEvent(new Event('change'));
  return { a, b, root };
}

describe('panels over a live federation', () => {
  it('the Peers panel draws this node and its peers and lists them', async () => {
    const nodes = await federation(3);
    // The third node's discovery is still on the channel when federation() returns; the
    // panel re-reads peers only every second, so let it start from a settled view.
    await expect.poll(() => nodes[0]!.service.peers().length).toBe(2);
    const panel = document.createElement('naos-peers-panel');
    panel.client = nodes[0]!.client;
    document.body.append(panel);
    await expect
      .poll(() => shadow(panel).querySelector('naos-federation-graph')?.shadowRoot?.querySelector('svg')?.getAttribute('data-nodes'))
      .toBe('3');
    const graph = shadow(panel).querySelector('naos-federation-graph')!.shadowRoot!.querySelector('svg')!;
    expect(graph.getAttribute('role')).toBe('img');
    expect(graph.getAttribute('aria-label')).toMatch(/this node and 2 live peers/);
    expect(shadow(panel).querySelectorAll('[data-testid="peers-table"] tbody tr')).toHaveLength(2);
    expect(text(shadow(panel), '[data-testid="peers-table"]')).toContain('r1 / r1-0');
    // A peer going away leaves the picture.
    await nodes[2]!.federation.close();
    await expect.poll(() => graph.getAttribute('data-nodes'), { timeout: 5000 }).toBe('2');
  });

  it('the Ledger panel browses a replica and proves an entry against its author’s signed checkpoint', async () => {
    const { root } = await ledgerPanelOnReplica(Array.from({ length: 25 }, (_, i) => ({ i })));
    await expect.poll(() => text(root, '[data-testid="ledger-range"]')).toBe('Entries 20–24 of 25');
    [...root.querySelectorAll('button')].find((button) => button.textContent?.trim() === 'First')!.click();
    await expect.poll(() => text(root, '[data-testid="ledger-range"]')).toBe('Entries 0–19 of 25');
    root.querySelector<HTMLButtonElement>('button[aria-label="Prove entry 3"]')!.click();
    await expect
      .poll(() => text(root, '[data-testid="ledger-verdict"]'))
      .toContain("that root is the one the log's author signed at size 25");
    expect(text(root, '[data-testid="ledger-verdict"]')).toContain('included in the tree of size 25');
  });

  it('exports the own log and a replica as naos verify checks them; a changed byte fails; bad requests are refused by name', async () => {
    const nodes = await federation(2);
    const [a, b] = nodes as [LocalNode, LocalNode];
    await a.service.append({ first: true });
    await a.service.appendMany([1, 2, 3]);
    await b.service.append('b');
    await expect.poll(() => converged(nodes)).toBe(true);
    const own = await a.client.naos.export();
    expect(own.logs.map((l) => [l.origin, l.entries.length, l.checkpoints.map((c) => c.size)])).toEqual([[a.kernel.origin, 4, [0, 1, 4]]]);
    expect(await a.client.naos.verifyExport(own)).toMatchObject({ ok: true });
    // A replica (with the checkpoints that came with it) and the own log in one export, checked from its JSON text.
    const both = await b.client.naos.export([a.kernel.origin, b.kernel.origin]);
    expect(both.logs.map((l) => l.origin)).toEqual([a.kernel.origin, b.kernel.origin]);
    const report = await b.client.naos.verifyExport(JSON.stringify(both));
    expect(report.ok).toBe(true);
    expect(report.checks.every((c) => c.ok)).toBe(true);
    // One changed byte in one entry: the export no longer verifies, and the report says where.
    const entry = atob(own.logs[0]!.entries[1]!);
    const changed = btoa(entry.slice(0, -1) + String.fromCharCode(entry.charCodeAt(entry.length - 1) ^ 1));
    const tampered = { ...own, logs: [{ ...own.logs[0]!, entries: own.logs[0]!.entries.map((e, i) => (i === 1 ? changed : e)) }] };
    const failed = await a.client.naos.verifyExport(tampered);
    expect(failed.ok).toBe(false);
    expect(failed.checks.filter((c) => !c.ok).length).toBeGreaterThan(0);
    await expect(a.client.naos.verifyExport('{"format": "naos-ledger-export/1"')).rejects.toMatchObject({ name: 'InvalidInputError' });
    await expect(a.client.naos.verifyExport({ format: 'something else', logs: [] })).rejects.toMatchObject({ name: 'ExportFormatError' });
    await expect(a.client.naos.export(['naos/nobody'])).rejects.toMatchObject({ name: 'UnknownLogError' });
    for (const bad of [[], 'naos/x', [a.kernel.origin, a.kernel.origin], [7]]) {
      await expect(a.client.naos.export(bad as string[])).rejects.toMatchObject({ name: 'InvalidInputError' });
      await expect(a.client.naos.exportFile(bad as string[])).rejects.toMatchObject({ name: 'InvalidInputError' });
    }
    // The same export as a file, built piece by piece, with progress up to twice the entries.
    const progress: { written: number; total: number }[] = [];
    const file = await b.client.naos.exportFile([a.kernel.origin, b.kernel.origin], (p) => progress.push(p));
    const fileText = await file.blob.text();
    expect(fileText).toBe(`${JSON.stringify(both, null, 2)}\n`);
    expect(file.bytes).toBe(new TextEncoder().encode(fileText).length);
    expect(file.logs).toEqual(both.logs.map((l) => ({ origin: l.origin, entries: l.entries.length, checkpoints: l.checkpoints.length })));
    await expect.poll(() => progress.at(-1)).toEqual({ written: 10, total: 10 });
    expect((await a.client.naos.exportFile()).logs).toEqual([{ origin: a.kernel.origin, entries: 4, checkpoints: 3 }]);
    await expect(a.client.naos.exportFile(['naos/nobody'])).rejects.toMatchObject({ name: 'UnknownLogError' });
  });

  it('the Ledger panel exports the log shown and verifies an export file', async () => {
    const { a, b, root } = await ledgerPanelOnReplica([1, 2]);
    await expect.poll(() => text(root, '[data-testid="ledger-range"]')).toBe('Entries 0–1 of 2');
    root.querySelector<HTMLButtonElement>('[data-testid="export-log"]')!.click();
    await expect.poll(() => text(root, '[data-testid="export-result"]')).toMatch(/✓ naos-\w+-2\.json: 2 entries, [\d.]+ KB/);
    const pick = async (name: string, content: string) => {
      const input = root.querySelector<HTMLInputElement>('[data-testid="verify-file"]')!;
      const files = new DataTransfer();
      files.items.add(new File([content], name, { type: 'application/json' }));
      input.files = files.files;
      input.dispatchEvent(new Event('change'));
      await expect.poll(() => text(root, '[data-testid="export-report-file"]')).toContain(name);
    };
    const exported = await a.client.naos.export([b.kernel.origin]);
    await pick('good.json', JSON.stringify(exported));
    expect(text(root, '[data-testid="export-report-file"]')).toBe('good.json: every check passed');
    expect(text(root, '[data-testid="export-report"]')).not.toContain('✗');
    // The author's signed checkpoint with its size changed: its signature no longer verifies.
    const log = exported.logs[0]!;
    const checkpoints = log.checkpoints.map((c, k) =>
      k === log.checkpoints.length - 1 ? { ...c, note: c.note.replace(/\n2\n/, '\n3\n') } : c,
    );
    expect(checkpoints).not.toEqual(log.checkpoints);
    const forged = { ...exported, logs: [{ ...log, checkpoints }] };
    await pick('forged.json', JSON.stringify(forged));
    expect(text(root, '[data-testid="export-report-file"]')).toBe('forged.json: verification FAILED');
    expect(text(root, '[data-testid="export-report"]')).toContain('✗');
    await pick('notes.txt', 'not json at all');
    expect(text(root, '[data-testid="export-report"]')).toMatch(/✗ InvalidInputError: the export is not JSON/);
  });

  it('the Drift panel shows a drift event with its contenders and winner', async () => {
    const nodes = await federation(2);
    const [a, b] = nodes as [LocalNode, LocalNode];
    await a.service.partition('split');
    await a.service.set('limit', 1);
    await b.service.set('limit', 2);
    await a.service.partition(null);
    await expect.poll(() => converged(nodes), { timeout: 10_000 }).toBe(true);
    const panel = document.createElement('naos-drift-panel');
    panel.client = b.client;
    document.body.append(panel);
    const root = shadow(panel);
    await expect.poll(() => text(root, '[data-testid="drift-count"]')).toBe('1');
    const event = root.querySelector('[data-testid="drift-event"]')!;
    expect(event.getAttribute('data-key')).toBe('limit');
    expect(event.querySelectorAll('tbody tr')).toHaveLength(2);
    const winner = b.service.drift()[0]!.contenders.find((c) => c.id === b.service.drift()[0]!.winner)!;
    expect(event.querySelector('tr.winner')!.getAttribute('data-author')).toBe(winner.author);
    expect(text(root, '[data-testid="state"]')).toContain(JSON.stringify(winner.value));
  });
});
