import { asError, InvalidInputError } from '../src/errors.js';
import type { Kernel } from '../src/kernel/kernel.js';
import type { AppendResult, ConsistencyProofView, EntryView, Head, InclusionProofView, KernelStatus } from '../src/kernel/api.js';

/** Who this node is, beyond its id. */
export interface NodeInfo {
  readonly nodeId: string;
  /** Identity slot (database `<namespace>-node-<slot>`). */
  readonly slot: number;
  /** Origin line of the node's own log, `naos/<node id>`. */
  readonly origin: string;
  /** C2SP verifier key string of the node's log key. */
  readonly verifierKey: string;
}

/** A peer this node knows. Federation is not there yet, so there are none. */
export interface PeerView {
  readonly nodeId: string;
}

/** Most entries one entries() call returns; larger reads are paged by the caller. */
export const MAX_ENTRIES_PER_CALL = 10_000;

/**
 * The kernel API as the worker exposes it: plain data in and out (structured-clone
 * safe), inputs checked at the boundary, change events by subscription id rather than
 * by returned functions (which cannot cross postMessage). Independent of comlink and
 * of storage, so it is tested directly over any store.
 */
export class KernelService {
  readonly #kernel: Kernel;
  readonly #slot: number;
  readonly #subscriptions = new Map<number, () => void>();
  #nextSubscription = 1;

  constructor(kernel: Kernel, slot: number) {
    this.#kernel = kernel;
    this.#slot = slot;
  }

  info(): NodeInfo {
    const kernel = this.#kernel;
    return { nodeId: kernel.nodeId, slot: this.#slot, origin: kernel.origin, verifierKey: kernel.verifierKey };
  }

  nodeId(): string {
    return this.#kernel.nodeId;
  }

  append(value: unknown): Promise<AppendResult> {
    return this.#kernel.append(value);
  }

  /** Appends values as one all-or-nothing batch. */
  appendMany(values: unknown): Promise<AppendResult[]> {
    if (!Array.isArray(values)) return Promise.reject(new InvalidInputError('appendMany takes an array of JSON values'));
    return this.#kernel.appendMany(values);
  }

  stateRoot(): string {
    return this.#kernel.stateRoot();
  }

  heads(): Head[] {
    return this.#kernel.heads();
  }

  peers(): PeerView[] {
    return [];
  }

  status(): KernelStatus {
    return this.#kernel.status();
  }

  /** The node's latest signed checkpoint note. Throws LedgerIntegrityError if its log is damaged. */
  checkpoint(): string {
    return this.#kernel.checkpoint();
  }

  checkpoints(): { size: number; note: string }[] {
    return this.#kernel.checkpoints();
  }

  /** Entries [start, end) of the node's own log (end is clamped to the log size). */
  entries(start: number, end: number): Promise<EntryView[]> {
    try {
      assertCount(start, 'start');
      assertCount(end, 'end');
      if (end < start) throw new RangeError(`end ${end} is before start ${start}`);
      if (end - start > MAX_ENTRIES_PER_CALL) {
        throw new RangeError(`at most ${MAX_ENTRIES_PER_CALL} entries per call, asked for ${start}..${end}`);
      }
      return this.#kernel.entries(start, end);
    } catch (error) {
      return Promise.reject(asError(error));
    }
  }

  /** Inclusion proof of entry `index` in the tree of `size` (default: the whole log). */
  prove(index: number, size?: number): InclusionProofView {
    assertCount(index, 'index');
    if (size !== undefined) assertCount(size, 'size');
    return this.#kernel.proveInclusion(index, size);
  }

  /** Consistency proof between the trees of `size1` and `size2` (default: the whole log). */
  consistency(size1: number, size2?: number): ConsistencyProofView {
    assertCount(size1, 'size1');
    if (size2 !== undefined) assertCount(size2, 'size2');
    return this.#kernel.proveConsistency(size1, size2);
  }

  /** Calls `listener` with each new head; returns an id for offChange. */
  onChange(listener: (head: Head) => unknown): number {
    if (typeof listener !== 'function') throw new TypeError('onChange takes a function');
    const id = this.#nextSubscription++;
    this.#subscriptions.set(
      id,
      this.#kernel.onChange((head) => {
        // A listener in another context answers asynchronously; its failure is its own.
        void Promise.resolve(listener(head)).catch(() => undefined);
      }),
    );
    return id;
  }

  /** Ends a subscription; false if there was none with this id. */
  offChange(id: number): boolean {
    const unsubscribe = this.#subscriptions.get(id);
    if (!unsubscribe) return false;
    unsubscribe();
    return this.#subscriptions.delete(id);
  }
}

function assertCount(value: unknown, what: string): asserts value is number {
  if (typeof value !== 'number') throw new TypeError(`${what} must be a number, got ${typeof value}`);
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${what} must be a non-negative integer, got ${value}`);
}
