import { afterEach, describe, expect, it } from 'vitest';
import type { Transport } from '../../src/federation/transport.js';

/**
 * The acceptance suite every Transport adapter passes (memory in Node, BroadcastChannel
 * in Chromium, libp2p). A harness makes `count` connected transports for distinct node
 * ids and tears them down.
 */
export interface TransportHarness {
  /**
   * Connected transports for these node ids. A transport whose node id is proven rather
   * than chosen (libp2p: the hash of its key) ignores them and says its own as `nodeId`.
   */
  connect(nodeIds: readonly string[]): Promise<(Transport & { readonly nodeId?: string | undefined })[]>;
  /** Whether `send(bytes, to)` reaches only `to` (false: it may reach everyone, like BroadcastChannel). */
  readonly addressed: boolean;
  /** Releases what connect() set up besides the transports (e.g. libp2p nodes). */
  teardown?(): Promise<void>;
}

const ids = ['aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', 'cccccccccccccccccccccccccccccccc'];

function collect(transport: Transport): { got: string[]; links: string[] } {
  const got: string[] = [];
  const links: string[] = [];
  transport.onMessage((bytes, link) => {
    got.push(new TextDecoder().decode(bytes));
    links.push(link);
  });
  return { got, links };
}

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function transportContract(adapter: string, makeHarness: () => TransportHarness): void {
  describe(`Transport contract: ${adapter}`, () => {
    let open: (Transport & { readonly nodeId?: string | undefined })[] = [];
    let harness: TransportHarness | undefined;
    afterEach(async () => {
      await Promise.all(open.map((t) => t.close()));
      await harness?.teardown?.();
      open = [];
      harness = undefined;
    });

    async function connect(n: number): Promise<Transport[]> {
      harness = makeHarness();
      open = await harness.connect(ids.slice(0, n));
      return open;
    }

    /** The id to address transport `i` by. */
    const idOf = (i: number): string => open[i]?.nodeId ?? ids[i]!;

    it('a broadcast reaches every other transport, not the sender', async () => {
      const [a, b, c] = await connect(3);
      const [ra, rb, rc] = [collect(a!), collect(b!), collect(c!)];
      a!.send(new TextEncoder().encode('hello'));
      await until(() => rb.got.length === 1 && rc.got.length === 1, 'broadcast delivery');
      expect(rb.got).toEqual(['hello']);
      expect(rc.got).toEqual(['hello']);
      expect(ra.got).toEqual([]);
      expect(rb.links[0]).toBeTypeOf('string');
    });

    it('keeps the order of one sender’s messages and their exact bytes', async () => {
      const [a, b] = await connect(2);
      const rb = collect(b!);
      const all = Array.from({ length: 50 }, (_, i) => `m${i}:${'x'.repeat(i * 100)}`);
      for (const m of all) a!.send(new TextEncoder().encode(m));
      await until(() => rb.got.length === all.length, 'all messages');
      expect(rb.got).toEqual(all);
    });

    it('an addressed send reaches its node', async () => {
      const [a, b, c] = await connect(3);
      const [rb, rc] = [collect(b!), collect(c!)];
      a!.send(new TextEncoder().encode('for b'), idOf(1));
      await until(() => rb.got.length === 1, 'addressed delivery');
      if (makeHarness().addressed) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(rc.got).toEqual([]);
      }
    });

    it('sending to an unknown node or after close never throws', async () => {
      const [a, b] = await connect(2);
      expect(() => a!.send(new Uint8Array([1]), 'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz')).not.toThrow();
      await b!.close();
      expect(() => a!.send(new Uint8Array([2]))).not.toThrow();
      await a!.close();
      expect(() => a!.send(new Uint8Array([3]))).not.toThrow();
    });

    it('unsubscribed handlers and closed transports receive nothing', async () => {
      const [a, b, c] = await connect(3);
      const got: number[] = [];
      const off = b!.onMessage(() => got.push(1));
      const rc = collect(c!);
      off();
      a!.send(new Uint8Array([1]));
      await until(() => rc.got.length === 1, 'delivery to c');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(got).toEqual([]);
    });
  });
}
