import { afterEach, describe, expect, it } from 'vitest';
import { claimSlot, NoFreeSlotError, type SlotClaim, slotLockName } from '../../adapters/browser/slots.js';

// Locks are per origin and vitest runs browser test files in one origin: each test uses
// its own namespace. A lock held directly by the test stands in for another live tab.
let counter = 0;
const freshNamespace = () => `naos-test-slots-${Date.now()}-${counter++}`;

/** Holds a lock like another tab would, until the returned function is called. */
async function holdAsOtherTab(name: string): Promise<() => void> {
  let release!: () => void;
  await new Promise<void>((granted) => {
    void navigator.locks.request(name, () => {
      granted();
      return new Promise<void>((r) => (release = r));
    });
  });
  return release;
}

async function isHeld(name: string): Promise<boolean> {
  const state = await navigator.locks.query();
  return (state.held ?? []).some((lock) => lock.name === name);
}

async function isWaitedFor(name: string): Promise<boolean> {
  const state = await navigator.locks.query();
  return (state.pending ?? []).some((lock) => lock.name === name);
}

describe('identity slots (Web Locks)', () => {
  const claims: SlotClaim[] = [];
  const others: (() => void)[] = [];
  afterEach(() => {
    claims.splice(0).forEach((c) => c.release());
    others.splice(0).forEach((release) => release());
  });
  const keep = (claim: SlotClaim) => (claims.push(claim), claim);

  it('gives the lowest free slot and holds its lock until released', async () => {
    const namespace = freshNamespace();
    const first = keep(await claimSlot({ namespace }));
    const second = keep(await claimSlot({ namespace }));
    expect([first.slot, second.slot]).toEqual([0, 1]);
    expect(await isHeld(slotLockName(namespace, 0))).toBe(true);
    first.release();
    await expect.poll(() => isHeld(slotLockName(namespace, 0))).toBe(false);
    expect(keep(await claimSlot({ namespace })).slot).toBe(0);
  });

  it('skips slots held by other live tabs', async () => {
    const namespace = freshNamespace();
    others.push(await holdAsOtherTab(slotLockName(namespace, 0)));
    others.push(await holdAsOtherTab(slotLockName(namespace, 1)));
    expect(keep(await claimSlot({ namespace })).slot).toBe(2);
  });

  it('takes the preferred slot when it is free, even if a lower one is free too', async () => {
    const namespace = freshNamespace();
    expect(keep(await claimSlot({ namespace, preferred: 3 })).slot).toBe(3);
  });

  it('waits for the preferred slot while its old holder lets go (reload)', async () => {
    const namespace = freshNamespace();
    const lockName = slotLockName(namespace, 0);
    const releaseOld = await holdAsOtherTab(lockName);
    const claiming = claimSlot({ namespace, preferred: 0, preferredWaitMs: 30_000 });
    await expect.poll(() => isWaitedFor(lockName)).toBe(true);
    releaseOld();
    expect(keep(await claiming).slot).toBe(0);
  });

  it('does not steal a preferred slot a live tab keeps (duplicated tab): falls back to the lowest free', async () => {
    const namespace = freshNamespace();
    const lockName = slotLockName(namespace, 0);
    others.push(await holdAsOtherTab(lockName));
    const claim = keep(await claimSlot({ namespace, preferred: 0, preferredWaitMs: 50 }));
    expect(claim.slot).toBe(1);
    expect(await isHeld(lockName)).toBe(true);
  });

  it('ignores a preferred value that is not a slot number', async () => {
    const namespace = freshNamespace();
    expect(keep(await claimSlot({ namespace, preferred: -1 })).slot).toBe(0);
    expect(keep(await claimSlot({ namespace, preferred: 1.5 })).slot).toBe(1);
    expect(keep(await claimSlot({ namespace, preferred: Number.NaN })).slot).toBe(2);
  });

  it('fails with NoFreeSlotError when every slot is held', async () => {
    const namespace = freshNamespace();
    keep(await claimSlot({ namespace, maxSlots: 2 }));
    keep(await claimSlot({ namespace, maxSlots: 2 }));
    await expect(claimSlot({ namespace, maxSlots: 2 })).rejects.toThrow(NoFreeSlotError);
  });
});
