import { afterEach, describe, expect, it } from 'vitest';
import { seedSigner } from '../../src/crypto/ed25519.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { type AppendBatch, StoreUnavailableError } from '../../src/storage/ledger-store.js';
import { MemoryLedgerStore } from '../../src/storage/memory-store.js';
import type { LoadProgress } from '../../workers/protocol.js';
import type { KernelRemote } from '../../workers/protocol.js';
import '../../web/components/node-panel.js';
import type { NodePanel } from '../../web/components/node-panel.js';
import { KernelClient } from '../../web/kernel-client.js';
import { buildManifest } from '../../workers/manifest.js';
import { deferred, type LocalKernel, localKernel } from './local-kernel.js';

/** Mounts a Node panel over a kernel whose start the test controls. */
function mount(options: ConstructorParameters<typeof KernelClient>[1] = {}) {
  const starting = deferred<KernelRemote>();
  let progress!: (p: LoadProgress) => void;
  const client = new KernelClient((onProgress) => {
    progress = onProgress;
    return starting.promise;
  }, options);
  const panel = document.createElement('naos-node-panel');
  panel.client = client;
  document.body.append(panel);
  const q = (selector: string) => panel.shadowRoot!.querySelector(selector);
  /** Text of a test id, whitespace collapsed as a reader sees it. */
  const text = (testId: string) => (q(`[data-testid="${testId}"]`)?.textContent ?? '').replace(/\s+/g, ' ').trim();
  return { panel, client, starting, progress: (p: LoadProgress) => progress(p), q, text };
}

function submit(panel: NodePanel, formIndex: number): void {
  panel.shadowRoot!.querySelectorAll('form')[formIndex]!.requestSubmit();
}

function type(element: Element | null, value: string): void {
  const field = element as HTMLInputElement | HTMLTextAreaElement;
  field.value = value;
  field.dispatchEvent(new Event('input'));
}

describe('<naos-node-panel>', () => {
  afterEach(() => document.body.replaceChildren());

  it('shows boot progress while stored logs are verified, then the node', async () => {
    const ui = mount();
    await ui.panel.updateComplete;
    expect(ui.text('booting')).toContain('Starting the kernel');
    ui.progress({ origin: 'naos/x', verified: 4096, total: 10_000 });
    await expect.poll(() => ui.q('progress')?.getAttribute('value')).toBe('4096');
    expect(ui.q('progress')?.getAttribute('max')).toBe('10000');
    expect(ui.text('booting')).toMatch(/4,096 of 10,000 entries/);
    const local = await localKernel();
    ui.starting.resolve(local.remote);
    await expect.poll(() => ui.text('node-id')).toBe(local.service.nodeId());
    expect(ui.text('log-size')).toBe('0');
    // How durable the storage is, as the browser says, with its estimate in units a reader knows.
    const kind = (await navigator.storage.persisted()) ? 'persistent: ' : 'best-effort: ';
    expect(ui.text('storage').startsWith(kind)).toBe(true);
    expect(ui.text('storage')).toMatch(/; \d+(\.\d)? (B|KB|MB|GB|TB) used of \d+(\.\d)? (B|KB|MB|GB|TB)$/);
    expect(ui.q('[data-testid="checkpoint"]')?.textContent).toContain(`${local.service.info().origin}\n0\n`);
  });

  it('reads the manifest again once the page network has started (attaching it adds sync/libp2p)', async () => {
    const network = deferred<undefined>();
    const ui = mount({ network: () => network.promise });
    const local = await localKernel();
    let capabilities = ['ledger', 'sync/broadcast-channel'];
    const manifest = () => Promise.resolve({ ...buildManifest({}, 0), capabilities });
    ui.starting.resolve(
      new Proxy(local.remote, { get: (target, name): unknown => (name === 'manifest' ? manifest : Reflect.get(target, name)) }),
    );
    await expect.poll(() => ui.text('capabilities')).toBe('ledger, sync/broadcast-channel');
    capabilities = [...capabilities, 'sync/libp2p'];
    // Nothing else changes (no head moves): the network starting alone brings the new manifest.
    network.resolve(undefined);
    await expect.poll(() => ui.text('capabilities')).toBe('ledger, sync/broadcast-channel, sync/libp2p');
  });

  it('says so when the kernel cannot start', async () => {
    const ui = mount();
    ui.starting.reject(Object.assign(new Error('every slot is taken'), { name: 'NoFreeSlotError' }));
    await expect.poll(() => ui.text('boot-failed')).toContain('NoFreeSlotError: every slot is taken');
  });

  it('appends valid JSON, refuses invalid JSON without calling the kernel', async () => {
    const ui = mount();
    const local: LocalKernel = await localKernel();
    ui.starting.resolve(local.remote);
    await expect.poll(() => ui.text('log-size')).toBe('0');
    type(ui.q('#append-value'), '{"a": [1, 2]}');
    submit(ui.panel, 0);
    await expect.poll(() => ui.text('append-message')).toMatch(/^Appended entry #0/);
    await expect.poll(() => ui.text('log-size')).toBe('1');
    local.calls.length = 0;
    type(ui.q('#append-value'), '{a: 1}');
    submit(ui.panel, 0);
    await expect.poll(() => ui.text('append-message')).toMatch(/^Not valid JSON, nothing appended/);
    expect(ui.q('#append-value')?.getAttribute('aria-invalid')).toBe('true');
    expect(local.calls).not.toContain('append');
    expect(local.service.heads()[0]!.size).toBe(1);
  });

  it('reads the own log again only when its head moved: another log arriving updates the state root alone', async () => {
    const ui = mount();
    const local = await localKernel();
    ui.starting.resolve(local.remote);
    await expect.poll(() => ui.text('log-size')).toBe('0');
    await local.kernel.append({ mine: 1 });
    await expect.poll(() => ui.text('log-size')).toBe('1');
    const entries = () => ui.panel.shadowRoot!.querySelector('tbody')?.textContent?.replace(/\s+/g, ' ') ?? '';
    expect(entries()).toContain('{"mine":1}');
    const root = ui.text('state-root');
    local.calls.length = 0;

    const other = await Kernel.open({ store: new MemoryLedgerStore(), signer: seedSigner(new Uint8Array(32).fill(9)), now: () => 1 });
    await other.append({ theirs: 1 });
    await local.kernel.applyBatch((await other.readBatch(other.origin, 0, 1 << 20))!);
    await expect.poll(() => ui.text('state-root')).not.toBe(root);
    expect(local.calls).toContain('stateRoot');
    expect(local.calls).not.toContain('entries');
    expect(local.calls).not.toContain('checkpoint');
    expect(entries()).toContain('{"mine":1}');

    await local.kernel.append({ mine: 2 });
    await expect.poll(() => ui.text('log-size')).toBe('2');
    await expect.poll(entries).toContain('{"mine":2}');
    expect(local.calls).toContain('entries');
    expect(ui.q('[data-testid="checkpoint"]')?.textContent).toContain(`${local.service.info().origin}\n2\n`);
    await other.close();
  });

  it('stays as it was while the page is hidden and catches up when it is shown', async () => {
    const ui = mount();
    const local = await localKernel();
    ui.starting.resolve(local.remote);
    await expect.poll(() => ui.text('log-size')).toBe('0');
    const show = (state: 'visible' | 'hidden') => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state });
      document.dispatchEvent(new Event('visibilitychange'));
    };
    try {
      show('hidden');
      local.calls.length = 0;
      await local.kernel.append({ while: 'hidden' });
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(ui.text('log-size')).toBe('0');
      expect(local.calls).toEqual([]);
      show('visible');
      await expect.poll(() => ui.text('log-size')).toBe('1');
    } finally {
      delete (document as { visibilityState?: unknown }).visibilityState;
    }
  });

  it('proves and verifies an entry, and shows ✗ for an edited proof', async () => {
    const ui = mount();
    const local = await localKernel();
    await local.service.appendMany(['a', 'b', 'c']);
    ui.starting.resolve(local.remote);
    await expect.poll(() => ui.text('log-size')).toBe('3');
    type(ui.q('#prove-index'), '2');
    submit(ui.panel, 1);
    await expect.poll(() => ui.text('verdict')).toContain('✓ Entry 2 is included in the tree of size 3');
    expect(ui.text('verdict')).toContain('✓ That root is the one this node signed');
    const proof = JSON.parse((ui.q('#proof') as HTMLTextAreaElement).value) as { root: string };
    type(ui.q('#proof'), JSON.stringify({ ...proof, index: 1 }));
    submit(ui.panel, 2);
    await expect.poll(() => ui.text('verdict')).toContain('✗ Verification failed');
    type(ui.q('#proof'), '{not json');
    submit(ui.panel, 2);
    await expect.poll(() => ui.text('verdict')).toContain('✗ The proof is not valid JSON');
  });

  it('says when replicated entries could not be written, and not while they merely wait for their write', async () => {
    const [full, slow] = [await localKernel(undefined, 6), await localKernel(undefined, 7)];
    const [fullOrigin, slowOrigin] = [full.service.info().origin, slow.service.info().origin];
    // A store that refuses one log's writes, like a browser over its quota, and holds another's back.
    const held = deferred<undefined>();
    class Store extends MemoryLedgerStore {
      override async append(batch: AppendBatch): Promise<void> {
        if (batch.origin === fullOrigin) throw new StoreUnavailableError('QuotaExceededError: the quota has been exceeded');
        if (batch.origin === slowOrigin) await held.promise;
        return super.append(batch);
      }
    }
    const local = await localKernel(undefined, 5, new Store());
    const ui = mount();
    ui.starting.resolve(local.remote);
    await expect.poll(() => ui.text('node-id')).toBe(local.service.nodeId());
    const replicate = async (from: LocalKernel, origin: string) => {
      await from.service.append('one');
      await from.service.append('two');
      await local.kernel.applyBatch((await from.kernel.readBatch(origin, 0, 1 << 20))!);
    };

    await replicate(slow, slowOrigin);
    expect(local.service.status().unpersisted).toEqual([{ origin: slowOrigin, entries: 2 }]);
    await local.service.append('a change: the panel reads the status again');
    await expect.poll(() => ui.text('log-size')).toBe('1');
    expect(ui.q('[data-testid="unwritten-alert"]')).toBeNull();

    await replicate(full, fullOrigin);
    await expect
      .poll(() => ui.text('unwritten-alert'))
      .toContain(`${fullOrigin}: 2 entries — QuotaExceededError: the quota has been exceeded`);
    expect(ui.text('unwritten-alert')).not.toContain(slowOrigin);
    expect(ui.q('[data-testid="unwritten-alert"]')!.getAttribute('role')).toBe('alert');
    // The entries are in use all the same.
    expect((await local.service.entries(0, 2, fullOrigin)).map((e) => e.payload)).toEqual(['one', 'two']);
    held.resolve(undefined);
  });

  it('shows a damaged ledger prominently, with every problem, and disables appends', async () => {
    const first = await localKernel();
    await first.service.append('x');
    await first.service.append('y');
    const origin = first.service.info().origin;
    const log = first.data.get(origin)!;
    log.checkpoints[2] = { ...log.checkpoints[2]!, note: log.checkpoints[2]!.note.replace('\n2\n', '\n3\n') };
    log.entries[0] = new Uint8Array([1, 2, 3]);
    const damaged = await localKernel(first.data);
    const ui = mount();
    ui.starting.resolve(damaged.remote);
    await expect.poll(() => ui.text('damage-alert')).toContain('Ledger damaged');
    const alert = ui.q('[data-testid="damage-alert"]')!;
    expect(alert.getAttribute('role')).toBe('alert');
    expect(alert.textContent).toContain(origin);
    expect(alert.textContent).toContain('entry 0');
    expect(alert.textContent).toContain('checkpoint 2');
    expect(ui.text('state')).toBe('damaged');
    const append = [...ui.panel.shadowRoot!.querySelectorAll('button')].find((b) => b.textContent?.trim() === 'Append')!;
    expect(append.disabled).toBe(true);
  });
});
