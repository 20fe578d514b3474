import * as Comlink from 'comlink';
import { fromHex } from '../src/bytes.js';
import { asError, InvalidInputError } from '../src/errors.js';
import type { AppendResult, ConsistencyProofView, EntryView, Head, InclusionProofView, KernelStatus } from '../src/kernel/api.js';
import { type ExportReport, type LedgerExport, verifyExport } from '../src/ledger/export.js';
import { assertJsonValue } from '../src/ledger/json-value.js';
import { ProofVerificationError } from '../src/merkle/errors.js';
import { verifyConsistency, verifyInclusion } from '../src/merkle/verify.js';
import type { NetworkStatus } from '../network/browser-network.js';
import type {
  DriftEvent,
  ExportFile,
  ExportProgress,
  FlaggedLog,
  ForkEvidence,
  KeyValue,
  LogAdvert,
  Manifest,
  NodeInfo,
  PeerView,
  RejectionView,
  TrafficStats,
  ViewEntry,
} from '../workers/kernel-service.js';
import type { AgentsRemote, KernelRemote } from '../workers/protocol.js';
import { createNaosAgents, type NaosAgentsApi } from './naos-agents.js';
import { type StorageStatus, storageStatus } from './storage.js';

export type { FlaggedLog, NetworkStatus };

/** The page's libp2p network as the naos API uses it (network/browser-network.ts). */
export interface NetworkHandle {
  status(): NetworkStatus;
  setEnabled(enabled: boolean): Promise<void>;
}

/** What network() reports when the page runs no libp2p node (`?libp2p=off`, or a test page). */
const NO_NETWORK: NetworkStatus = {
  state: 'off',
  reason: 'this page runs no libp2p node',
  multiaddrs: [],
  relays: [],
  reserved: false,
  connections: [],
  siblings: 0,
};

/** Outcome of running the RFC 9162 verifier on a proof: it holds, or why not. */
export type ProofVerdict = { readonly valid: true } | { readonly valid: false; readonly reason: string };

/**
 * `globalThis.naos`: the kernel API of this tab for scripts, tests and benchmarks
 * (MISSION.md F3). These names and shapes are a stable contract — add to it, never
 * rename. Every call returns a promise (and waits for the kernel to be up) except
 * `onChange`, which returns its unsubscribe function at once. docs/BROWSER.md lists
 * each call's result and errors.
 */
export interface NaosApi {
  /** Resolves when the kernel is up (also when its stored ledger was found damaged); rejects if it cannot start. */
  readonly ready: Promise<void>;
  nodeId(): Promise<string>;
  /** Appends one JSON value to the node's log; resolves once it is stored and signed. */
  append(value: unknown): Promise<AppendResult>;
  /** Appends JSON values as one all-or-nothing batch. */
  appendMany(values: unknown[]): Promise<AppendResult[]>;
  /** One hash over every log held (hex). */
  stateRoot(): Promise<string>;
  /** One head per log held. */
  heads(): Promise<Head[]>;
  /**
   * The live peers: `[{nodeId, manifest, trust, stateRoot, logs, health: {uptimeMs, latencyMs, lastSeen}, rejected,
   * flagged, transport, libp2p?: {peerId, direct, nodeIdProven, trust, since}}]`.
   */
  peers(): Promise<PeerView[]>;
  /** Calls back with `{origin, size, root}` whenever a held head changes. Returns the unsubscribe function. */
  onChange(callback: (head: Head) => void): () => void;
  status(): Promise<KernelStatus>;
  info(): Promise<NodeInfo>;
  /** Latest signed checkpoint note of the node's log. */
  checkpoint(): Promise<string>;
  /** Signed checkpoints of a held log (the node's own by default). */
  checkpoints(origin?: string): Promise<{ size: number; note: string }[]>;
  /** Entries [start, end) of a held log (the node's own by default). */
  entries(start: number, end: number, origin?: string): Promise<EntryView[]>;
  prove(index: number, size?: number, origin?: string): Promise<InclusionProofView>;
  consistency(size1: number, size2?: number, origin?: string): Promise<ConsistencyProofView>;
  /** Runs the RFC 9162 inclusion verifier here, in the page, on a proof (e.g. from prove()). */
  verifyInclusion(proof: unknown): Promise<ProofVerdict>;
  /** Runs the RFC 9162 consistency verifier here, in the page, on a proof from consistency(). */
  verifyConsistency(proof: unknown): Promise<ProofVerdict>;
  /**
   * The ledger export (F7, `naos-ledger-export/1`, docs/EXPORT.md) of the node's own log, or
   * of each held log listed by origin: what `naos verify EXPORT` checks offline.
   */
  export(origins?: string[]): Promise<LedgerExport>;
  /**
   * The same export as a file to save: `{blob, bytes, logs: [{origin, entries,
   * checkpoints}]}`, the Blob holding exactly `JSON.stringify(export, null, 2)` and a
   * newline. Built piece by piece in the kernel worker (large logs never sit whole in
   * memory); `onProgress({written, total})` hears as it goes (entries and proofs written,
   * of twice the entries).
   */
  exportFile(origins?: string[], onProgress?: (progress: ExportProgress) => void): Promise<ExportFile>;
  /**
   * Checks an export here, in the page, as `naos verify` does: `{ok, checks: [{name, ok,
   * detail}]}`. Takes the document or its JSON text; ExportFormatError if it is not one.
   */
  verifyExport(document: unknown): Promise<ExportReport>;
  /** What this node announces about itself (F2: region, shard, types, capabilities, trust, started, software). */
  manifest(): Promise<Manifest | undefined>;
  /** Every held log as peers see it: `[{origin, verifierKey, size, checkpoint}]`. */
  logs(): Promise<LogAdvert[]>;
  /** Writes `value` under `key` in the shared derived state; concurrent writes elsewhere become drift events. */
  set(key: string, value: unknown): Promise<AppendResult>;
  /** The derived state: `[{key, value, id, author, seq, time}]`, sorted by key. */
  state(): Promise<KeyValue[]>;
  /** Drift events: `[{key, base, contenders: [KeyValue], winner}]`. */
  drift(): Promise<DriftEvent[]>;
  /** The newest `limit` (default 100) entries of all held logs, in (time, author, seq) order. */
  timeline(limit?: number): Promise<ViewEntry[]>;
  /** Hash of the derived state (hex); equal on nodes holding equal entries. */
  viewDigest(): Promise<string>;
  /** Refused sync messages: `[{sender, reason, count}]`. */
  rejections(): Promise<RejectionView[]>;
  /** Equivocation evidence: `[{origin, reportedBy, detail}]`. */
  forks(): Promise<ForkEvidence[]>;
  /** Authors proven to have signed two histories (F11): `[{origin, author, forkSize, evidenceId, detail, evidence: {a, b, …}}]`. */
  flagged(): Promise<FlaggedLog[]>;
  /** The page's libp2p node: state, peer id, addresses, relay reservation, connections (direct or relayed), dial stats. */
  network(): Promise<NetworkStatus>;
  /** How durable this origin's storage is: `{persisted, usage, quota}` (bytes; null when the browser does not say). */
  storage(): Promise<StorageStatus>;
  /** Test and debug affordances: not for applications. */
  readonly debug: NaosDebugApi;
  /** The agent runtime (web/naos-agents.ts, docs/AGENTS.md). */
  readonly agents: NaosAgentsApi;
}

/** Test/debug affordances of `naos` (docs/BROWSER.md). */
export interface NaosDebugApi {
  /**
   * Moves this tab's BroadcastChannel link into partition `group`: it then hears only tabs
   * in the same group. `null` heals (back to the namespace's shared channel).
   */
  partition(group: string | null): Promise<void>;
  /** The current partition group, null when not partitioned. */
  partitionGroup(): Promise<string | null>;
  /** Sync traffic this node handled, for benchmarks: `{messagesIn, bytesIn, messagesOut, bytesOut, entriesIn, entriesDuplicate}`. */
  traffic(): Promise<TrafficStats>;
  /** Total encoded size of entries [start, end) of a held log (default: the node's own), for benchmarks. */
  entryBytes(start: number, end: number, origin?: string): Promise<number>;
  /**
   * Stops (false) or restarts (true) this page's libp2p node — a partition from every
   * other browser and the always-on peer; the tab channel is not affected.
   */
  libp2p(enabled: boolean): Promise<void>;
}

/**
 * Builds the naos API over a kernel that is starting (`remote` resolves once it is up).
 * Values are checked here too, so a non-JSON value fails with InvalidValueError before
 * it reaches postMessage (which would throw a DataCloneError or silently reshape it).
 */
export function createNaos(
  remote: Promise<KernelRemote>,
  network: Promise<NetworkHandle | undefined> = Promise.resolve(undefined),
): NaosApi {
  const listeners = new Set<(head: Head) => void>();
  const dispatch = (head: Head): void => {
    for (const listener of [...listeners]) {
      try {
        listener(head);
      } catch (error) {
        // One faulty subscriber must not starve the others; its failure is still visible.
        console.error('a naos.onChange callback threw', error);
      }
    }
  };
  // One subscription for the page's lifetime; callers subscribe locally, so onChange can
  // return its unsubscribe function synchronously.
  const ready = remote.then(async (kernel) => {
    const changes = new MessageChannel();
    changes.port1.onmessage = (event: MessageEvent<Head>) => dispatch(event.data);
    await kernel.changesTo(Comlink.transfer(changes.port2, [changes.port2]));
  });
  const call = async <T>(use: (kernel: KernelRemote) => Promise<T>): Promise<T> => {
    await ready;
    return use(await remote);
  };
  // libp2p runs unless switched off by debug.libp2p(false) or while partitioned.
  let libp2pWanted = true;
  let partitioned = false;
  const applyNetwork = async (): Promise<void> => {
    await (await network)?.setEnabled(libp2pWanted && !partitioned);
  };

  return {
    ready,
    nodeId: () => call((k) => k.nodeId()),
    append: (value) =>
      call((k) => {
        assertJsonValue(value);
        return k.append(value);
      }),
    appendMany: (values) =>
      call((k) => {
        if (!Array.isArray(values)) throw new InvalidInputError('appendMany takes an array of JSON values');
        values.forEach((value, i) => assertJsonValue(value, `$[${i}]`));
        return k.appendMany(values);
      }),
    stateRoot: () => call((k) => k.stateRoot()),
    heads: () => call((k) => k.heads()),
    peers: () => call((k) => k.peers()),
    onChange(callback) {
      if (typeof callback !== 'function') throw new TypeError('naos.onChange takes a function');
      const entry = (head: Head) => callback(head);
      listeners.add(entry);
      return () => void listeners.delete(entry);
    },
    status: () => call((k) => k.status()),
    info: () => call((k) => k.info()),
    checkpoint: () => call((k) => k.checkpoint()),
    checkpoints: (origin) => call((k) => (origin === undefined ? k.checkpoints() : k.checkpoints(origin))),
    entries: (start, end, origin) => call((k) => (origin === undefined ? k.entries(start, end) : k.entries(start, end, origin))),
    prove: (index, size, origin) =>
      call((k) => (origin !== undefined ? k.prove(index, size, origin) : size === undefined ? k.prove(index) : k.prove(index, size))),
    consistency: (size1, size2, origin) =>
      call((k) =>
        origin !== undefined
          ? k.consistency(size1, size2, origin)
          : size2 === undefined
            ? k.consistency(size1)
            : k.consistency(size1, size2),
      ),
    verifyInclusion: (proof) =>
      verdict(() => {
        const p = readObject(proof, 'inclusion proof');
        verifyInclusion(readCount(p, 'index'), readCount(p, 'size'), readHash(p, 'leafHash'), readHashes(p, 'proof'), readHash(p, 'root'));
      }),
    verifyConsistency: (proof) =>
      verdict(() => {
        const p = readObject(proof, 'consistency proof');
        verifyConsistency(readCount(p, 'size1'), readCount(p, 'size2'), readHash(p, 'root1'), readHash(p, 'root2'), readHashes(p, 'proof'));
      }),
    export: (origins) => call((k) => (origins === undefined ? k.exportLedger() : k.exportLedger(origins))),
    exportFile: (origins, onProgress) =>
      call((k) => k.exportFile(origins, typeof onProgress === 'function' ? Comlink.proxy(onProgress) : undefined)),
    verifyExport: async (document) => {
      if (typeof document !== 'string') return verifyExport(document);
      let parsed: unknown;
      try {
        parsed = JSON.parse(document);
      } catch (error) {
        throw new InvalidInputError(`the export is not JSON: ${asError(error).message}`);
      }
      return verifyExport(parsed);
    },
    manifest: () => call((k) => k.manifest()),
    logs: () => call((k) => k.logs()),
    set: (key, value) =>
      call((k) => {
        assertJsonValue(value);
        return k.set(key, value);
      }),
    state: () => call((k) => k.state()),
    drift: () => call((k) => k.drift()),
    timeline: (limit) => call((k) => (limit === undefined ? k.timeline() : k.timeline(limit))),
    viewDigest: () => call((k) => k.viewDigest()),
    rejections: () => call((k) => k.rejections()),
    forks: () => call((k) => k.forks()),
    flagged: () => call((k) => k.flagged()),
    storage: () => storageStatus(),
    network: async () => {
      await ready;
      return (await network)?.status() ?? NO_NETWORK;
    },
    debug: {
      partition: (group) =>
        call(async (k) => {
          await k.partition(group);
          // A partitioned tab hears only its group: no other browser either.
          partitioned = group !== null;
          await applyNetwork();
        }),
      libp2p: (enabled) =>
        call(async () => {
          if (typeof enabled !== 'boolean') throw new InvalidInputError('naos.debug.libp2p takes true or false');
          libp2pWanted = enabled;
          await applyNetwork();
        }),
      partitionGroup: () => call((k) => k.partitionGroup()),
      traffic: () => call((k) => k.traffic()),
      entryBytes: (start, end, origin) => call((k) => (origin === undefined ? k.entryBytes(start, end) : k.entryBytes(start, end, origin))),
    },
    agents: createNaosAgents(() => call(async (k) => (await k.agents()) as unknown as AgentsRemote)),
  };
}

/** A proof that fails verification is a verdict; a value that is not a proof at all is an error. */
function verdict(check: () => void): Promise<ProofVerdict> {
  try {
    check();
    return Promise.resolve({ valid: true });
  } catch (error) {
    if (error instanceof ProofVerificationError) return Promise.resolve({ valid: false, reason: error.message });
    return Promise.reject(asError(error));
  }
}

function readObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidInputError(`${what} must be an object like the one prove()/consistency() return`);
  }
  return value as Record<string, unknown>;
}

function readCount(proof: Record<string, unknown>, field: string): number {
  const value = proof[field];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidInputError(`proof.${field} must be a non-negative integer, got ${JSON.stringify(value) ?? String(value)}`);
  }
  return value;
}

function readHash(proof: Record<string, unknown>, field: string): Uint8Array {
  const value = proof[field];
  if (typeof value !== 'string') throw new InvalidInputError(`proof.${field} must be a hex string, got ${typeof value}`);
  return fromHex(value, `proof.${field}`);
}

function readHashes(proof: Record<string, unknown>, field: string): Uint8Array[] {
  const value = proof[field];
  if (!Array.isArray(value)) throw new InvalidInputError(`proof.${field} must be an array of hex strings`);
  return value.map((hash: unknown, i) => {
    if (typeof hash !== 'string') throw new InvalidInputError(`proof.${field}[${i}] must be a hex string, got ${typeof hash}`);
    return fromHex(hash, `proof.${field}[${i}]`);
  });
}
