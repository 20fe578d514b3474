import * as Comlink from 'comlink';
import { totalLength } from '../src/bytes.js';
import { asError, InvalidInputError, NaosError } from '../src/errors.js';
import type { Manifest } from '../src/federation/messages.js';
import type { ForkEvidence, PeerView as SyncPeerView, RejectionView, TrafficStats } from '../src/federation/sync-engine.js';
import type { Kernel, LogAdvert } from '../src/kernel/kernel.js';
import {
  buildExport,
  type ExportProgress,
  exportText,
  type LedgerExport,
  type LogExportInput,
  readLogForExport,
} from '../src/ledger/export.js';
import type { DriftEvent, KeyValue, ViewEntry } from '../src/state/derived-view.js';
import type { AgentService } from './agent-service.js';
import type { FederationPeerView, FederationPort } from './federation.js';
import type {
  AppendResult,
  ConsistencyProofView,
  EntryView,
  FlaggedLog,
  Head,
  InclusionProofView,
  KernelStatus,
} from '../src/kernel/api.js';

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

/**
 * A live peer: `{nodeId, manifest, trust, stateRoot, logs, health: {uptimeMs, latencyMs,
 * lastSeen}, rejected, flagged}` (src/federation/sync-engine.ts) and how it is reached:
 * `transport` (`libp2p` | `broadcast-channel`) and, over libp2p, `libp2p: {peerId,
 * direct, nodeIdProven, trust, since}` (workers/federation.ts). `manifest` and the health
 * figures appear once the peer has announced itself / answered a request.
 */
export type PeerView = FederationPeerView;

/** An export as a file (KernelService.exportFile): its text as a Blob, and what it holds. */
export interface ExportFile {
  readonly blob: Blob;
  readonly bytes: number;
  readonly logs: readonly { readonly origin: string; readonly entries: number; readonly checkpoints: number }[];
}

export type {
  DriftEvent,
  ExportProgress,
  FlaggedLog,
  ForkEvidence,
  KeyValue,
  LogAdvert,
  Manifest,
  RejectionView,
  SyncPeerView,
  TrafficStats,
  ViewEntry,
};

/** The node runs without federation, so it has no network to attach. */
export class FederationUnavailableError extends NaosError {}

/** The node was booted without agents (BootOptions.agents === false). */
export class AgentsUnavailableError extends NaosError {}

/** Most entries one timeline() call returns. */
export const MAX_TIMELINE = 10_000;

/** Most entries one entries() call returns; larger reads are paged by the caller. */
export const MAX_ENTRIES_PER_CALL = 10_000;

/**
 * The kernel API as the worker exposes it: plain data in and out (structured-clone
 * safe), inputs checked at the boundary, change events by subscription id rather than
 * by returned functions (which cannot cross postMessage). Independent of comlink and
 * of storage, so it is tested directly over any store.
 */
/** What the boot hands the service besides the kernel and its parts. */
export interface KernelServiceHooks {
  /** The page's network reaches no peer: end the boot wait for peers if no other tab can answer either (workers/boot.ts). */
  readonly networkUnavailable?: () => Promise<void>;
}

export class KernelService {
  readonly #kernel: Kernel;
  readonly #slot: number;
  readonly #federation: FederationPort | undefined;
  readonly #agents: AgentService | undefined;
  readonly #hooks: KernelServiceHooks;
  readonly #subscriptions = new Map<number, () => void>();
  #nextSubscription = 1;

  constructor(kernel: Kernel, slot: number, federation?: FederationPort, agents?: AgentService, hooks: KernelServiceHooks = {}) {
    this.#kernel = kernel;
    this.#slot = slot;
    this.#federation = federation;
    this.#agents = agents;
    this.#hooks = hooks;
  }

  /** The agent API (naos.agents), handed across as a comlink proxy of its own. */
  agents(): AgentService & Comlink.ProxyMarked {
    if (!this.#agents) throw new AgentsUnavailableError('this node was started without agents');
    return Comlink.proxy(this.#agents);
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

  /** The live peers (none without federation). */
  peers(): PeerView[] {
    return this.#federation?.peers() ?? [];
  }

  /** What this node announces about itself (F2); undefined without federation. */
  manifest(): Manifest | undefined {
    return this.#federation?.manifest;
  }

  /** Refused messages, counted per sender (`link:<link>` when the sender is unknown) and reason. */
  rejections(): RejectionView[] {
    return this.#federation?.rejections() ?? [];
  }

  /** Equivocation evidence (F11): a log's author signed two histories. */
  forks(): ForkEvidence[] {
    return this.#federation?.forks() ?? [];
  }

  /** Authors proven to have signed two histories (F11), each with its proof (two signed checkpoints). */
  flagged(): FlaggedLog[] {
    return this.#federation?.flagged() ?? [];
  }

  /**
   * Carries sync over the page's libp2p node: the page keeps the other end of `port`
   * (adapters/libp2p/port-transport.ts). A new port replaces the previous one.
   */
  async attachNetwork(port: MessagePort): Promise<void> {
    if (!this.#federation) throw new FederationUnavailableError('this node runs without federation');
    if (!(port instanceof MessagePort)) throw new InvalidInputError('attachNetwork takes a MessagePort');
    await this.#federation.attachNetwork(port);
  }

  /**
   * The page says its libp2p node reaches no peer (`?libp2p=off`, no bootstrap list, or
   * none usable). If no other tab of the namespace is open either, nobody can answer the
   * boot's wait for peers (KernelOptions.awaitPeersUntil), so it ends now instead of at its
   * deadline: a lone offline tab appends at once.
   */
  async networkUnavailable(): Promise<void> {
    await this.#hooks.networkUnavailable?.();
  }

  /** The node's public key, which the page's libp2p handshake proves possession of. */
  handshakeKey(): Uint8Array {
    if (!this.#federation) throw new FederationUnavailableError('this node runs without federation');
    return this.#federation.handshakeSigner.publicKey.slice();
  }

  /** Signs a handshake transcript (and nothing else: HandshakeError `malformed` otherwise) with the node key. */
  signHandshake(message: Uint8Array): Promise<Uint8Array> {
    if (!this.#federation) return Promise.reject(new FederationUnavailableError('this node runs without federation'));
    if (!(message instanceof Uint8Array)) return Promise.reject(new InvalidInputError('signHandshake takes bytes'));
    return this.#federation.handshakeSigner.sign(message);
  }

  /** Every held log as peers see it: origin, verifier key, size, latest signed checkpoint. */
  logs(): LogAdvert[] {
    return this.#kernel.adverts();
  }

  /**
   * The ledger export (F7, docs/EXPORT.md) of held logs — the node's own by default, or
   * each origin listed (replicas too) — with every entry, checkpoint and proof, so that
   * `naos verify` checks it offline. UnknownLogError for a log not held.
   */
  async exportLedger(origins?: unknown): Promise<LedgerExport> {
    return buildExport(await this.#readForExport(origins));
  }

  /**
   * The same export as exportLedger, as a file: a Blob of its JSON text (exactly what
   * `JSON.stringify(export, null, 2)` and a newline give), built piece by piece so that
   * neither the whole text nor every proof is held in this worker at once; `onProgress`
   * hears after every piece. With the counts the caller shows.
   */
  async exportFile(origins?: unknown, onProgress?: (progress: ExportProgress) => void): Promise<ExportFile> {
    const logs = await this.#readForExport(origins);
    const progress = typeof onProgress === 'function' ? onProgress : undefined;
    let blob = new Blob([], { type: 'application/json' });
    let pending: string[] = [];
    let pendingChars = 0;
    const flush = (): void => {
      // Folded into the Blob every few MB: Chromium keeps large Blob data outside this heap.
      blob = new Blob([blob, ...pending], { type: 'application/json' });
      pending = [];
      pendingChars = 0;
    };
    for (const piece of exportText(logs, { onProgress: (p) => progress?.(p) })) {
      pending.push(piece);
      pendingChars += piece.length;
      if (pendingChars >= EXPORT_FLUSH_CHARS) flush();
      // Let the node go on (sync, appends) between pieces; the logs were read above.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    flush();
    return {
      blob,
      bytes: blob.size,
      logs: logs.map((log) => ({ origin: log.origin, entries: log.entries.length, checkpoints: log.checkpoints.length })),
    };
  }

  /** The logs an export asks for (the own one by default), each read up to its latest checkpoint. */
  async #readForExport(origins: unknown): Promise<LogExportInput[]> {
    const wanted = origins === undefined ? [this.#kernel.origin] : exportOrigins(origins);
    const logs = [];
    for (const origin of wanted) logs.push(await readLogForExport(this.#kernel, origin));
    return logs;
  }

  /** Writes `value` under `key` in the shared derived state (a `set` entry in the node's log). */
  set(key: string, value: unknown): Promise<AppendResult> {
    // The kernel checks the key (InvalidInputError unless a string of 1–256 characters).
    return this.#kernel.set(key, value);
  }

  /** The derived state: every key with its winning write, sorted by key. */
  state(): KeyValue[] {
    return this.#kernel.state();
  }

  /** Concurrent conflicting writes of one key, with the deterministic winner. */
  /** Conflicting writes of one key, then agents registered by several nodes (F12). */
  drift(): DriftEvent[] {
    return [...this.#kernel.drift(), ...(this.#agents?.drift() ?? [])];
  }

  /** The newest `limit` entries of all held logs in (time, author, seq) order. */
  timeline(limit = 100): ViewEntry[] {
    assertCount(limit, 'limit');
    if (limit > MAX_TIMELINE) throw new RangeError(`at most ${MAX_TIMELINE} timeline entries per call, asked for ${limit}`);
    return this.#kernel.timeline(limit);
  }

  /** Hash of the derived state; equal on nodes holding equal entries. */
  viewDigest(): string {
    return this.#kernel.viewDigest();
  }

  /** Test/debug affordance: only tabs in the same partition group hear each other (null heals). */
  async partition(group: unknown): Promise<void> {
    if (group !== null && (typeof group !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(group))) {
      throw new InvalidInputError(`a partition group is null or 1–64 letters, digits, '.', '_', '-'; got ${JSON.stringify(group)}`);
    }
    if (!this.#federation) throw new InvalidInputError('this node runs without federation');
    await this.#federation.partition(group);
  }

  partitionGroup(): string | null {
    return this.#federation?.partitionGroup() ?? null;
  }

  /** Debug/benchmark affordance: sync messages and bytes handled so far (zeros without federation). */
  traffic(): TrafficStats {
    return this.#federation?.traffic() ?? { messagesIn: 0, bytesIn: 0, messagesOut: 0, bytesOut: 0, entriesIn: 0, entriesDuplicate: 0 };
  }

  /** Debug/benchmark affordance: total encoded size of entries [start, end) of a held log. */
  async entryBytes(start: unknown, end: unknown, origin?: unknown): Promise<number> {
    assertCount(start, 'start');
    assertCount(end, 'end');
    if (origin !== undefined && typeof origin !== 'string') throw new InvalidInputError('origin must be a string');
    return totalLength(await this.#kernel.readEntryBytes(start, end, origin ?? this.#kernel.origin));
  }

  /** Leaves the federation and closes the kernel (waiting for queued appends). */
  async close(): Promise<void> {
    await this.#federation?.close();
    await this.#kernel.close();
  }

  status(): KernelStatus {
    return this.#kernel.status();
  }

  /** Writes the replicas waiting for their scheduled write now (the page is being hidden or closed). */
  writeReplicasNow(): Promise<void> {
    return this.#kernel.writeReplicasNow();
  }

  /** The node's latest signed checkpoint note. Throws LedgerIntegrityError if its log is damaged. */
  checkpoint(): string {
    return this.#kernel.checkpoint();
  }

  checkpoints(origin?: string): { size: number; note: string }[] {
    return this.#kernel.checkpoints(originOrOwn(origin, this.#kernel));
  }

  /** Entries [start, end) of a held log, the node's own by default (end is clamped to the log size). */
  entries(start: number, end: number, origin?: string): Promise<EntryView[]> {
    try {
      const log = originOrOwn(origin, this.#kernel);
      assertCount(start, 'start');
      assertCount(end, 'end');
      if (end < start) throw new RangeError(`end ${end} is before start ${start}`);
      if (end - start > MAX_ENTRIES_PER_CALL) {
        throw new RangeError(`at most ${MAX_ENTRIES_PER_CALL} entries per call, asked for ${start}..${end}`);
      }
      return this.#kernel.entries(start, end, log);
    } catch (error) {
      return Promise.reject(asError(error));
    }
  }

  /** Inclusion proof of entry `index` in the tree of `size` (default: the whole log) of a held log (default: own). */
  prove(index: number, size?: number, origin?: string): InclusionProofView {
    const log = originOrOwn(origin, this.#kernel);
    assertCount(index, 'index');
    if (size !== undefined) assertCount(size, 'size');
    return this.#kernel.proveInclusion(index, size, log);
  }

  /** Consistency proof between the trees of `size1` and `size2` (default: the whole log) of a held log (default: own). */
  consistency(size1: number, size2?: number, origin?: string): ConsistencyProofView {
    const log = originOrOwn(origin, this.#kernel);
    assertCount(size1, 'size1');
    if (size2 !== undefined) assertCount(size2, 'size2');
    return this.#kernel.proveConsistency(size1, size2, log);
  }

  /**
   * Posts each new head to `port` (a MessagePort the page transferred); returns an id for
   * offChange. One-way: a comlink callback per change would cost a request, an answer and
   * a pending promise in both threads, for every change, in every tab.
   */
  changesTo(port: MessagePort): number {
    if (!(port instanceof MessagePort)) throw new TypeError('changesTo takes a MessagePort');
    const id = this.#nextSubscription++;
    const unsubscribe = this.#kernel.onChange((head) => port.postMessage(head));
    this.#subscriptions.set(id, () => {
      unsubscribe();
      port.close();
    });
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

/** The origin asked for, or the node's own log when none is given. */
function originOrOwn(origin: unknown, kernel: Kernel): string {
  if (origin === undefined || origin === null) return kernel.origin;
  if (typeof origin !== 'string') throw new TypeError(`origin must be a string like naos/<node id>, got ${typeof origin}`);
  return origin;
}

function assertCount(value: unknown, what: string): asserts value is number {
  if (typeof value !== 'number') throw new TypeError(`${what} must be a number, got ${typeof value}`);
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${what} must be a non-negative integer, got ${value}`);
}

/** At most this many logs in one export. */
export const MAX_EXPORT_LOGS = 4096;

/** Characters of export text gathered before they are folded into the Blob. */
const EXPORT_FLUSH_CHARS = 8 * 1024 * 1024;

function exportOrigins(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_EXPORT_LOGS || !value.every((o) => typeof o === 'string')) {
    throw new InvalidInputError(`export takes a list of 1–${MAX_EXPORT_LOGS} log origins`);
  }
  if (new Set(value).size !== value.length) throw new InvalidInputError('export lists a log more than once');
  return value;
}
