import type { Connection, PeerId, PeerInfo } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import { afterEach, describe, expect, it } from 'vitest';
import { DiscoveryDialer, type DiscoveryDialerComponents } from '../../adapters/libp2p/discovery-dialer.js';

/**
 * The discovery dialer (adapters/libp2p/discovery-dialer.ts) against fake libp2p
 * components and a hand-driven clock: who dials, which addresses, backoff after a failed
 * dial, and what happens when a link drops.
 */
const peer = (id: string): PeerId => ({ toString: () => id }) as unknown as PeerId;
const webrtc = (id: string) => multiaddr(`/ip4/127.0.0.1/tcp/4177/ws/p2p/relay/p2p-circuit/webrtc/p2p/${id}`);
const relayed = (id: string) => multiaddr(`/ip4/127.0.0.1/tcp/4177/ws/p2p/relay/p2p-circuit/p2p/${id}`);

class Harness {
  now = 1_000_000;
  readonly events = new EventTarget();
  readonly dials: string[] = [];
  readonly connected = new Set<string>();
  /** What the next dials do (default: connect). */
  outcome: 'connect' | 'fail' = 'connect';
  readonly dialer: DiscoveryDialer;

  constructor(self: string, skip: (id: string) => boolean = () => false, eager: (id: string) => boolean = () => false) {
    const components = {
      peerId: peer(self),
      connectionManager: {
        openConnection: async (addresses: unknown) => {
          const list = (Array.isArray(addresses) ? addresses : [addresses]) as { toString(): string }[];
          const target = list[0]!.toString().split('/p2p/').at(-1)!;
          this.dials.push(list.map(String).join(' '));
          await Promise.resolve();
          if (this.outcome === 'fail') throw new Error('dial failed');
          this.connected.add(target);
          return {} as Connection;
        },
        getConnections: (id?: PeerId) =>
          id !== undefined && this.connected.has(id.toString()) ? [{ status: 'open', limits: undefined } as unknown as Connection] : [],
      },
      events: this.events,
      logger: { forComponent: () => Object.assign(() => undefined, { error: () => undefined, trace: () => undefined, enabled: false }) },
    } as unknown as DiscoveryDialerComponents;
    this.dialer = new DiscoveryDialer(components, {
      now: () => this.now,
      random: () => 0.5,
      skip,
      eager,
      patienceMs: 6000,
      minDelayMs: 500,
    });
    this.dialer.start();
  }

  announce(id: string, addresses = [webrtc(id), relayed(id)]): void {
    this.events.dispatchEvent(new CustomEvent<PeerInfo>('peer:discovery', { detail: { id: peer(id), multiaddrs: addresses } }));
  }

  drop(id: string): void {
    this.connected.delete(id);
    this.events.dispatchEvent(new CustomEvent<PeerId>('peer:disconnect', { detail: peer(id) }));
  }

  /** Lets dials in progress finish. */
  async settle(): Promise<void> {
    for (let i = 0; i < 5; i++) await Promise.resolve();
  }
}

const harnesses: Harness[] = [];
afterEach(() => {
  for (const h of harnesses.splice(0)) h.dialer.stop();
});
function harness(self: string, skip?: (id: string) => boolean, eager?: (id: string) => boolean): Harness {
  const h = new Harness(self, skip, eager);
  harnesses.push(h);
  return h;
}

describe('DiscoveryDialer', () => {
  it('dials a discovered peer at once when its own id sorts first, and only its direct-capable (/webrtc) addresses', async () => {
    const h = harness('a-self');
    h.announce('b-peer');
    await h.settle();
    expect(h.dials).toEqual([webrtc('b-peer').toString()]);
    // Linked: announcements do not dial again.
    h.announce('b-peer');
    await h.settle();
    expect(h.dials).toHaveLength(1);
    expect(h.dialer.stats()).toMatchObject({ discovered: 1, attempts: 1, successes: 1, failures: 0 });
  });

  it('when its id sorts second, leaves the dial to the other side for the patience period, then dials itself', async () => {
    const h = harness('z-self');
    h.announce('b-peer');
    await h.settle();
    expect(h.dials).toEqual([]);
    h.now += 6000;
    h.announce('b-peer');
    await h.settle();
    expect(h.dials).toHaveLength(1);
  });

  it('dials a peer it was linked to before a restart at once, even when its own id sorts second (the peer may hold the dead connection)', async () => {
    const h = harness('z-self', undefined, (id) => id === 'b-linked-before');
    h.announce('b-linked-before');
    h.announce('c-new');
    await h.settle();
    expect(h.dials).toEqual([webrtc('b-linked-before').toString()]);
  });

  it('skips peers it is told to skip (sibling tabs), and peers offering no direct-capable address', async () => {
    const h = harness('a-self', (id) => id === 'b-sibling');
    h.announce('b-sibling');
    h.announce('c-relayed-only', [relayed('c-relayed-only')]);
    await h.settle();
    expect(h.dials).toEqual([]);
  });

  it('backs off after a failed dial, and dials again once the backoff has passed', async () => {
    const h = harness('a-self');
    h.outcome = 'fail';
    h.announce('b-peer');
    await h.settle();
    expect(h.dials).toHaveLength(1);
    h.announce('b-peer');
    await h.settle();
    expect(h.dials).toHaveLength(1);
    h.now += 1000;
    h.outcome = 'connect';
    h.announce('b-peer');
    await h.settle();
    expect(h.dials).toHaveLength(2);
    expect(h.dialer.stats()).toMatchObject({ attempts: 2, successes: 1, failures: 1 });
  });

  it('after a link drops, waits for the peer to announce itself again and then redials at once, with no backoff left over', async () => {
    const h = harness('a-self');
    h.announce('b-peer');
    await h.settle();
    h.drop('b-peer');
    // The peer is restarting: nothing is dialed while it is silent, so no backoff piles up.
    h.now += 5000;
    await new Promise((resolve) => setTimeout(resolve, 600)); // one sweep
    expect(h.dials).toHaveLength(1);
    h.announce('b-peer');
    await h.settle();
    expect(h.dials).toHaveLength(2);
    expect(h.connected.has('b-peer')).toBe(true);
  });

  it('after a link drops, the side whose id sorts second waits its turn again (one dial per pair)', async () => {
    const h = harness('z-self');
    h.announce('b-peer');
    h.now += 6000;
    h.announce('b-peer');
    await h.settle();
    expect(h.dials).toHaveLength(1);
    h.drop('b-peer');
    h.now += 100;
    h.announce('b-peer');
    await h.settle();
    expect(h.dials).toHaveLength(1);
    h.now += 6000;
    h.announce('b-peer');
    await h.settle();
    expect(h.dials).toHaveLength(2);
  });
});
