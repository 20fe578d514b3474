import { describe, expect, it } from 'vitest';
import { createNaos } from '../../web/naos-api.js';
import { localKernel } from './local-kernel.js';

describe('naos API: the calls added with federation', () => {
  it('reaches the kernel for derived state, logs and any-log reads', async () => {
    const local = await localKernel();
    const naos = createNaos(Promise.resolve(local.remote));
    await naos.set('k', { v: 1 });
    await naos.append('plain');
    const origin = (await naos.info()).origin;
    expect(await naos.state()).toEqual([expect.objectContaining({ key: 'k', value: { v: 1 } })]);
    expect(await naos.drift()).toEqual([]);
    expect((await naos.timeline(1)).map((e) => e.payload)).toEqual(['plain']);
    expect((await naos.timeline()).length).toBe(2);
    expect(await naos.viewDigest()).toMatch(/^[0-9a-f]{64}$/);
    expect(await naos.logs()).toEqual([expect.objectContaining({ origin, size: 2 })]);
    expect((await naos.entries(1, 2, origin)).map((e) => e.payload)).toEqual(['plain']);
    expect(await naos.verifyInclusion(await naos.prove(0, 2, origin))).toEqual({ valid: true });
    expect(await naos.verifyConsistency(await naos.consistency(1, 2, origin))).toEqual({ valid: true });
    expect((await naos.checkpoints(origin)).map((c) => c.size)).toEqual([0, 1, 2]);
    expect([await naos.peers(), await naos.rejections(), await naos.forks(), await naos.manifest()]).toEqual([[], [], [], undefined]);
    expect(await naos.debug.partitionGroup()).toBeNull();
    await expect(naos.debug.partition('g')).rejects.toMatchObject({ name: 'InvalidInputError' });
  });

  it('refuses a non-JSON value for set before it reaches the kernel', async () => {
    const local = await localKernel();
    const naos = createNaos(Promise.resolve(local.remote));
    await naos.ready;
    local.calls.length = 0;
    await expect(naos.set('k', () => 1)).rejects.toMatchObject({ name: 'InvalidValueError' });
    await expect(naos.set('k', undefined)).rejects.toMatchObject({ name: 'InvalidValueError' });
    expect(local.calls).not.toContain('set');
  });
});
