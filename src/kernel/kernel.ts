import { bytesEqual, toHex, totalLength, utf8 } from '../bytes.js';
import type { Signer } from '../crypto/ed25519.js';
import { asError, InvalidInputError, NaosError } from '../errors.js';
import { logOrigin, nodeIdFromPublicKey, nodeIdOfOrigin } from '../identity/node-id.js';
import { formatCheckpoint, openCheckpoint, signCheckpoint } from '../ledger/checkpoint.js';
import { decodeEntry, encodeEntry, type Entry, entryId } from '../ledger/entry.js';
import {
  EQUIVOCATION_KIND,
  type Equivocation,
  EvidenceError,
  makeEquivocation,
  type VerifiedEquivocation,
  verifyEquivocation,
} from '../ledger/equivocation.js';
import { type Hlc, hlcCompare, HLC_ZERO, hlcTick } from '../ledger/hlc.js';
import { LedgerIntegrityError } from '../ledger/integrity.js';
import { assertJsonValue, type JsonValue } from '../ledger/json-value.js';
import { formatVerifierKey, makeVerifier, parseVerifierKey } from '../ledger/note.js';
import { type LogBatch, planBatch, stageBatch } from '../ledger/log-batch.js';
import { loadVerifiedLog, VerifiedLog } from '../ledger/verified-log.js';
import { EMPTY_ROOT, leafHash } from '../merkle/hash.js';
import { DerivedView, type DriftEvent, type KeyValue, parseSetPayload, SET_KIND, type ViewEntry } from '../state/derived-view.js';
import { MerkleTree } from '../merkle/tree.js';
import { type AppendBatch, batchCheckpoints, type LedgerStore, type StoredLogHead } from '../storage/ledger-store.js';
import type {
  AppendOptions,
  AppendResult,
  ConsistencyProofView,
  DamagedLog,
  EntryView,
  FlaggedLog,
  Head,
  InclusionProofView,
  KernelStatus,
  RepairedLog,
  UnpersistedLog,
} from './api.js';

/** One held log as peers see it. */
export interface LogAdvert {
  readonly origin: string;
  readonly verifierKey: string;
  readonly size: number;
  /** Merkle root at `size`, hex. */
  readonly root: string;
  readonly checkpoint: string;
}

/**
 * An own batch, signed, whose strict write has started: peers may be sent it once
 * `written` resolves — never if it rejects (the batch is then undone, and those positions
 * are signed anew by a later append). A reaction a listener attaches to `written` while it
 * is being told runs before the kernel's own work after the write (committing the log,
 * resolving the append, telling onChange listeners).
 */
export interface StagedBatch {
  readonly batch: LogBatch;
  readonly written: Promise<void>;
}

export type ApplyOutcome =
  | { readonly status: 'applied'; readonly size: number }
  | { readonly status: 'duplicate' }
  | { readonly status: 'gap'; readonly have: number }
  /** The log's author equivocated (F11): nothing past the fork point is accepted. */
  | { readonly status: 'refused-flagged'; readonly forkSize: number }
  /** The store keeps failing to write this replica and too much is waiting: take no more for now. */
  | { readonly status: 'refused-unwritable'; readonly reason: string };

export interface KernelOptions {
  readonly store: LedgerStore;
  readonly signer: Signer;
  /** Wall clock in milliseconds; injected so the core never reads one itself. */
  readonly now: () => number;
  /** Replica entries kept in memory while the store fails to write them, before more are refused (default 50 000). */
  readonly maxUnwrittenEntries?: number;
  /** Most entries committed (and signed) as one batch. */
  readonly maxBatch?: number;
  readonly onLoadProgress?: (origin: string, verified: number, total: number) => void;
  /**
   * When the write of a verified replica batch starts (it is in use from memory at once).
   * Default: right after the batch is applied. The browser kernel waits a second, so that
   * the storage work of a receiver does not take a core from the receivers still busy
   * with the same append; whatever queued meanwhile is written in the same pass.
   */
  readonly scheduleReplicaWrite?: (write: () => void) => void;
  /**
   * When to try a failed replica write again if nothing else does first (more entries of
   * the log arriving, writeReplicasNow, close); one retry is pending at a time per log.
   * Default: not on its own. The browser kernel tries again after a few seconds.
   */
  readonly scheduleReplicaRetry?: (retry: () => void) => void;
  /**
   * Right after open, own appends wait to hear from a peer (notePeerChecked) until this
   * settles — if the node holds any entries at all (absent: they do not wait). Peers may
   * hold entries of its own log that its storage lost (a rollback); the first peer heard
   * shows them (noteOwnCheckpoint) before anything is signed at positions already signed.
   * Give it where a sync engine runs, e.g. a promise that resolves after 1.5 s.
   */
  readonly awaitPeersUntil?: Promise<unknown>;
}

/** The log asked for is not held by this node (or was refused as damaged). */
export class UnknownLogError extends NaosError {}

/** The kernel was closed; it takes no more appends. */
export class KernelClosedError extends NaosError {}

/**
 * The node's own log holds fewer entries than a peer proves it signed (a checkpoint of
 * its own key at a larger size): its storage lost them. Nothing new is signed until they
 * are restored from peers — signing at those positions again would be a fork.
 */
export class OwnLogBehindError extends NaosError {}

/**
 * A damaged log being re-fetched: batches from peers are verified as for a new log and
 * kept in memory; once the copy reaches `need` entries it replaces the stored records.
 */
interface Repair {
  readonly need: number;
  log: VerifiedLog | undefined;
  readonly entries: Uint8Array[];
  readonly views: ViewEntry[];
}

interface PendingGroup {
  readonly items: readonly { kind: string; payload: JsonValue }[];
  readonly resolve: (results: AppendResult[]) => void;
  readonly reject: (error: unknown) => void;
}

const KIND_DEFAULT = 'data';
/** Replica entries held in memory while the store fails to write them, before refusing more. */
const MAX_UNWRITTEN_ENTRIES = 50_000;
/** Most entries readBatch puts in one batch (the sync message limit). */
const MAX_BATCH_ENTRIES = 50_000;
/** Bytes of the node's newest own entries kept in memory, so pushing a new batch reads no storage. */
const OWN_TAIL_BYTES = 1 << 20;

/**
 * A node's kernel: its identity, the logs it holds (verified on open), and appends to
 * its own log. Concurrent appends are coalesced into batches; each batch is written
 * atomically with one signed checkpoint. Platform-free: storage, signing key and clock
 * are injected.
 */
export class Kernel {
  readonly nodeId: string;
  readonly origin: string;
  readonly verifierKey: string;
  readonly #store: LedgerStore;
  readonly #signer: Signer;
  readonly #now: () => number;
  readonly #maxBatch: number;
  readonly #maxUnwritten: number;
  readonly #scheduleReplicaWrite: (write: () => void) => void;
  readonly #scheduleReplicaRetry: ((retry: () => void) => void) | undefined;
  readonly #logs = new Map<string, VerifiedLog>();
  readonly #damaged: DamagedLog[] = [];
  /** A verified copy of each damaged log, fetched from peers, until it replaces the stored one (F6). */
  readonly #repairs = new Map<string, Repair>();
  readonly #repaired: RepairedLog[] = [];
  readonly #listeners = new Set<(head: Head) => void>();
  readonly #entryListeners = new Set<(entries: readonly ViewEntry[]) => void>();
  readonly #flagListeners = new Set<(flag: FlaggedLog) => void>();
  readonly #stagedListeners = new Set<(staged: StagedBatch) => void>();
  /** Authors proven to have equivocated (F11), by log origin; the first proof found is kept. */
  readonly #flags = new Map<string, FlaggedLog>();
  #stateRoot = { input: '', root: toHex(new MerkleTree().root()) };
  /** Where a held ledger records an equivocation of each flagged origin (so it is written once). */
  readonly #evidenceRecords = new Map<string, { readonly origin: string; readonly index: number }>();
  readonly #view = new DerivedView();
  readonly #pending: PendingGroup[] = [];
  #draining: Promise<void> | undefined;
  /** Write-behind queues of replica logs. */
  readonly #writers = new Map<string, WriteBehind>();
  /** Tail of the operation chain of each log: appends and replication of one log never interleave. */
  readonly #locks = new Map<string, Promise<unknown>>();
  #clock: Hlc = HLC_ZERO;
  #closed = false;
  /** Largest size of the own log proven signed by this node's key (seen in a peer's advert). */
  #ownSigned = 0;
  /**
   * The newest committed entries of the own log (contiguous, at most OWN_TAIL_BYTES):
   * exactly the bytes that were hashed into the tree, so they are served without a
   * storage read or a re-hash.
   */
  #ownTail: { start: number; entries: Uint8Array[]; bytes: number } = { start: 0, entries: [], bytes: 0 };
  /** Until a peer has been heard after open, or KernelOptions.awaitPeersUntil settled: own appends wait. */
  #peerWait: { readonly heard: Promise<void>; readonly end: () => void } | undefined;

  private constructor(options: KernelOptions) {
    this.#store = options.store;
    this.#signer = options.signer;
    this.#now = options.now;
    this.#maxBatch = options.maxBatch ?? 1024;
    this.#maxUnwritten = options.maxUnwrittenEntries ?? MAX_UNWRITTEN_ENTRIES;
    this.#scheduleReplicaWrite = options.scheduleReplicaWrite ?? ((write) => void Promise.resolve().then(write));
    this.#scheduleReplicaRetry = options.scheduleReplicaRetry;
    this.nodeId = nodeIdFromPublicKey(options.signer.publicKey);
    this.origin = logOrigin(this.nodeId);
    this.verifierKey = formatVerifierKey(makeVerifier(this.origin, options.signer.publicKey));
  }

  /**
   * Opens the kernel over a store: re-verifies every stored log, creates the node's own
   * log if it has none. A log that fails verification is refused (kept untouched in the
   * store, listed in status()); if it is the node's own log, appends are refused too.
   */
  static async open(options: KernelOptions): Promise<Kernel> {
    const kernel = new Kernel(options);
    const heads = await options.store.listLogs();
    const records: { origin: string; entry: ViewEntry }[] = [];
    for (const head of heads) {
      try {
        const loaded: ViewEntry[] = [];
        const log = await loadVerifiedLog(options.store, head, {
          ...(head.origin === kernel.origin ? { expectedPublicKey: options.signer.publicKey } : {}),
          onProgress: (done, total) => options.onLoadProgress?.(head.origin, done, total),
          onEntry: (entry, bytes) => loaded.push(viewEntry(entry, entryId(bytes))),
        });
        // Only a log that verified in full contributes to the derived state.
        for (const entry of loaded) {
          kernel.#view.apply(entry);
          if (entry.kind === EQUIVOCATION_KIND) records.push({ origin: head.origin, entry });
        }
        kernel.#logs.set(head.origin, log);
        if (head.origin === kernel.origin) await kernel.#restoreClock(log);
      } catch (error) {
        if (!(error instanceof LedgerIntegrityError)) throw error;
        kernel.#damaged.push({ origin: head.origin, problems: error.problems });
        kernel.#repairs.set(head.origin, { need: await kernel.#repairTarget(head), log: undefined, entries: [], views: [] });
      }
    }
    if (!heads.some((head) => head.origin === kernel.origin)) await kernel.#createOwnLog();
    // A node that holds nothing has signed nothing a peer could hold, and has met no one.
    if (options.awaitPeersUntil && heads.some((head) => head.size > 0)) kernel.#awaitPeers(options.awaitPeersUntil);
    // Equivocations recorded in verified logs flag their authors again after a restart.
    for (const { origin, entry } of records) await kernel.#acceptRecord(entry, origin);
    return kernel;
  }

  status(): KernelStatus {
    const unpersisted = this.unpersisted();
    return {
      state: this.#damaged.length > 0 ? 'damaged' : 'ok',
      nodeId: this.nodeId,
      damaged: this.#damaged.map((d) => {
        const repair = this.#repairs.get(d.origin);
        return {
          origin: d.origin,
          problems: [...d.problems],
          ...(repair && { repair: { have: repair.log?.size ?? 0, need: repair.need } }),
        };
      }),
      repaired: this.#repaired.map((r) => ({ ...r, problems: [...r.problems] })),
      ...(this.#ownBehind() && { restoring: { have: this.heldSize(this.origin), signed: this.#ownSigned } }),
      ...(this.#peerWait && this.#draining && { awaitingPeers: true }),
      ...(unpersisted.length > 0 && { unpersisted }),
    };
  }

  #awaitPeers(until: Promise<unknown>): void {
    let end!: () => void;
    this.#peerWait = { heard: new Promise<void>((resolve) => (end = resolve)), end };
    const stop = (): void => this.notePeerChecked();
    until.then(stop, stop);
  }

  /**
   * A peer's logs have been compared with this node's since open — its state root was
   * ours, or the heads it sent for what differs have been checked (the sync engine calls
   * this). Own appends waiting for that (KernelOptions.awaitPeersUntil) go ahead.
   */
  notePeerChecked(): void {
    const wait = this.#peerWait;
    this.#peerWait = undefined;
    wait?.end();
  }

  /**
   * Entries a repaired copy of a damaged log must hold before it replaces the stored
   * records. The node's own log: at least as many as any of its damaged records claim
   * (head, entries, checkpoints), so that it never signs again at a position it may
   * already have signed and sent. A replica: any verified prefix (sync fetches the rest).
   */
  async #repairTarget(head: StoredLogHead): Promise<number> {
    if (head.origin !== this.origin) return 1;
    const [count, checkpoints] = await Promise.all([this.#store.countEntries(head.origin), this.#store.readCheckpoints(head.origin)]);
    return Math.max(1, head.size, count, ...checkpoints.map((c) => c.size));
  }

  /**
   * A peer holds a checkpoint of this node's own log at `size`, verified against this
   * node's key (the sync engine calls this). If the own log is shorter — its storage was
   * rolled back — appends are refused with OwnLogBehindError until sync has restored it.
   */
  noteOwnCheckpoint(size: number): void {
    if (Number.isSafeInteger(size) && size > this.#ownSigned) this.#ownSigned = size;
  }

  /** Appends one JSON value to the node's log. Resolves once it is durable and signed. */
  append(value: unknown, options: AppendOptions = {}): Promise<AppendResult> {
    return this.appendMany([value], options).then((results) => results[0]!);
  }

  /** Appends values as one all-or-nothing batch (never split, never mixed with failures). */
  appendMany(values: readonly unknown[], options: AppendOptions = {}): Promise<AppendResult[]> {
    if (!Array.isArray(values)) return Promise.reject(new InvalidInputError('appendMany takes an array of JSON values'));
    const kind = options.kind ?? KIND_DEFAULT;
    return this.#appendGroup(
      values.map((value: unknown) => ({ kind, value })),
      (i) => (values.length === 1 ? '$' : `$[${i}]`),
    );
  }

  /**
   * Appends entries of different kinds as one all-or-nothing batch, in order — for
   * records that must land together or not at all (an agent step with its effects).
   */
  appendEntries(items: readonly { readonly kind: string; readonly value: unknown }[]): Promise<AppendResult[]> {
    if (!Array.isArray(items)) return Promise.reject(new InvalidInputError('appendEntries takes an array of {kind, value}'));
    return this.#appendGroup(items, (i) => `$[${i}].value`);
  }

  #appendGroup(items: readonly { readonly kind: string; readonly value: unknown }[], path: (i: number) => string): Promise<AppendResult[]> {
    try {
      if (items.length === 0) throw new InvalidInputError('an append needs at least one value');
      items.forEach((item, i) => assertJsonValue(item.value, path(i)));
      this.#ownLog();
      return new Promise((resolve, reject) => {
        this.#pending.push({ items: items.map((item) => ({ kind: item.kind, payload: item.value as JsonValue })), resolve, reject });
        this.#draining ??= this.#drain();
      });
    } catch (error) {
      return Promise.reject(asError(error));
    }
  }

  heads(): Head[] {
    return this.#sortedLogs().map((log) => ({ origin: log.origin, size: log.size, root: toHex(log.root()) }));
  }

  /**
   * One hash over everything the node holds: the RFC 9162 root over the checkpoint bodies
   * (origin, size, root — no signatures) of every non-empty log, sorted by origin. Two
   * nodes with equal state roots hold identical entries. (Empty logs carry nothing, so
   * they are left out: a node that has written nothing yet does not unsettle its peers.
   * Logs of flagged authors are left out too: nodes may hold different histories of
   * them, and they are no longer synced — see flagged().)
   */
  stateRoot(): string {
    const bodies: string[] = [];
    for (const log of this.#sortedLogs()) {
      if (log.size === 0 || this.#flags.has(log.origin)) continue;
      bodies.push(formatCheckpoint({ origin: log.origin, size: log.size, root: log.root(), extensions: [] }));
    }
    // Asked for on every heartbeat sent and received and by the UI, while the logs change
    // far less often: hashed again only when the bodies changed (each ends in a newline,
    // so their concatenation names them exactly).
    const input = bodies.join('');
    if (input !== this.#stateRoot.input) {
      const tree = new MerkleTree();
      for (const body of bodies) tree.appendData(utf8(body));
      this.#stateRoot = { input, root: toHex(tree.root()) };
    }
    return this.#stateRoot.root;
  }

  /** Entries held of a log (0 if it is not held); of a damaged log, what its repair copy holds so far. */
  heldSize(origin: string): number {
    return this.#logs.get(origin)?.size ?? this.#repairs.get(origin)?.log?.size ?? 0;
  }

  /** The latest signed checkpoint note of a log (the node's own by default). */
  checkpoint(origin: string = this.origin): string {
    const latest = this.#log(origin).latestCheckpoint;
    if (!latest) throw new UnknownLogError(`no checkpoint held for ${origin} yet`);
    return latest.note;
  }

  /** Every held log with its verifier key, latest signed checkpoint and root, for peers. */
  adverts(): LogAdvert[] {
    return this.#sortedLogs().flatMap((log) => {
      const latest = log.latestCheckpoint;
      return latest
        ? [{ origin: log.origin, verifierKey: log.verifierKey, size: log.size, root: toHex(log.root()), checkpoint: latest.note }]
        : [];
    });
  }

  /**
   * A run of entries of a held log from `start`, ending at a size where a signed
   * checkpoint is held, with that checkpoint and a consistency proof from `start`.
   * Takes whole checkpoint intervals while they fit in `budgetBytes` (at least one).
   * Undefined if the log is not held or holds nothing past `start`.
   */
  async readBatch(origin: string, start: number, budgetBytes: number): Promise<LogBatch | undefined> {
    const log = this.#logs.get(origin);
    if (!log || !Number.isSafeInteger(start) || start < 0 || start >= log.size) return undefined;
    const ends = log.checkpoints.map((c) => c.size).filter((size) => size > start && size <= log.size);
    if (ends.length === 0) return undefined;
    // Read up to the last checkpoint within reach, then keep the longest prefix that
    // ends at a checkpoint and fits the budget.
    const reach = ends.filter((end) => end - start <= MAX_BATCH_ENTRIES);
    const readTo = reach.length > 0 ? reach[reach.length - 1]! : ends[0]!;
    const entries = this.#fromOwnTail(origin, start, readTo) ?? (await this.readEntryBytes(start, readTo, origin));
    let end = ends[0]!;
    let bytes = 0;
    let cursor = start;
    for (const candidate of ends) {
      if (candidate > readTo) break;
      for (; cursor < candidate; cursor++) bytes += entries[cursor - start]!.length;
      if (bytes > budgetBytes && candidate !== ends[0]) break;
      end = candidate;
    }
    return {
      origin,
      verifierKey: log.verifierKey,
      start,
      entries: entries.slice(0, end - start),
      checkpoint: log.checkpoints.find((c) => c.size === end)!.note,
      proof: start > 0 ? log.tree.consistencyProof(start, end) : [],
    };
  }

  /**
   * Verifies a batch of any log (see src/ledger/log-batch.ts) and stores what is new.
   * Refuses bad batches with BatchRejectedError; never stores part of a batch.
   */
  applyBatch(batch: LogBatch): Promise<ApplyOutcome> {
    return this.#exclusive(batch.origin, async () => {
      if (this.#closed) throw new KernelClosedError('kernel is closed');
      const flag = this.#flags.get(batch.origin);
      if (flag && batch.start + batch.entries.length > flag.forkSize)
        return { status: 'refused-flagged' as const, forkSize: flag.forkSize };
      // Every log found damaged on open is under repair until it is replaced.
      const repair = this.#repairs.get(batch.origin);
      if (repair) return this.#repairWith(repair, batch);
      const writer = this.#writers.get(batch.origin);
      if (writer?.failure && writer.pendingCount >= this.#maxUnwritten) {
        writer.retry();
        return { status: 'refused-unwritable' as const, reason: writer.failure.message };
      }
      let log = this.#logs.get(batch.origin);
      const plan = await planBatch(log, batch);
      if (plan.status !== 'append') return plan;
      if (!log) {
        const head = { origin: batch.origin, verifierKey: batch.verifierKey, size: 0 };
        await this.#store.createLog(head);
        log = new VerifiedLog(batch.origin, nodeIdOfOrigin(batch.origin)!, plan.verifier, batch.verifierKey, new MerkleTree(), []);
        this.#logs.set(batch.origin, log);
      }
      stageBatch(log, batch, plan);
      const end = batch.start + batch.entries.length;
      const checkpoint = { size: end, note: batch.checkpoint };
      const fresh = batch.entries.slice(plan.from - batch.start);
      if (batch.origin === this.origin) {
        // The node's own log (restored from a peer) must be durable before it is used:
        // losing it after a power cut could make this node sign a fork.
        try {
          await this.#store.append({ origin: batch.origin, start: plan.from, entries: fresh, checkpoint });
        } catch (error) {
          log.rollback();
          throw error;
        }
        // New entries are timed after the restored ones.
        this.#clockAfter(plan.decoded[plan.decoded.length - 1]!.time);
      } else {
        // A verified replica is used at once and written behind (relaxed durability, in
        // order): peers see it without waiting for IndexedDB, and if the write is lost it
        // can be fetched again. Reads of unwritten entries are served from memory.
        this.#writeBehind(batch.origin, { origin: batch.origin, start: plan.from, entries: fresh, checkpoint, durability: 'relaxed' });
      }
      log.commit(checkpoint, plan.decoded[plan.decoded.length - 1]!.time);
      const added: ViewEntry[] = [];
      plan.decoded.forEach((entry, i) => {
        if (batch.start + i >= plan.from) added.push(viewEntry(entry, entryId(batch.entries[i]!)));
      });
      for (const view of added) this.#view.apply(view);
      this.#emit({ origin: log.origin, size: log.size, root: toHex(log.root()) }, added);
      for (const view of added) if (view.kind === EQUIVOCATION_KIND) await this.#acceptRecord(view, batch.origin);
      return { status: 'applied' as const, size: end };
    });
  }

  /**
   * Adds a batch to the copy of a damaged log (checked exactly as for a log not held
   * yet); once the copy holds `need` entries, it atomically replaces the damaged records
   * in the store and the log is in use again. A failed replace keeps the copy, and the
   * next batch tries again.
   */
  async #repairWith(repair: Repair, batch: LogBatch): Promise<ApplyOutcome> {
    const plan = await planBatch(repair.log, batch);
    // A batch already in the copy can still retry a replace that failed.
    if (plan.status === 'gap' || (plan.status === 'duplicate' && (repair.log?.size ?? 0) < repair.need)) return plan;
    if (plan.status === 'append') {
      const log =
        repair.log ?? new VerifiedLog(batch.origin, nodeIdOfOrigin(batch.origin)!, plan.verifier, batch.verifierKey, new MerkleTree(), []);
      stageBatch(log, batch, plan);
      log.commit({ size: batch.start + batch.entries.length, note: batch.checkpoint }, plan.decoded[plan.decoded.length - 1]!.time);
      repair.log = log;
      plan.decoded.forEach((entry, i) => {
        if (batch.start + i < plan.from) return;
        repair.entries.push(batch.entries[i]!.slice());
        repair.views.push(viewEntry(entry, entryId(batch.entries[i]!)));
      });
    }
    const log = repair.log!;
    if (log.size < repair.need) return { status: 'applied', size: log.size };
    const head = { origin: log.origin, verifierKey: log.verifierKey, size: log.size };
    await this.#store.replaceLog({ head, entries: repair.entries, checkpoints: log.checkpoints });
    this.#repairs.delete(log.origin);
    const damaged = this.#damaged.findIndex((d) => d.origin === log.origin);
    const problems = damaged >= 0 ? this.#damaged.splice(damaged, 1)[0]!.problems : [];
    this.#repaired.push({ origin: log.origin, problems, size: log.size });
    this.#logs.set(log.origin, log);
    if (log.origin === this.origin) this.#clockAfter(decodeEntry(repair.entries[repair.entries.length - 1]!).time);
    for (const view of repair.views) this.#view.apply(view);
    this.#emit({ origin: log.origin, size: log.size, root: toHex(log.root()) }, repair.views);
    for (const view of repair.views) if (view.kind === EQUIVOCATION_KIND) await this.#acceptRecord(view, log.origin);
    return { status: 'applied', size: log.size };
  }

  checkpoints(origin: string = this.origin): { size: number; note: string }[] {
    return this.#log(origin).checkpoints.map((c) => ({ ...c }));
  }

  /** Entries [start, end) of a log, decoded; each re-checked against the verified tree. */
  async entries(start: number, end: number, origin: string = this.origin): Promise<EntryView[]> {
    const log = this.#log(origin);
    const from = Math.max(0, Math.floor(start));
    const to = Math.min(log.size, Math.floor(end));
    if (!(to > from)) return [];
    const raw = await this.readEntryBytes(from, to, origin);
    return raw.map((bytes, i) => {
      const entry = decodeEntry(bytes);
      return { index: from + i, id: entryId(bytes), kind: entry.kind, author: entry.author, time: entry.time, payload: entry.payload };
    });
  }

  /** Raw entry bytes [start, end), each checked against the verified leaf hash. */
  async readEntryBytes(start: number, end: number, origin: string = this.origin): Promise<Uint8Array[]> {
    const log = this.#log(origin);
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end > log.size || start > end) {
      throw new RangeError(`entries ${start}..${end} are not within 0..${log.size} of ${origin}`);
    }
    // Entries still being written behind are served from memory.
    const writer = this.#writers.get(origin);
    const stored = writer ? Math.min(end, writer.persisted) : end;
    const pending = writer && end > stored ? writer.pendingEntries(Math.max(start, stored), end) : [];
    const raw = [...(stored > start ? await this.#store.readEntries(origin, start, stored) : []), ...pending];
    if (raw.length !== end - start) {
      throw new LedgerIntegrityError(origin, [{ where: `entry ${start + raw.length}`, what: 'missing from the store after load' }]);
    }
    raw.forEach((bytes, i) => {
      if (!bytesEqual(leafHash(bytes), log.tree.leafHash(start + i))) {
        throw new LedgerIntegrityError(origin, [{ where: `entry ${start + i}`, what: 'changed in the store after it was verified' }]);
      }
    });
    return raw;
  }

  proveInclusion(index: number, size?: number, origin: string = this.origin): InclusionProofView {
    const log = this.#log(origin);
    const treeSize = size ?? log.size;
    if (!Number.isSafeInteger(treeSize) || treeSize > log.size || treeSize < 1) {
      throw new RangeError(`size ${treeSize} is not within 1..${log.size} of ${origin}`);
    }
    return {
      origin,
      index,
      size: treeSize,
      leafHash: toHex(log.tree.leafHash(index)),
      proof: log.tree.inclusionProof(index, treeSize).map(toHex),
      root: toHex(log.root(treeSize)),
    };
  }

  proveConsistency(size1: number, size2?: number, origin: string = this.origin): ConsistencyProofView {
    const log = this.#log(origin);
    const to = size2 ?? log.size;
    if (!Number.isSafeInteger(to) || to > log.size) throw new RangeError(`size ${to} is beyond ${origin}'s ${log.size} entries`);
    return {
      origin,
      size1,
      size2: to,
      root1: toHex(log.root(size1)),
      root2: toHex(log.root(to)),
      proof: log.tree.consistencyProof(size1, to).map(toHex),
    };
  }

  /**
   * Writes `value` under `key` in the shared derived state (a `set` entry whose base is
   * the write this node currently sees for the key). Concurrent writes to one key by
   * different nodes resolve the same way everywhere and show up in drift().
   */
  set(key: string, value: unknown): Promise<AppendResult> {
    try {
      const payload = parseSetPayload({ key, value, base: this.#view.get(key)?.id ?? null });
      return this.append(payload, { kind: SET_KIND });
    } catch (error) {
      return Promise.reject(asError(error));
    }
  }

  /** The derived state: every key with its winning write, sorted by key. */
  state(): KeyValue[] {
    return this.#view.entries();
  }

  /** Conflicting concurrent writes found in the held logs, with their resolution. */
  drift(): DriftEvent[] {
    return this.#view.drift();
  }

  /** The newest `limit` entries of all held logs in (time, author, seq) order. */
  timeline(limit = 100): ViewEntry[] {
    return this.#view.timeline(limit);
  }

  /** Hash of the derived state; equal on nodes holding equal entries. */
  viewDigest(): string {
    return this.#view.digest();
  }

  /**
   * Calls `listener` with the entries each own append or applied replication batch added
   * (in log order; entries loaded at open are in timeline()). Returns the unsubscribe function.
   */
  onEntries(listener: (entries: readonly ViewEntry[]) => void): () => void {
    this.#entryListeners.add(listener);
    return () => this.#entryListeners.delete(listener);
  }

  /** Calls `listener` with the new head whenever a held log grows. Returns the unsubscribe function. */
  onChange(listener: (head: Head) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Calls `listener` with each batch of the own log as soon as it is signed, while its
   * strict write runs — so that the message carrying it to peers can be made ready
   * meanwhile, and sent the moment `written` resolves (never before: a sent entry that a
   * crash then lost here would make this node sign a fork). Returns the unsubscribe function.
   */
  onStaged(listener: (staged: StagedBatch) => void): () => void {
    this.#stagedListeners.add(listener);
    return () => this.#stagedListeners.delete(listener);
  }

  // ---- equivocation (F11) ---------------------------------------------------------

  /** Authors proven to have signed two histories, with the proof; sorted by origin. */
  flagged(): FlaggedLog[] {
    return [...this.#flags.values()].sort((a, b) => (a.origin < b.origin ? -1 : 1)).map((flag) => ({ ...flag }));
  }

  /** Calls `listener` once for every author newly flagged (for alerts). Returns the unsubscribe function. */
  onFlag(listener: (flag: FlaggedLog) => void): () => void {
    this.#flagListeners.add(listener);
    return () => this.#flagListeners.delete(listener);
  }

  /**
   * Compares a signed checkpoint of a held log, at a size this node holds, with its own
   * copy. If the roots differ the author signed two histories, and the returned record
   * (this node's latest checkpoint, the other one, and when the sizes differ a
   * consistency proof from its own tree) proves it. Undefined when the checkpoint is
   * consistent with the copy, beyond it, or not signed by the log's key.
   */
  async checkAgainstHeld(head: { readonly verifierKey: string; readonly checkpoint: string }): Promise<Equivocation | undefined> {
    let checkpoint;
    try {
      checkpoint = await openCheckpoint(head.checkpoint, parseVerifierKey(head.verifierKey));
    } catch {
      return undefined;
    }
    const log = this.#logs.get(checkpoint.origin);
    const latest = log?.latestCheckpoint;
    if (!log || !latest || log.verifierKey !== head.verifierKey || checkpoint.size > log.size) return undefined;
    if (bytesEqual(log.root(checkpoint.size), checkpoint.root)) return undefined;
    return makeEquivocation({
      origin: log.origin,
      verifierKey: log.verifierKey,
      notes: [
        { note: latest.note, size: latest.size },
        { note: head.checkpoint, size: checkpoint.size },
      ],
      ...(checkpoint.size < latest.size && checkpoint.size > 0
        ? { consistency: { root: log.root(checkpoint.size), proof: log.tree.consistencyProof(checkpoint.size, latest.size) } }
        : {}),
    });
  }

  /**
   * For a batch refused as a fork beyond the held size (its entries differ from the held
   * ones, and with the held prefix they give the root its checkpoint signs — see
   * planBatch): the record proving it, built on the history the batch claims (this
   * node's latest checkpoint; the batch's; the claimed tree's root at this node's size
   * and its consistency proof to the batch's). Undefined if the batch does not prove one.
   */
  evidenceFromBatch(batch: LogBatch): Promise<Equivocation | undefined> {
    return this.#exclusive(batch.origin, () => this.#evidenceFromBatch(batch));
  }

  async #evidenceFromBatch(batch: LogBatch): Promise<Equivocation | undefined> {
    const log = this.#logs.get(batch.origin);
    const latest = log?.latestCheckpoint;
    if (!log || !latest || log.verifierKey !== batch.verifierKey) return undefined;
    const end = batch.start + batch.entries.length;
    if (end <= log.size) return this.checkAgainstHeld(batch);
    if (batch.start >= log.size) return undefined;
    let signed;
    try {
      signed = await openCheckpoint(batch.checkpoint, parseVerifierKey(batch.verifierKey));
    } catch {
      return undefined;
    }
    if (signed.size !== end) return undefined;
    // Swap the batch's entries in for ours on the log's own tree, read what is needed,
    // and restore it — synchronously, so nothing else sees the tree meanwhile.
    const tree = log.tree;
    const held = log.size;
    const kept = Array.from({ length: tree.size - batch.start }, (_, i) => tree.leafHash(batch.start + i));
    let claimed: { root: Uint8Array; proof: Uint8Array[] } | undefined;
    tree.truncate(batch.start);
    try {
      for (const entry of batch.entries) tree.appendData(entry);
      if (bytesEqual(tree.root(), signed.root)) claimed = { root: tree.root(held), proof: tree.consistencyProof(held, end) };
    } finally {
      tree.truncate(batch.start);
      for (const hash of kept) tree.appendLeafHash(hash);
    }
    if (!claimed || bytesEqual(claimed.root, log.root(held))) return undefined;
    return makeEquivocation({
      origin: log.origin,
      verifierKey: log.verifierKey,
      notes: [
        { note: latest.note, size: latest.size },
        { note: batch.checkpoint, size: end },
      ],
      consistency: claimed,
    });
  }

  /**
   * Verifies an equivocation record (verifyEquivocation; EvidenceError if it proves
   * nothing), flags its author, and — unless a held ledger already records an
   * equivocation of that author — appends it to this node's own log (entry kind
   * `naos.equivocation`), so the proof replicates with the ledger and the flag survives
   * restarts. `known` when the author was already flagged.
   */
  async recordEquivocation(evidence: unknown): Promise<{ status: 'new' | 'known'; flag: FlaggedLog }> {
    const verified = await verifyEquivocation(evidence);
    const known = this.#flags.get(verified.origin);
    if (known) return { status: 'known', flag: { ...known } };
    this.#flag(verified);
    if (!this.#evidenceRecords.has(verified.origin) && !this.#closed && this.#logs.has(this.origin)) {
      const writing = this.#writeEvidence(verified);
      // Right after open the write waits for a peer (awaitPeersUntil), which the sync engine
      // calling this may be the one to report: then it is written in the background.
      if (!this.#peerWait) await writing;
    }
    return { status: 'new', flag: { ...this.#flags.get(verified.origin)! } };
  }

  async #writeEvidence(verified: VerifiedEquivocation): Promise<void> {
    try {
      const [result] = await this.appendEntries([{ kind: EQUIVOCATION_KIND, value: verified.evidence }]);
      if (!this.#evidenceRecords.has(verified.origin))
        this.#evidenceRecords.set(verified.origin, { origin: this.origin, index: result!.index });
      this.#flags.set(verified.origin, { ...this.#flags.get(verified.origin)!, record: this.#evidenceRecords.get(verified.origin)! });
    } catch {
      // Not writable (closed, own log damaged): the flag holds for this run; peers that
      // recorded the proof will bring it back.
    }
  }

  /** An equivocation record found in a verified log (loaded or replicated): flags the author if it proves one. */
  async #acceptRecord(entry: ViewEntry, origin: string): Promise<void> {
    let verified;
    try {
      verified = await verifyEquivocation(entry.payload);
    } catch (error) {
      // A record that proves nothing is just an entry; it flags no one.
      if (error instanceof EvidenceError) return;
      throw error;
    }
    if (!this.#evidenceRecords.has(verified.origin)) this.#evidenceRecords.set(verified.origin, { origin, index: entry.seq });
    const flag = this.#flags.get(verified.origin);
    if (flag) {
      if (!flag.record) this.#flags.set(verified.origin, { ...flag, record: this.#evidenceRecords.get(verified.origin)! });
      return;
    }
    this.#flag(verified);
  }

  #flag(verified: VerifiedEquivocation): void {
    const record = this.#evidenceRecords.get(verified.origin);
    const flag: FlaggedLog = {
      origin: verified.origin,
      author: verified.author,
      forkSize: verified.forkSize,
      evidenceId: verified.id,
      detail: verified.detail,
      evidence: verified.evidence,
      ...(record ? { record } : {}),
    };
    this.#flags.set(verified.origin, flag);
    callEach(this.#flagListeners, () => ({ ...flag }));
  }

  /** Waits for queued appends, then closes the store. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.notePeerChecked();
    await this.#draining;
    await this.writeReplicasNow();
    for (const writer of this.#writers.values()) writer.stop();
    await this.#store.close();
  }

  /**
   * Starts the store writes of every replica batch waiting for its scheduled time (and
   * retries failed ones) now — for a tab about to be hidden or closed. Resolves once no
   * write is running; what failed stays in unpersisted().
   */
  async writeReplicasNow(): Promise<void> {
    await Promise.all([...this.#writers.values()].map((writer) => writer.idle()));
  }

  /** Replica entries verified and in use but not yet written (they are being written, or the write failed and waits for a retry). */
  unpersisted(): UnpersistedLog[] {
    return [...this.#writers]
      .filter(([, writer]) => writer.pendingCount > 0)
      .map(([origin, writer]) => ({
        origin,
        entries: writer.pendingCount,
        ...(writer.failure ? { failure: writer.failure.message } : {}),
      }));
  }

  #writeBehind(origin: string, batch: AppendBatch): void {
    let writer = this.#writers.get(origin);
    if (!writer) {
      writer = new WriteBehind(this.#store, batch.start, this.#scheduleReplicaWrite, this.#scheduleReplicaRetry);
      this.#writers.set(origin, writer);
    }
    writer.push(batch);
  }

  #sortedLogs(): VerifiedLog[] {
    return [...this.#logs.values()].sort((a, b) => (a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : 0));
  }

  #log(origin: string): VerifiedLog {
    const log = this.#logs.get(origin);
    if (log) return log;
    const damaged = this.#damaged.find((d) => d.origin === origin);
    if (damaged) throw new LedgerIntegrityError(origin, damaged.problems);
    throw new UnknownLogError(`this node holds no log ${JSON.stringify(origin)}`);
  }

  #ownBehind(): boolean {
    return this.heldSize(this.origin) < this.#ownSigned;
  }

  #ownLog(): VerifiedLog {
    if (this.#closed) throw new KernelClosedError('kernel is closed');
    return this.#log(this.origin);
  }

  async #createOwnLog(): Promise<void> {
    const note = await signCheckpoint({ origin: this.origin, size: 0, root: EMPTY_ROOT, extensions: [] }, this.#signer);
    const head = { origin: this.origin, verifierKey: this.verifierKey, size: 0 };
    await this.#store.createLog(head, { size: 0, note });
    this.#logs.set(this.origin, await loadVerifiedLog(this.#store, head, { expectedPublicKey: this.#signer.publicKey }));
  }

  /** The clock continues after the last entry written, even if the wall clock went back. */
  async #restoreClock(log: VerifiedLog): Promise<void> {
    if (log.size === 0) return;
    const [last] = await this.#store.readEntries(log.origin, log.size - 1, log.size);
    if (last) this.#clockAfter(decodeEntry(last).time);
  }

  /** Moves the clock to `time` of an own entry, if it is later (entries restored from peers). */
  #clockAfter(time: Hlc): void {
    if (hlcCompare(time, this.#clock) > 0) this.#clock = time;
  }

  async #drain(): Promise<void> {
    // Let callers in the same tick join the first batch.
    await Promise.resolve();
    // Right after open: a peer may prove first that this node signed more than it holds.
    await this.#peerWait?.heard;
    while (this.#pending.length > 0) {
      const groups: PendingGroup[] = [];
      let count = 0;
      while (this.#pending.length > 0 && (groups.length === 0 || count + this.#pending[0]!.items.length <= this.#maxBatch)) {
        const group = this.#pending.shift()!;
        groups.push(group);
        count += group.items.length;
      }
      await this.#exclusive(this.origin, () => this.#commit(groups));
    }
    this.#draining = undefined;
  }

  /** Encodes, stages, signs and writes one batch; undoes the staging if the write fails. */
  async #commit(groups: PendingGroup[]): Promise<void> {
    let log: VerifiedLog;
    try {
      // Not #ownLog(): appends queued before close() still complete.
      log = this.#log(this.origin);
    } catch (error) {
      for (const group of groups) group.reject(error);
      return;
    }
    const start = log.size;
    if (start < this.#ownSigned) {
      const error = new OwnLogBehindError(
        `this node signed ${this.#ownSigned} entries of its log, its store holds ${start}: they are being restored from peers, and nothing new is signed before (that would be a fork)`,
      );
      for (const group of groups) group.reject(error);
      return;
    }
    const accepted: { group: PendingGroup; results: AppendResult[] }[] = [];
    const bytes: Uint8Array[] = [];
    const views: ViewEntry[] = [];
    for (const group of groups) {
      // A group that cannot be encoded (e.g. too large) fails alone, before staging.
      try {
        let clock = this.#clock;
        const entries = group.items.map((item, i): Entry => {
          clock = hlcTick(clock, this.#now());
          return { v: 1, kind: item.kind, author: this.nodeId, seq: start + bytes.length + i, time: clock, payload: item.payload };
        });
        const encoded = entries.map(encodeEntry);
        const ids = encoded.map(entryId);
        this.#clock = clock;
        accepted.push({ group, results: encoded.map((_, i) => ({ index: start + bytes.length + i, id: ids[i]! })) });
        entries.forEach((entry, i) => views.push(viewEntry(entry, ids[i]!)));
        bytes.push(...encoded);
      } catch (error) {
        group.reject(error instanceof TypeError ? new InvalidInputError(error.message, { cause: error }) : error);
      }
    }
    if (bytes.length === 0) return;
    try {
      for (const b of bytes) log.tree.appendData(b);
      const size = log.tree.size;
      const note = await signCheckpoint({ origin: this.origin, size, root: log.tree.root(size), extensions: [] }, this.#signer);
      const write = this.#store.append({ origin: this.origin, start, entries: bytes, checkpoint: { size, note } });
      this.#stage(log, start, bytes, note, write);
      // Awaited after the staged listeners were given it: their reactions to the write (the
      // REPLICATE leaving) run before the bookkeeping below.
      await write;
      log.commit({ size, note }, views[views.length - 1]!.time);
    } catch (error) {
      log.rollback();
      for (const { group } of accepted) group.reject(error);
      return;
    }
    this.#keepOwnTail(start, bytes);
    for (const view of views) this.#view.apply(view);
    for (const { group, results } of accepted) group.resolve(results);
    this.#emit({ origin: this.origin, size: log.size, root: toHex(log.root()) }, views);
  }

  /**
   * Own entries [start, end) if all of them are still in memory. Used for batches pushed
   * or served to peers right after a commit; entries() always reads (and re-checks) the
   * store, so a store changed under a running node is still caught there.
   */
  #fromOwnTail(origin: string, start: number, end: number): Uint8Array[] | undefined {
    const tail = this.#ownTail;
    if (origin !== this.origin || start < tail.start || end > tail.start + tail.entries.length) return undefined;
    return tail.entries.slice(start - tail.start, end - tail.start);
  }

  #keepOwnTail(start: number, entries: readonly Uint8Array[]): void {
    let tail = this.#ownTail;
    if (start !== tail.start + tail.entries.length) tail = { start, entries: [], bytes: 0 };
    for (const bytes of entries) {
      tail.entries.push(bytes);
      tail.bytes += bytes.length;
    }
    let drop = 0;
    while (tail.bytes > OWN_TAIL_BYTES && drop < tail.entries.length) tail.bytes -= tail.entries[drop++]!.length;
    if (drop > 0) tail = { start: tail.start + drop, entries: tail.entries.slice(drop), bytes: tail.bytes };
    this.#ownTail = tail;
  }

  #exclusive<T>(origin: string, action: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(origin) ?? Promise.resolve();
    const run = previous.then(action, action);
    const tail = run.catch(() => undefined);
    this.#locks.set(origin, tail);
    void tail.then(() => {
      if (this.#locks.get(origin) === tail) this.#locks.delete(origin);
    });
    return run;
  }

  #emit(head: Head, added: readonly ViewEntry[]): void {
    callEach(this.#entryListeners, () => added);
    callEach(this.#listeners, () => head);
  }

  /**
   * Tells onStaged listeners of an own batch whose write (`write`) has started. Never
   * throws: the write is under way and must be awaited whatever happens here (staging only
   * saves time; the push after the write sends the batch anyway).
   */
  #stage(log: VerifiedLog, start: number, entries: readonly Uint8Array[], checkpoint: string, write: Promise<void>): void {
    if (this.#stagedListeners.size === 0) return;
    try {
      const size = start + entries.length;
      const proof = start > 0 ? log.tree.consistencyProof(start, size) : [];
      const batch: LogBatch = { origin: this.origin, verifierKey: log.verifierKey, start, entries, checkpoint, proof };
      callEach(this.#stagedListeners, () => ({ batch, written: write }));
    } catch {
      // As said: nothing staged.
    }
  }
}

/** Calls every listener with `value()`; a failing listener must not stop the kernel or the other listeners. */
function callEach<T>(listeners: ReadonlySet<(value: T) => void>, value: () => T): void {
  for (const listener of listeners) {
    try {
      listener(value());
    } catch {
      // Ignored, as said.
    }
  }
}

function viewEntry(entry: Entry, id: string): ViewEntry {
  return { id, author: entry.author, seq: entry.seq, time: entry.time, kind: entry.kind, payload: entry.payload };
}

/**
 * The in-order write queue of one replica log: batches are written one at a time, in
 * order; a failed write keeps its batch (and all later ones) queued, and the next push
 * retries from there. `persisted` is the size known to be in the store.
 */
class WriteBehind {
  persisted: number;
  failure: Error | undefined;
  readonly #queue: AppendBatch[] = [];
  readonly #schedule: (write: () => void) => void;
  readonly #scheduleRetry: ((retry: () => void) => void) | undefined;
  #running: Promise<void> | undefined;
  #scheduled = false;
  #retryScheduled = false;
  #stopped = false;

  constructor(
    readonly store: LedgerStore,
    persisted: number,
    schedule: (write: () => void) => void,
    scheduleRetry?: (retry: () => void) => void,
  ) {
    this.persisted = persisted;
    this.#schedule = schedule;
    this.#scheduleRetry = scheduleRetry;
  }

  get pendingCount(): number {
    return this.#queue.reduce((n, batch) => n + batch.entries.length, 0);
  }

  /** Queues a batch; its write starts when the schedule says (one pass writes whatever queued by then). */
  push(batch: AppendBatch): void {
    this.#queue.push(batch);
    if (this.#running || this.#scheduled) return;
    this.#scheduled = true;
    this.#schedule(() => {
      this.#scheduled = false;
      this.retry();
    });
  }

  /** Starts writing the queue now unless a write is running (or the writer was stopped). */
  retry(): void {
    if (this.#queue.length > 0 && !this.#stopped) this.#running ??= this.#flush();
  }

  /** No write starts from now on (the store is closing); what is queued stays unwritten. */
  stop(): void {
    this.#stopped = true;
  }

  /** Entries [start, end) from the queue; requires persisted ≤ start ≤ end ≤ persisted + pendingCount. */
  pendingEntries(start: number, end: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const batch of this.#queue) {
      for (let i = 0; i < batch.entries.length; i++) {
        const index = batch.start + i;
        if (index >= start && index < end) out.push(batch.entries[i]!);
      }
    }
    return out;
  }

  /** Writes what is queued now (not waiting for the schedule) and resolves when the writer is idle. */
  async idle(): Promise<void> {
    this.retry();
    await this.#running;
  }

  async #flush(): Promise<void> {
    while (this.#queue.length > 0) {
      // Whatever queued up while waiting goes in one write: each IndexedDB transaction costs
      // the browser ≈0.4 ms of CPU, and more as an origin's database grows (docs/SYNC.md).
      const { batch, merged } = mergeContiguous(this.#queue);
      try {
        await this.store.append(batch);
      } catch (error) {
        this.failure = asError(error);
        break;
      }
      this.#queue.splice(0, merged);
      this.persisted = batch.checkpoint.size;
      this.failure = undefined;
    }
    this.#running = undefined;
    if (this.failure && this.#scheduleRetry && !this.#retryScheduled) {
      this.#retryScheduled = true;
      this.#scheduleRetry(() => {
        this.#retryScheduled = false;
        this.retry();
      });
    }
  }
}

/** At most this many entries, and about this many bytes, in one merged replica write. */
const MERGED_WRITE_ENTRIES = 4096;
const MERGED_WRITE_BYTES = 4 * 1024 * 1024;

/**
 * The first batch of `queue` and those that continue it (same durability, each starting
 * where the one before ended) as one batch carrying every checkpoint, up to the limits
 * above; `merged` says how many batches it covers.
 */
function mergeContiguous(queue: readonly AppendBatch[]): { batch: AppendBatch; merged: number } {
  const first = queue[0]!;
  const entries = [...first.entries];
  const checkpoints = [...batchCheckpoints(first)];
  let bytes = totalLength(first.entries);
  let merged = 1;
  for (const next of queue.slice(1)) {
    const nextBytes = totalLength(next.entries);
    const continues = next.origin === first.origin && next.start === checkpoints.at(-1)!.size && next.durability === first.durability;
    if (!continues || entries.length + next.entries.length > MERGED_WRITE_ENTRIES || bytes + nextBytes > MERGED_WRITE_BYTES) break;
    entries.push(...next.entries);
    checkpoints.push(...batchCheckpoints(next));
    bytes += nextBytes;
    merged++;
  }
  if (merged === 1) return { batch: first, merged };
  const checkpoint = checkpoints.pop()!;
  return { batch: { ...first, entries, checkpoint, earlierCheckpoints: checkpoints }, merged };
}
