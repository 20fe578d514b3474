import type { Equivocation } from '../ledger/equivocation.js';
import type { JsonValue } from '../ledger/json-value.js';
import type { IntegrityProblem } from '../ledger/integrity.js';

/**
 * The plain-data shapes the kernel API returns. They cross worker and process
 * boundaries (comlink structured clone, CLI JSON), so hashes are lower-case hex strings
 * and there are no class instances.
 */

/** The head of one log a node holds. */
export interface Head {
  readonly origin: string;
  readonly size: number;
  /** Merkle root at `size`, hex. */
  readonly root: string;
}

export interface AppendResult {
  readonly index: number;
  /** CIDv1 of the entry bytes. */
  readonly id: string;
}

export interface EntryView {
  readonly index: number;
  readonly id: string;
  readonly kind: string;
  readonly author: string;
  readonly time: { readonly wall: number; readonly count: number };
  readonly payload: JsonValue;
}

export interface InclusionProofView {
  readonly origin: string;
  readonly index: number;
  readonly size: number;
  readonly leafHash: string;
  readonly proof: string[];
  readonly root: string;
}

export interface ConsistencyProofView {
  readonly origin: string;
  readonly size1: number;
  readonly size2: number;
  readonly root1: string;
  readonly root2: string;
  readonly proof: string[];
}

export interface DamagedLog {
  readonly origin: string;
  readonly problems: readonly IntegrityProblem[];
  /**
   * Progress of its repair from peers (F6): entries of a verified copy fetched so far,
   * and how many it needs before it replaces the damaged records.
   */
  readonly repair?: { readonly have: number; readonly need: number };
}

/** A log found damaged on open and since replaced by a verified copy from peers. */
export interface RepairedLog {
  readonly origin: string;
  /** What was wrong with the stored records it replaced. */
  readonly problems: readonly IntegrityProblem[];
  /** Entries of the copy that replaced them. */
  readonly size: number;
}

/** Replica entries of a log verified and in use but not yet in the store (Kernel.unpersisted). */
export interface UnpersistedLog {
  readonly origin: string;
  readonly entries: number;
  /** Why the last write failed (it is retried with the next batch, or by writeReplicasNow). */
  readonly failure?: string;
}

export interface KernelStatus {
  /** `damaged` while any stored log that failed verification is not yet repaired. */
  readonly state: 'ok' | 'damaged';
  readonly nodeId: string;
  readonly damaged: readonly DamagedLog[];
  /** Logs repaired from peers since this kernel opened. */
  readonly repaired: readonly RepairedLog[];
  /**
   * Present while the own log holds fewer entries (`have`) than a peer proves this node
   * signed (`signed`): its storage was rolled back. Appends are refused until sync has
   * restored them.
   */
  readonly restoring?: { readonly have: number; readonly signed: number };
  /**
   * Present (true) while own appends wait, right after open, to hear from a peer first
   * (KernelOptions.awaitPeersUntil): a rollback of the node's storage shows there.
   */
  readonly awaitingPeers?: true;
  /**
   * Present while replica entries wait in memory for their store write (written about a
   * second after they arrive, or at once by writeReplicasNow), or after that write failed.
   */
  readonly unpersisted?: readonly UnpersistedLog[];
}

export interface AppendOptions {
  /** Entry kind; `data` unless given. */
  readonly kind?: string;
}

/** An author proven to have signed two histories of its log (F11). */
export interface FlaggedLog {
  /** The author's log, `naos/<node id>`. */
  readonly origin: string;
  /** The author's node id. */
  readonly author: string;
  /** Entries at or past this position are no longer accepted; what was held before is kept. */
  readonly forkSize: number;
  /** Hex SHA-256 of the canonical evidence record. */
  readonly evidenceId: string;
  /** What the proof shows, in words. */
  readonly detail: string;
  /** The proof itself: two signed checkpoints (and a consistency proof); verifyEquivocation checks it offline. */
  readonly evidence: Equivocation;
  /** Where a held ledger records the proof (entry kind `naos.equivocation`), once written or received. */
  readonly record?: { readonly origin: string; readonly index: number };
}
