import { describe, expect, it, vi } from 'vitest';
import type { KernelRemote } from '../../workers/protocol.js';
import { createNaos } from '../../web/naos-api.js';
import { requestPersistence } from '../../web/storage.js';
import { deferred, localKernel } from './local-kernel.js';

describe('naos API (page side)', () => {
  it('lets calls made before the kernel is up wait for it', async () => {
    const local = await localKernel();
    const starting = deferred<KernelRemote>();
    const naos = createNaos(starting.promise);
    const appended = naos.append({ early: true });
    const id = naos.nodeId();
    starting.resolve(local.remote);
    await expect(appended).resolves.toMatchObject({ index: 0 });
    await expect(id).resolves.toBe(local.service.nodeId());
    await expect(naos.ready).resolves.toBeUndefined();
  });

  it('rejects every call with the start failure, while onChange still works locally', async () => {
    const failure = Object.assign(new Error('no slot'), { name: 'NoFreeSlotError' });
    const naos = createNaos(Promise.reject(failure));
    await expect(naos.ready).rejects.toBe(failure);
    await expect(naos.heads()).rejects.toBe(failure);
    await expect(naos.append(1)).rejects.toBe(failure);
    const unsubscribe = naos.onChange(() => undefined);
    expect(typeof unsubscribe).toBe('function');
    unsubscribe();
  });

  it("storage: whether the origin is persistent, and the browser's estimate of use and quota; asking for persistence agrees", async () => {
    const naos = createNaos(Promise.reject(new Error('no kernel needed')));
    naos.ready.catch(() => undefined);
    const before = await naos.storage();
    expect(before.persisted).toBe(await navigator.storage.persisted());
    expect(before.quota).toBeGreaterThan(0);
    expect(before.usage).toBeGreaterThanOrEqual(0);
    expect(before.usage).toBeLessThanOrEqual(before.quota!);
    const granted = await requestPersistence();
    expect(typeof granted).toBe('boolean');
    expect((await naos.storage()).persisted).toBe(granted);
  });

  it('refuses non-JSON values before they reach the kernel', async () => {
    const local = await localKernel();
    const naos = createNaos(Promise.resolve(local.remote));
    await naos.ready;
    local.calls.length = 0;
    for (const bad of [undefined, Number.NaN, () => 1, new Map(), { nested: [1n] }]) {
      await expect(naos.append(bad)).rejects.toMatchObject({ name: 'InvalidValueError' });
    }
    await expect(naos.appendMany([1, Symbol('x')])).rejects.toMatchObject({
      name: 'InvalidValueError',
      message: expect.stringContaining('$[1]') as unknown,
    });
    await expect(naos.appendMany({} as unknown[])).rejects.toMatchObject({ name: 'InvalidInputError' });
    expect(local.calls.filter((c) => c.startsWith('append'))).toEqual([]);
  });

  it('onChange: synchronous unsubscribe, every head delivered, a throwing callback does not starve the others', async () => {
    const local = await localKernel();
    const naos = createNaos(Promise.resolve(local.remote));
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const seen: number[] = [];
    const off = naos.onChange(() => {
      throw new Error('faulty subscriber');
    });
    naos.onChange((head) => seen.push(head.size));
    await naos.append('a');
    await naos.appendMany(['b', 'c']);
    await vi.waitFor(() => expect(seen).toEqual([1, 3]));
    expect(errors).toHaveBeenCalledTimes(2);
    off();
    await naos.append('d');
    await vi.waitFor(() => expect(seen).toEqual([1, 3, 4]));
    expect(errors).toHaveBeenCalledTimes(2);
    errors.mockRestore();
  });

  it('verifyInclusion runs the RFC 9162 verifier: valid, altered, and malformed proofs', async () => {
    const local = await localKernel();
    const naos = createNaos(Promise.resolve(local.remote));
    await naos.appendMany(Array.from({ length: 7 }, (_, i) => i));
    const proof = await naos.prove(3);
    expect(proof.proof).toHaveLength(3);
    await expect(naos.verifyInclusion(proof)).resolves.toEqual({ valid: true });
    const shortened = { ...proof, proof: proof.proof.slice(1) };
    await expect(naos.verifyInclusion(shortened)).resolves.toMatchObject({
      valid: false,
      reason: expect.stringContaining('fewer') as unknown,
    });
    const otherLeaf = { ...proof, leafHash: proof.proof[0]! };
    await expect(naos.verifyInclusion(otherLeaf)).resolves.toMatchObject({ valid: false });
    await expect(naos.verifyInclusion({ ...proof, size: 3 })).resolves.toMatchObject({
      valid: false,
      reason: expect.stringContaining('not below') as unknown,
    });
    await expect(naos.verifyInclusion({ ...proof, root: 'ZZ' })).rejects.toMatchObject({ name: 'InvalidInputError' });
    await expect(naos.verifyInclusion({ ...proof, proof: 'abc' })).rejects.toMatchObject({ name: 'InvalidInputError' });
    await expect(naos.verifyInclusion({ ...proof, index: -1 })).rejects.toMatchObject({ name: 'InvalidInputError' });
    await expect(naos.verifyInclusion(null)).rejects.toMatchObject({ name: 'InvalidInputError' });
    const consistency = await naos.consistency(3, 7);
    await expect(naos.verifyConsistency(consistency)).resolves.toEqual({ valid: true });
    await expect(naos.verifyConsistency({ ...consistency, size1: 4 })).resolves.toMatchObject({ valid: false });
  });
});
