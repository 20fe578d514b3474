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
}

export interface KernelStatus {
  /** `damaged` when any stored log failed verification and was refused. */
  readonly state: 'ok' | 'damaged';
  readonly nodeId: string;
  readonly damaged: readonly DamagedLog[];
}

export interface AppendOptions {
  /** Entry kind; `data` unless given. */
  readonly kind?: string;
}
