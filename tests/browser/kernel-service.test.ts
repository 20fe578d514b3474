import { describe, expect, it, vi } from 'vitest';
import { seedSigner } from '../../src/crypto/ed25519.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { MemoryLedgerStore, type MemoryLog } from '../../src/storage/memory-store.js';
import { KernelService, MAX_ENTRIES_PER_CALL } from '../../workers/kernel-service.js';

const signer = seedSigner(new Uint8Array(32).fill(9));
const now = () => 1_700_000_000_000;

async function service(data = new Map<string, MemoryLog>(), slot = 3): Promise<KernelService> {
  return new KernelService(await Kernel.open({ store: new MemoryLedgerStore(data), signer, now }), slot);
}

describe('KernelService', () => {
  it('returns plain data only (every result survives structuredClone unchanged)', async () => {
    const api = await service();
    await api.appendMany([{ a: 1 }, 'b', [true, null]]);
    const results = [
      api.info(),
      api.nodeId(),
      api.stateRoot(),
      api.heads(),
      api.peers(),
      api.status(),
      api.checkpoint(),
      api.checkpoints(),
      await api.entries(0, 3),
      api.prove(1),
      api.consistency(1, 3),
      await api.append(4),
    ];
    for (const result of results) expect(structuredClone(result)).toEqual(result);
    expect(api.info()).toMatchObject({ slot: 3, nodeId: api.nodeId(), origin: `naos/${api.nodeId()}` });
  });

  it('posts each new head to a subscribed port, one way; offChange stops and closes it', async () => {
    const api = await service();
    const channel = new MessageChannel();
    const seen: number[] = [];
    channel.port1.onmessage = (event: MessageEvent<{ size: number }>) => seen.push(event.data.size);
    const id = api.changesTo(channel.port2);
    await api.append(1);
    await api.appendMany([2, 3]);
    await vi.waitFor(() => expect(seen).toEqual([1, 3]));
    expect(api.offChange(id)).toBe(true);
    expect(api.offChange(id)).toBe(false);
    await api.append(4);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seen).toEqual([1, 3]);
  });

  it('keeps appending when the subscribed page is gone (its port closed)', async () => {
    const api = await service();
    const channel = new MessageChannel();
    api.changesTo(channel.port2);
    channel.port1.close();
    await expect(api.append(1)).resolves.toMatchObject({ index: 0 });
  });

  it('checks inputs at the boundary with TypeError / RangeError', async () => {
    const api = await service();
    await api.append(0);
    await expect(api.entries('0' as unknown as number, 1)).rejects.toThrow(TypeError);
    await expect(api.entries(2, 1)).rejects.toThrow(RangeError);
    await expect(api.entries(0, MAX_ENTRIES_PER_CALL + 1)).rejects.toThrow(/at most/);
    await expect(api.appendMany('nope')).rejects.toThrow(/array/);
    expect(() => api.prove(-1)).toThrow(RangeError);
    expect(() => api.prove(0, 1.5)).toThrow(RangeError);
    expect(() => api.consistency(Number.NaN)).toThrow(RangeError);
    expect(() => api.changesTo({} as MessagePort)).toThrow(TypeError);
    expect(await api.entries(0, 99)).toHaveLength(1); // end is clamped to the log size
  });

  it('over a damaged ledger: comes up, reports it, refuses appends and reads of the damaged log', async () => {
    const data = new Map<string, MemoryLog>();
    const first = await service(data);
    await first.append({ n: 1 });
    await first.append({ n: 2 });
    const log = data.get(first.info().origin)!;
    log.entries[1] = log.entries[1]!.slice().fill(0, 0, 1);
    const api = await service(data);
    const status = api.status();
    expect(status.state).toBe('damaged');
    expect(status.damaged[0]!.problems.some((p) => p.where === 'entry 1')).toBe(true);
    expect(api.heads()).toEqual([]);
    await expect(api.append({ n: 3 })).rejects.toMatchObject({ name: 'LedgerIntegrityError' });
    expect(() => api.checkpoint()).toThrow(expect.objectContaining({ name: 'LedgerIntegrityError' }) as Error);
    expect(log.entries).toHaveLength(2);
  });
});
