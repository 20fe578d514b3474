import { afterEach, describe, expect, it } from 'vitest';
import { type BridgedTransport, PortBridge, PortTransport, type RemoteLink } from '../../adapters/libp2p/port-transport.js';
import type { Manifest } from '../../src/federation/messages.js';

/**
 * The libp2p bridge between page and worker (adapters/libp2p/port-transport.ts) over a
 * real MessageChannel: frames both ways with their link and address, link reports, a new
 * libp2p node swapped in, and garbage on the port counted, never thrown.
 */
const MANIFEST: Manifest = {
  region: 'r',
  shard: 'r-0',
  types: ['pod-host'],
  capabilities: [],
  trust: 'verified',
  started: 0,
  software: 't',
};

class FakeLibp2p implements BridgedTransport {
  readonly sent: { bytes: number[]; to: string | undefined }[] = [];
  #handlers = new Set<(bytes: Uint8Array, link: string) => void>();
  #listeners = new Set<(peers: readonly RemoteLink[]) => void>();
  links: RemoteLink[] = [];
  send(bytes: Uint8Array, to?: string): void {
    this.sent.push({ bytes: [...bytes], to });
  }
  onMessage(handler: (bytes: Uint8Array, link: string) => void): () => void {
    this.#handlers.add(handler);
    return () => void this.#handlers.delete(handler);
  }
  peers(): readonly RemoteLink[] {
    return this.links;
  }
  onPeersChange(listener: (peers: readonly RemoteLink[]) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }
  deliver(bytes: Uint8Array, link: string): void {
    for (const handler of this.#handlers) handler(bytes, link);
  }
  relink(links: RemoteLink[]): void {
    this.links = links;
    for (const listener of this.#listeners) listener(links);
  }
  get subscribers(): number {
    return this.#handlers.size + this.#listeners.size;
  }
}

const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

function pair(): { worker: PortTransport; page: PortBridge; raw: MessagePort } {
  const channel = new MessageChannel();
  const worker = new PortTransport(channel.port2);
  const page = new PortBridge(channel.port1);
  closers.push(
    () => worker.close(),
    () => page.close(),
  );
  return { worker, page, raw: channel.port1 };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(condition()).toBe(true);
}

const link = (peerId: string, direct = true): RemoteLink => ({
  peerId,
  nodeId: `node-of-${peerId}`,
  manifest: MANIFEST,
  trust: 'experimental',
  since: 1,
  direct,
});

describe('PortTransport ⇄ PortBridge', () => {
  it('carries frames page → worker with their link, and sends worker → page with their address', async () => {
    const { worker, page } = pair();
    const libp2p = new FakeLibp2p();
    libp2p.links = [link('b')];
    page.use(libp2p);
    await until(() => worker.links().length === 1);
    const got: [number[], string][] = [];
    worker.onMessage((bytes, from) => got.push([[...bytes], from]));
    const big = new Uint8Array(1024).fill(7);
    libp2p.deliver(big.subarray(10, 13), 'peer-a');
    worker.send(new Uint8Array([1, 2, 3]), 'node-of-b');
    // Addressed to a node libp2p does not link (a sibling tab): not passed to the page.
    worker.send(new Uint8Array([5]), 'node-of-a-sibling-tab');
    worker.send(new Uint8Array([4]));
    await until(() => got.length === 1 && libp2p.sent.length === 2);
    expect(got).toEqual([[[7, 7, 7], 'peer-a']]);
    expect(libp2p.sent).toEqual([
      { bytes: [1, 2, 3], to: 'node-of-b' },
      { bytes: [4], to: undefined },
    ]);
    expect(worker.stats()).toMatchObject({ framesIn: 1, framesOut: 2, malformed: 0, unlinked: 1 });
  });

  it('reports links (granting experimental trust whatever the page says), and forgets them when the node goes', async () => {
    const { worker, page } = pair();
    const libp2p = new FakeLibp2p();
    libp2p.links = [link('p1')];
    const reports: number[] = [];
    worker.onLinksChange((links) => reports.push(links.length));
    page.use(libp2p);
    await until(() => worker.links().length === 1);
    libp2p.relink([link('p1'), { ...link('p2', false), trust: 'verified' }]);
    await until(() => worker.links().length === 2);
    expect(worker.links()[1]).toMatchObject({ peerId: 'p2', direct: false, trust: 'experimental' });

    // A new libp2p node (the page restarted its network): the old one is let go.
    const next = new FakeLibp2p();
    page.use(next);
    expect(libp2p.subscribers).toBe(0);
    await until(() => worker.links().length === 0);
    worker.send(new Uint8Array([9]));
    await until(() => next.sent.length === 1);
    expect(libp2p.sent).toEqual([]);
    page.use(undefined);
    expect(reports.at(-1)).toBe(0);
  });

  it('counts anything else on the port as malformed and delivers nothing', async () => {
    const { worker, raw } = pair();
    const got: unknown[] = [];
    worker.onMessage((bytes) => got.push(bytes));
    for (const garbage of [
      null,
      'text',
      { t: 'frame', bytes: 'not bytes', link: 'x' },
      { t: 'frame', bytes: new Uint8Array(1), link: 7 },
      { t: 'frame', bytes: new Uint8Array(4 * 1024 * 1024 + 1), link: 'x' },
      { t: 'links', links: 'nope' },
      { t: 'links', links: [{ peerId: '', nodeId: 'n', since: 1, direct: true, manifest: {} }] },
      { t: 'unknown' },
    ]) {
      raw.postMessage(garbage);
    }
    await until(() => worker.stats().malformed === 8);
    expect(got).toEqual([]);
    expect(worker.links()).toEqual([]);
  });

  it('sends nothing and throws nothing once closed', async () => {
    const { worker, page } = pair();
    const libp2p = new FakeLibp2p();
    page.use(libp2p);
    await worker.close();
    worker.send(new Uint8Array([1]));
    page.close();
    page.use(libp2p);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(libp2p.sent).toEqual([]);
    expect(libp2p.subscribers).toBe(0);
  });
});

describe('PortBridge link reports', () => {
  it('leaves out links without a sync stream (they cannot carry sync yet)', async () => {
    const { worker, page } = pair();
    const libp2p = new FakeLibp2p();
    page.use(libp2p);
    libp2p.relink([{ ...link('p1'), streams: 0 } as RemoteLink, { ...link('p2'), streams: 1 } as RemoteLink]);
    await until(() => worker.links().length === 1);
    expect(worker.links()[0]!.peerId).toBe('p2');
  });
});
