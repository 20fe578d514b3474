import { describe, expect, it } from 'vitest';
import { seedSigner } from '../../src/crypto/ed25519.js';
import { decodeEnvelope } from '../../src/federation/messages.js';
import { SyncEngine } from '../../src/federation/sync-engine.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { MemoryLedgerStore } from '../../src/storage/memory-store.js';

/**
 * Pulls run one batch ahead: when a batch arrives, the next is asked for before this one
 * is checked and stored, so the peer reads and sends batch i+1 while we apply batch i.
 */
const MANIFEST = { region: 't', shard: 't', types: [], capabilities: [], trust: 'experimental', started: 0, software: 't' } as const;

type Outbox = { bytes: Uint8Array; to: string | undefined }[];

async function kernel(seed: number): Promise<Kernel> {
  return Kernel.open({ store: new MemoryLedgerStore(), signer: seedSigner(new Uint8Array(32).fill(seed)), now: () => 0 });
}

function engine(host: Kernel, seed: number, send: (bytes: Uint8Array, to?: string) => void): SyncEngine {
  return new SyncEngine({
    host,
    signer: seedSigner(new Uint8Array(32).fill(seed)),
    manifest: MANIFEST,
    now: () => 0,
    randomBytes: (n) => new Uint8Array(n).fill(seed),
    send,
    // Tiny: every checkpoint interval becomes a batch of its own.
    batchBudgetBytes: 64,
  });
}

describe('pipelined pulls', () => {
  it('asks for the next batch before applying the one that came, and ends up with the whole log', async () => {
    const a = await kernel(1);
    for (let i = 0; i < 5; i++) await a.appendMany(Array.from({ length: 20 }, (_, j) => ({ i, j })));
    const b = await kernel(2);
    // One timeline of what b does: entry requests sent, batches applied.
    const events: string[] = [];
    const recorded = new Proxy(b, {
      get(target, property) {
        if (property === 'applyBatch') {
          return async (...args: Parameters<Kernel['applyBatch']>) => {
            const outcome = await target.applyBatch(...args);
            events.push(`applied ${args[0].start}`);
            return outcome;
          };
        }
        const value: unknown = Reflect.get(target, property);
        return typeof value === 'function' ? (value as (...rest: unknown[]) => unknown).bind(target) : value;
      },
    });
    const toA: Outbox = [];
    const toB: Outbox = [];
    const ea = engine(a, 1, (bytes, to) => toB.push({ bytes, to }));
    const eb = engine(recorded, 2, (bytes, to) => {
      const body = decodeEnvelope(bytes).body;
      if (body.type === 'REQUEST' && body.want === 'entries') events.push(`asked ${body.start}`);
      toA.push({ bytes, to });
    });
    await ea.start();
    await eb.start();
    toA.length = 0;
    toB.length = 0;
    await eb.greet(a.nodeId);
    for (let round = 0; round < 100 && (toA.length > 0 || toB.length > 0); round++) {
      for (const { bytes } of toA.splice(0)) await ea.receive(bytes, 'b');
      await ea.settled();
      for (const { bytes } of toB.splice(0)) await eb.receive(bytes, 'a');
      await eb.settled();
    }
    expect(b.stateRoot()).toBe(a.stateRoot());
    expect(events).toEqual([
      'asked 0',
      'asked 20',
      'applied 0',
      'asked 40',
      'applied 20',
      'asked 60',
      'applied 40',
      'asked 80',
      'applied 60',
      'applied 80',
    ]);
    expect(eb.traffic()).toMatchObject({ entriesIn: 100, entriesDuplicate: 0 });
  });
});
