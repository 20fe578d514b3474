import { NaosError } from '../../src/errors.js';

/**
 * Identity slots. A browser profile may run several Naos tabs at once; each needs its own
 * identity, and a reloaded tab should come back as the node it was. Identities therefore
 * live in numbered slots (slot N ↔ database `naos-node-N`), and a context owns a slot by
 * holding the exclusive Web Lock `naos-slot-N` for as long as it lives. The browser
 * releases a lock when its holder goes away (tab closed, reloaded or crashed), so a slot
 * can never stay stuck, and two live tabs can never hold the same one.
 *
 * A tab remembers its slot (the page keeps it in sessionStorage, which survives reloads
 * and is per tab) and asks for it first. On reload the old document's lock may still be
 * on its way out, so the remembered slot is waited for briefly. A duplicated tab inherits
 * the original's sessionStorage and so "remembers" a slot that a live tab holds: after
 * the wait it falls back to the lowest free slot. Locks are never stolen.
 */

export interface SlotClaim {
  readonly slot: number;
  /** The lock name held, e.g. `naos-slot-0`. */
  readonly lockName: string;
  /** Gives the slot up (normally never called: the lock lives as long as the context). */
  release(): void;
}

export interface ClaimOptions {
  /** Lock name prefix; `naos` → `naos-slot-N`. Distinct namespaces never share slots. */
  readonly namespace?: string;
  /** The slot this tab had before (from sessionStorage), tried first. */
  readonly preferred?: number;
  /** How long to wait for the preferred slot before falling back. */
  readonly preferredWaitMs?: number;
  /** Highest number of slots tried before giving up. */
  readonly maxSlots?: number;
  readonly locks?: LockManager;
}

/** Every slot up to the limit is held by a live context. */
export class NoFreeSlotError extends NaosError {}

export const DEFAULT_NAMESPACE = 'naos';
export const DEFAULT_PREFERRED_WAIT_MS = 2_000;
export const DEFAULT_MAX_SLOTS = 64;

export function slotLockName(namespace: string, slot: number): string {
  return `${namespace}-slot-${slot}`;
}

/** Whether a context other than the caller holds a slot of `namespace` (another tab of it is open). */
export async function otherSlotHeld(namespace: string, slot: number, locks: LockManager = navigator.locks): Promise<boolean> {
  const held = (await locks.query()).held ?? [];
  return held.some((lock) => lock.name !== slotLockName(namespace, slot) && isSlotLockOf(namespace, lock.name));
}

function isSlotLockOf(namespace: string, name: string | undefined): boolean {
  const prefix = `${namespace}-slot-`;
  return name !== undefined && name.startsWith(prefix) && /^\d{1,3}$/.test(name.slice(prefix.length));
}

export function isSlotNumber(value: unknown, maxSlots = DEFAULT_MAX_SLOTS): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) < maxSlots;
}

/** Claims a slot for the calling context: the preferred one if it frees up in time, else the lowest free. */
export async function claimSlot(options: ClaimOptions = {}): Promise<SlotClaim> {
  const namespace = options.namespace ?? DEFAULT_NAMESPACE;
  const maxSlots = options.maxSlots ?? DEFAULT_MAX_SLOTS;
  const locks = options.locks ?? navigator.locks;
  const preferred = options.preferred;
  if (preferred !== undefined && isSlotNumber(preferred, maxSlots)) {
    const signal = AbortSignal.timeout(options.preferredWaitMs ?? DEFAULT_PREFERRED_WAIT_MS);
    const claim = await holdLock(locks, namespace, preferred, { signal });
    if (claim) return claim;
  }
  for (let slot = 0; slot < maxSlots; slot++) {
    const claim = await holdLock(locks, namespace, slot, { ifAvailable: true });
    if (claim) return claim;
  }
  throw new NoFreeSlotError(`all ${maxSlots} identity slots of ${namespace} are held by other live tabs`);
}

/**
 * Requests the lock and, once granted, keeps it by leaving the request's callback
 * pending until release(). Resolves undefined if it was not available (ifAvailable) or
 * not granted before the signal fired.
 */
function holdLock(locks: LockManager, namespace: string, slot: number, options: LockOptions): Promise<SlotClaim | undefined> {
  const lockName = slotLockName(namespace, slot);
  return new Promise((resolve, reject) => {
    locks
      .request(lockName, options, (lock) => {
        if (!lock) {
          resolve(undefined);
          return undefined;
        }
        return new Promise<void>((release) => resolve({ slot, lockName, release: () => release() }));
      })
      .catch((error: unknown) => {
        if (error instanceof DOMException && (error.name === 'AbortError' || error.name === 'TimeoutError')) resolve(undefined);
        else reject(error instanceof Error ? error : new Error(String(error)));
      });
  });
}
