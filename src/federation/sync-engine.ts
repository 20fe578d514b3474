import { fromHex, toHex, utf8 } from '../bytes.js';
import { type Signer, verifyEd25519 } from '../crypto/ed25519.js';
import { sha256 } from '../crypto/sha256.js';
import { asError, NaosError } from '../errors.js';
import { nodeIdFromPublicKey } from '../identity/node-id.js';
import type { FlaggedLog } from '../kernel/api.js';
import type { ApplyOutcome, LogAdvert, StagedBatch } from '../kernel/kernel.js';
import { openCheckpoint } from '../ledger/checkpoint.js';
import { type Equivocation, EvidenceError, makeEquivocation } from '../ledger/equivocation.js';
import { BatchRejectedError, type LogBatch } from '../ledger/log-batch.js';
import { parseVerifierKey } from '../ledger/note.js';
import {
  type Body,
  decodeEnvelope,
  decodeManifest,
  encodeEnvelope,
  type Envelope,
  type HaveRecord,
  type HeadAdvert,
  type Manifest,
  MessageDecodeError,
  signingBytes,
  type TrustLevel,
  type UnsignedEnvelope,
} from './messages.js';
import { RateLimiter } from './rate-limit.js';
import { ReplayWindow } from './replay-window.js';

/**
 * The Merkle-gossip sync protocol of one node (F8, F9, F13). Transport-free: bytes come in
 * through `receive`, go out through the injected `send`; time comes from the injected
 * clock and `tick` drives heartbeats and timeouts. The node's logs are reached through
 * SyncHost (the Kernel), which verifies every batch before storing it.
 *
 * Reconciliation between two nodes:
 *  1. each HEARTBEAT carries the sender's state root (one hash over all its log heads);
 *  2. a node whose root differs asks that peer for heads, sending a compact list of what
 *     it holds (8-byte log hash + size per log); the peer answers with the signed
 *     checkpoints of just the logs it is ahead on;
 *  3. for each of those the node requests entries from its own size on, in checkpoint-
 *     aligned batches with a consistency proof, until it has caught up.
 * New local entries are pushed at once as REPLICATE to every peer. See docs/SYNC.md for
 * the cost bound.
 */

export interface SyncHost {
  readonly nodeId: string;
  adverts(): LogAdvert[];
  /**
   * Entries held of a log (0 if none): what adverts() says of it, without building them
   * all — or, for a damaged log being repaired, what its verified copy holds so far.
   */
  heldSize(origin: string): number;
  /** Hex state root over all held logs. */
  stateRoot(): string;
  readBatch(origin: string, start: number, budgetBytes: number): Promise<LogBatch | undefined>;
  applyBatch(batch: LogBatch): Promise<ApplyOutcome>;
  /**
   * A peer holds a checkpoint, verified against the host's own key, of the host's own log
   * at a size larger than it holds: the host must not sign at those positions again.
   */
  noteOwnCheckpoint(size: number): void;
  /** A peer's logs have been compared with ours (equal state roots, or its heads checked). */
  notePeerChecked(): void;
  onChange(listener: (head: { origin: string; size: number; root: string }) => void): () => void;
  /**
   * Own batches as soon as they are signed, while their strict write runs (optional): the
   * engine signs their REPLICATE meanwhile and sends it once the write is done.
   */
  onStaged?(listener: (staged: StagedBatch) => void): () => void;
  // Equivocation (F11); see docs/SYNC.md.
  /** Authors proven to have equivocated: their logs are no longer synced. */
  flagged(): readonly FlaggedLog[];
  /** The proof, if a signed checkpoint at a size held contradicts the held copy. */
  checkAgainstHeld(head: HeadAdvert): Promise<Equivocation | undefined>;
  /** The proof, if a batch refused as a fork is one (the author signed the history it claims). */
  evidenceFromBatch(batch: LogBatch): Promise<Equivocation | undefined>;
  /** Verifies a proof (EvidenceError if it proves nothing), flags the author and records the proof in the ledger. */
  recordEquivocation(evidence: Equivocation): Promise<{ status: 'new' | 'known'; flag: FlaggedLog }>;
  /** The held copy's root at `size1` (hex) and the consistency proof to `size2`. */
  proveConsistency(size1: number, size2: number, origin: string): { readonly root1: string; readonly proof: readonly string[] };
}

export interface SyncOptions {
  readonly host: SyncHost;
  readonly signer: Signer;
  readonly manifest: Manifest;
  /** Wall clock in ms (injected). */
  readonly now: () => number;
  /** Randomness for the session nonce (injected). */
  readonly randomBytes: (length: number) => Uint8Array;
  /** Hands bytes to the transports: to one node (`to`) or to every peer. */
  readonly send: (bytes: Uint8Array, to?: string) => void;
  /** Heartbeat period while roots differ or ours changed (default 1 s); twice that while all agree. */
  readonly heartbeatMs?: number;
  /** A peer not heard from for this long is considered gone. */
  readonly peerTimeoutMs?: number;
  /** A request not answered within this long is forgotten (and may be retried). */
  readonly requestTimeoutMs?: number;
  /** Soft size limit of one batch message. */
  readonly batchBudgetBytes?: number;
  /** Messages per second accepted from one sender (burst: 4× that). */
  readonly messagesPerSecond?: number;
  /** Push new local entries to peers as they are written (default true). */
  readonly pushAppends?: boolean;
  /** How many recent message digests are remembered to drop exact duplicates (default 4096). */
  readonly duplicateCacheSize?: number;
}

export interface PeerView {
  readonly nodeId: string;
  readonly manifest?: Manifest;
  /** Trust level we grant (F26): every node starts as `experimental`, whatever it claims. */
  readonly trust: TrustLevel;
  readonly stateRoot: string;
  readonly logs: number;
  readonly health: { readonly uptimeMs?: number; readonly latencyMs?: number; readonly lastSeen: number };
  readonly rejected: number;
  /** The peer signed two histories of its log (F11): see flagged() for the proof. */
  readonly flagged: boolean;
}

export interface RejectionView {
  /** A node id for signed messages, `link:<id>` for bytes whose sender is unknown. */
  readonly sender: string;
  readonly reason: string;
  readonly count: number;
}

/**
 * A log's author signed two checkpoints that cannot both be true (F11), as this engine
 * found or was told it (proven: the record is in flagged()).
 */
export interface ForkEvidence {
  readonly origin: string;
  readonly reportedBy: string;
  readonly detail: string;
}

export interface TrafficStats {
  readonly messagesIn: number;
  readonly bytesIn: number;
  readonly messagesOut: number;
  readonly bytesOut: number;
  /** Entries in the batches received (REPLICATE and RESPONSE), whatever became of them. */
  readonly entriesIn: number;
  /** Of those, entries that were already held: work done twice (two sources, or a resend). */
  readonly entriesDuplicate: number;
}

export class SyncClosedError extends NaosError {}

interface PeerState {
  nodeId: string;
  manifest?: Manifest;
  stateRoot: string;
  logs: number;
  firstSeen: number;
  lastSeen: number;
  latencyMs?: number;
  /** Sizes the peer advertised per origin (from heads responses and pushes). */
  readonly sizes: Map<string, number>;
}

interface PendingRequest {
  readonly peer: string;
  readonly sentAt: number;
  readonly origin?: string;
  /** A consistency request: our latest checkpoint and the peer's that we could not reconcile. */
  readonly investigation?: Investigation;
}

interface Investigation {
  readonly origin: string;
  readonly verifierKey: string;
  readonly ours: { readonly note: string; readonly size: number };
  readonly theirs: { readonly note: string; readonly size: number };
}

/** Refusals that do not count against a peer's record: anyone can replay its messages. */
const NOT_HELD_AGAINST_PEER = new Set(['replay']);

export class SyncEngine {
  readonly nodeId: string;
  readonly #o: Required<Omit<SyncOptions, 'host' | 'signer' | 'manifest' | 'now' | 'randomBytes' | 'send'>> & SyncOptions;
  readonly #session: Uint8Array;
  #manifest: Manifest;
  #seq = 0;
  readonly #peers = new Map<string, PeerState>();
  readonly #windows = new Map<string, ReplayWindow>();
  readonly #rejections = new Map<string, number>();
  readonly #linkLimiter: RateLimiter;
  readonly #senderLimiter: RateLimiter;
  readonly #pending = new Map<number, PendingRequest>();
  /** Origins with an entries request in flight: one puller per log at a time. */
  readonly #pulling = new Map<string, number>();
  readonly #verifiedNotes = new Map<string, number>();
  readonly #recentDigests = new Set<string>();
  readonly #forks: ForkEvidence[] = [];
  /** Checkpoints already investigated as possible equivocations (peer + note), so each costs one request. */
  readonly #investigated = new Set<string>();
  #nextRequestId = 1;
  #headsInFlight: number | undefined;
  #lastHeartbeat = -Infinity;
  #lastBroadcastRoot = '';
  #announced = new Map<string, number>();
  #sendChain: Promise<void> = Promise.resolve();
  #pushChain: Promise<void> = Promise.resolve();
  #unsubscribe: (() => void)[] = [];
  #closed = false;
  readonly #traffic = { messagesIn: 0, bytesIn: 0, messagesOut: 0, bytesOut: 0, entriesIn: 0, entriesDuplicate: 0 };

  constructor(options: SyncOptions) {
    this.#o = {
      heartbeatMs: 1000,
      peerTimeoutMs: 5000,
      requestTimeoutMs: 2000,
      batchBudgetBytes: 1 << 18,
      messagesPerSecond: 500,
      pushAppends: true,
      duplicateCacheSize: 4096,
      ...options,
    };
    this.nodeId = options.host.nodeId;
    if (nodeIdFromPublicKey(options.signer.publicKey) !== this.nodeId) {
      throw new NaosError('the sync signer is not the host node key');
    }
    this.#session = options.randomBytes(8);
    this.#manifest = options.manifest;
    this.#linkLimiter = new RateLimiter(this.#o.messagesPerSecond * 2, this.#o.messagesPerSecond * 8);
    this.#senderLimiter = new RateLimiter(this.#o.messagesPerSecond, this.#o.messagesPerSecond * 4);
  }

  /** What this node says about itself now (the options' manifest, or the last one `announce`d). */
  get manifest(): Manifest {
    return this.#manifest;
  }

  /**
   * Says something new about this node (a capability gained at run time): every peer
   * hears the new manifest now, and later introductions carry it. A manifest peers would
   * refuse (decodeManifest) throws MessageDecodeError and changes nothing.
   */
  async announce(manifest: Manifest): Promise<void> {
    const checked = decodeManifest(manifest);
    this.#manifest = checked;
    if (!this.#closed) await this.#send({ type: 'ANNOUNCE', manifest: checked });
  }

  /** Announces the node and starts pushing local appends. */
  async start(): Promise<void> {
    for (const advert of this.#o.host.adverts()) {
      if (advert.origin === this.#ownOrigin()) this.#announced.set(advert.origin, advert.size);
    }
    if (this.#o.pushAppends) {
      this.#unsubscribe.push(
        this.#o.host.onChange((head) => {
          if (head.origin === this.#ownOrigin()) this.#queuePush(head.origin);
        }),
      );
      const staged = this.#o.host.onStaged?.((batch) => this.#pushStaged(batch));
      if (staged) this.#unsubscribe.push(staged);
    }
    await this.#send({ type: 'DISCOVER' });
    await this.#send({ type: 'ANNOUNCE', manifest: this.#manifest });
    await this.#heartbeat();
  }

  /** Messages and bytes handled so far (every transport together), for diagnostics and benchmarks. */
  traffic(): TrafficStats {
    return { ...this.#traffic };
  }

  /** Resolves when pushes and sends queued so far have been handed to `send`. */
  async settled(): Promise<void> {
    await this.#pushChain;
    await this.#sendChain;
  }

  close(): void {
    this.#closed = true;
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
  }

  /**
   * A transport has just linked `nodeId` (e.g. a new libp2p connection whose handshake
   * proved that node): send it our state root now instead of at the next heartbeat. Its
   * answer (ANNOUNCE on first contact, reconciliation if our roots differ) follows at once.
   */
  async greet(nodeId: string): Promise<void> {
    if (this.#closed || nodeId === this.nodeId) return;
    await this.#heartbeat(nodeId);
  }

  /** Call regularly (e.g. every 100–250 ms): heartbeats, peer expiry, request timeouts. */
  async tick(): Promise<void> {
    const now = this.#o.now();
    for (const [id, request] of this.#pending) {
      if (now - request.sentAt > this.#o.requestTimeoutMs) this.#finish(id);
    }
    for (const peer of this.#peers.values()) {
      if (now - peer.lastSeen > this.#o.peerTimeoutMs) this.#peers.delete(peer.nodeId);
    }
    const since = now - this.#lastHeartbeat;
    if (since >= this.#o.heartbeatMs && (since >= this.#quietHeartbeatMs() || !this.#settled())) await this.#heartbeat();
  }

  /**
   * The heartbeat period while nothing is to be reconciled: twice `heartbeatMs`, at most
   * half the peer timeout (so no peer expires us), so that idle tabs spend half as much on
   * signing and checking heartbeats.
   */
  #quietHeartbeatMs(): number {
    return Math.max(this.#o.heartbeatMs, Math.min(2 * this.#o.heartbeatMs, this.#o.peerTimeoutMs / 2));
  }

  /** Our state root is the one we last broadcast, and every peer has told us it holds the same. */
  #settled(): boolean {
    const root = this.#o.host.stateRoot();
    if (root !== this.#lastBroadcastRoot) return false;
    for (const peer of this.#peers.values()) if (peer.stateRoot !== root) return false;
    return true;
  }

  peers(): PeerView[] {
    const now = this.#o.now();
    const flagged = this.#flaggedOrigins();
    return [...this.#peers.values()]
      .sort((a, b) => (a.nodeId < b.nodeId ? -1 : 1))
      .map((p) => ({
        nodeId: p.nodeId,
        ...(p.manifest ? { manifest: p.manifest } : {}),
        trust: 'experimental' as const,
        stateRoot: p.stateRoot,
        logs: p.logs,
        health: {
          ...(p.manifest ? { uptimeMs: Math.max(0, now - p.manifest.started) } : {}),
          ...(p.latencyMs === undefined ? {} : { latencyMs: p.latencyMs }),
          lastSeen: p.lastSeen,
        },
        rejected: this.#rejectedCount(p.nodeId),
        flagged: flagged.has(`naos/${p.nodeId}`),
      }));
  }

  rejections(): RejectionView[] {
    return [...this.#rejections].map(([key, count]) => {
      const [sender, reason] = key.split('\u0000') as [string, string];
      return { sender, reason, count };
    });
  }

  forks(): ForkEvidence[] {
    return [...this.#forks];
  }

  /** Authors proven to have signed two histories (F11), with the proofs — for alerts. */
  flagged(): FlaggedLog[] {
    return [...this.#o.host.flagged()];
  }

  /**
   * Handles one message from a transport. `link` names where it came from (a transport
   * peer id, or the channel) and is what unauthenticated garbage is counted against.
   * Never throws for bad input: it is refused, counted and reported in the result.
   */
  async receive(bytes: Uint8Array, link = 'default'): Promise<{ accepted: boolean; reason?: string }> {
    this.#traffic.messagesIn++;
    this.#traffic.bytesIn += bytes.length;
    if (this.#closed) return { accepted: false, reason: 'closed' };
    const now = this.#o.now();
    if (!this.#linkLimiter.take(link, now)) return this.#reject(`link:${link}`, 'flood');
    // The same bytes over a second transport (or twice over one): drop before paying for
    // a decode and a signature check. Not a fault of anyone's, so not counted.
    const digest = toHex(sha256(bytes).subarray(0, 16));
    if (this.#recentDigests.has(digest)) return { accepted: false, reason: 'duplicate' };
    this.#recentDigests.add(digest);
    if (this.#recentDigests.size > this.#o.duplicateCacheSize) this.#recentDigests.delete(this.#recentDigests.values().next().value!);
    let envelope: Envelope;
    try {
      envelope = decodeEnvelope(bytes);
    } catch (error) {
      if (error instanceof MessageDecodeError) return this.#reject(`link:${link}`, `malformed:${error.reason}`);
      throw error;
    }
    // Identity first: a message "from us" under another key is an impersonation, not an echo.
    if (nodeIdFromPublicKey(envelope.key) !== envelope.from) return this.#reject(`link:${link}`, 'bad-identity');
    if (envelope.from === this.nodeId) return { accepted: false, reason: 'own-message' };
    const { sig, ...unsigned } = envelope;
    // A batch's checkpoint signature is checked later by the kernel; start that check now
    // so the two signature verifications run side by side (the result is shared).
    prefetchCheckpoint(envelope.body);
    if (!(await verifyEd25519(envelope.key, signingBytes(unsigned), sig))) return this.#reject(`link:${link}`, 'bad-signature');
    const sender = envelope.from;
    const windowKey = `${sender}/${toHex(envelope.session)}`;
    let window = this.#windows.get(windowKey);
    if (!window) {
      window = new ReplayWindow();
      this.#windows.set(windowKey, window);
      if (this.#windows.size > 4096) this.#windows.delete(this.#windows.keys().next().value!);
    }
    if (!window.accept(envelope.seq)) return this.#reject(sender, 'replay');
    if ('to' in envelope.body && envelope.body.to !== this.nodeId) return { accepted: false, reason: 'not-addressed-here' };
    if (!this.#senderLimiter.take(sender, now)) return this.#reject(sender, 'flood');

    const known = this.#peers.has(sender);
    const peer = this.#touch(sender, now);
    try {
      // First contact: introduce ourselves to that node alone (it will do the same), with
      // our state root so that it reconciles with us now rather than at our next heartbeat.
      if (!known && envelope.body.type !== 'DISCOVER') {
        await this.#send({ type: 'ANNOUNCE', manifest: this.#manifest }, sender);
        await this.#sendEvidence(sender);
        await this.#heartbeat(sender);
      }
      await this.#dispatch(envelope.body, peer, now);
    } catch (error) {
      if (error instanceof EvidenceError) return this.#reject(sender, `evidence:${error.reason}`);
      if (error instanceof BatchRejectedError) {
        return this.#reject(sender, `batch:${error.reason}`);
      }
      return this.#reject(sender, `failed:${asError(error).name}`);
    }
    return { accepted: true };
  }

  async #dispatch(body: Body, peer: PeerState, now: number): Promise<void> {
    switch (body.type) {
      case 'DISCOVER':
        await this.#send({ type: 'ANNOUNCE', manifest: this.#manifest }, peer.nodeId);
        await this.#sendEvidence(peer.nodeId);
        await this.#heartbeat(peer.nodeId);
        return;
      case 'ANNOUNCE':
        peer.manifest = body.manifest;
        return;
      case 'HEARTBEAT':
        peer.stateRoot = toHex(body.root);
        peer.logs = body.logs;
        if (peer.stateRoot !== this.#o.host.stateRoot()) await this.#askForHeads(peer, now);
        else this.#o.host.notePeerChecked();
        return;
      case 'REQUEST':
        if (body.want === 'heads') await this.#answerHeads(peer, body.id, body.have);
        else if (body.want === 'entries') await this.#answerEntries(peer, body.id, body.origin, body.start);
        else await this.#answerConsistency(peer, body.id, body.origin, body.size1, body.size2);
        return;
      case 'RESPONSE': {
        const request = this.#pending.get(body.id);
        const ours = request?.peer === peer.nodeId;
        if (ours) this.#finish(body.id);
        // A late batch (its request timed out) is still verified data worth keeping; a
        // late heads list is stale and dropped.
        if ('heads' in body && ours) {
          peer.latencyMs = now - request.sentAt;
          await this.#onHeads(peer, body.heads);
        } else if ('batch' in body) {
          await this.#onBatch(peer, body.batch);
        } else if ('consistency' in body && ours && request.investigation) {
          await this.#onConsistency(peer, request.investigation, body.consistency);
        }
        return;
      }
      case 'REPLICATE':
        peer.sizes.set(body.batch.origin, Math.max(peer.sizes.get(body.batch.origin) ?? 0, body.batch.start + body.batch.entries.length));
        await this.#onBatch(peer, body.batch);
        return;
      case 'EVIDENCE':
        // Verified by the host before anything is believed; a record that proves nothing
        // is refused as evidence:<reason> and counted against the sender.
        await this.#onEquivocation(body.evidence, peer.nodeId);
        return;
    }
  }

  // ---- reconciliation ------------------------------------------------------------

  /**
   * Reconciles with one differing peer at a time: its answer brings everything it is
   * ahead on, so asking every differing peer at once would only fetch the same heads
   * many times over.
   */
  async #askForHeads(peer: PeerState, now: number): Promise<void> {
    if (this.#headsInFlight !== undefined && this.#pending.has(this.#headsInFlight)) return;
    const have: HaveRecord[] = this.#adverts().map((a) => ({ log: logHash(a.origin), size: a.size, root: fromHex(a.root.slice(0, 16)) }));
    const id = this.#request(peer.nodeId, now);
    this.#headsInFlight = id;
    await this.#send({ type: 'REQUEST', to: peer.nodeId, id, want: 'heads', have }, peer.nodeId);
  }

  async #answerHeads(peer: PeerState, id: number, have: readonly HaveRecord[]): Promise<void> {
    const theirs = new Map(have.map((h) => [toHex(h.log), h]));
    // Logs the asker lacks or is behind on, and logs of equal size whose roots differ (a
    // second history of the author: the asker checks the checkpoint against its copy).
    const heads: HeadAdvert[] = this.#adverts()
      .filter((a) => {
        const held = theirs.get(toHex(logHash(a.origin)));
        return !held || a.size > held.size || (a.size === held.size && a.root.slice(0, 16) !== toHex(held.root));
      })
      .map((a) => ({ verifierKey: a.verifierKey, checkpoint: a.checkpoint }));
    await this.#send({ type: 'RESPONSE', to: peer.nodeId, id, heads }, peer.nodeId);
  }

  async #onHeads(peer: PeerState, heads: readonly HeadAdvert[]): Promise<void> {
    const mine = new Map(this.#o.host.adverts().map((a) => [a.origin, a.size]));
    const flagged = this.#flaggedOrigins();
    for (const head of heads) {
      const size = await this.#checkedAdvertSize(head);
      const origin = parseVerifierKey(head.verifierKey).name;
      if (flagged.has(origin)) continue;
      const held = mine.get(origin);
      if (held !== undefined && size <= held) {
        // Not behind: a checkpoint we can check against our own copy.
        const evidence = await this.#o.host.checkAgainstHeld(head);
        if (evidence) await this.#onEquivocation(evidence, peer.nodeId);
        continue;
      }
      // Our own log, signed by us at a size we no longer hold: our storage lost entries.
      if (origin === this.#ownOrigin()) this.#o.host.noteOwnCheckpoint(size);
      peer.sizes.set(origin, Math.max(peer.sizes.get(origin) ?? 0, size));
      // From what we hold — for a damaged log under repair, what its copy holds so far.
      const from = this.#o.host.heldSize(origin);
      if (size > from) await this.#pull(peer, origin, from);
    }
    this.#o.host.notePeerChecked();
  }

  /** Verifies an advertised checkpoint (cached by note text) and returns its size. */
  async #checkedAdvertSize(head: HeadAdvert): Promise<number> {
    const key = `${head.verifierKey}\n${head.checkpoint}`;
    const cached = this.#verifiedNotes.get(key);
    if (cached !== undefined) return cached;
    let size: number;
    try {
      size = (await openCheckpoint(head.checkpoint, parseVerifierKey(head.verifierKey))).size;
    } catch (error) {
      throw new BatchRejectedError('bad-checkpoint', 'advert', (error as Error).message);
    }
    if (this.#verifiedNotes.size > 8192) this.#verifiedNotes.delete(this.#verifiedNotes.keys().next().value!);
    this.#verifiedNotes.set(key, size);
    return size;
  }

  async #pull(peer: PeerState, origin: string, start: number): Promise<void> {
    const inFlight = this.#pulling.get(origin);
    if (inFlight !== undefined && this.#pending.has(inFlight)) return;
    const id = this.#request(peer.nodeId, this.#o.now(), origin);
    this.#pulling.set(origin, id);
    await this.#send({ type: 'REQUEST', to: peer.nodeId, id, want: 'entries', origin, start }, peer.nodeId);
  }

  async #answerEntries(peer: PeerState, id: number, origin: string, start: number): Promise<void> {
    const batch = await this.#o.host.readBatch(origin, start, this.#o.batchBudgetBytes);
    if (batch) await this.#send({ type: 'RESPONSE', to: peer.nodeId, id, batch }, peer.nodeId);
    else await this.#send({ type: 'RESPONSE', to: peer.nodeId, id, error: `no entries of ${origin} from ${start}` }, peer.nodeId);
  }

  async #onBatch(peer: PeerState, batch: LogBatch): Promise<void> {
    let outcome: ApplyOutcome;
    const heldBefore = this.#o.host.heldSize(batch.origin);
    this.#traffic.entriesIn += batch.entries.length;
    this.#traffic.entriesDuplicate += Math.max(0, Math.min(heldBefore, batch.start + batch.entries.length) - batch.start);
    // The peer has more past this batch: ask for the next one now, so that it is read,
    // sent and carried while we check and store this one (two in flight per log at most).
    const end = batch.start + batch.entries.length;
    if (
      batch.start <= heldBefore &&
      end > heldBefore &&
      (peer.sizes.get(batch.origin) ?? 0) > end &&
      !this.#flaggedOrigins().has(batch.origin)
    ) {
      await this.#pull(peer, batch.origin, end);
    }
    try {
      outcome = await this.#o.host.applyBatch(batch);
    } catch (error) {
      // A proven equivocation is the author's doing; the peer only passed it on.
      if (error instanceof BatchRejectedError && (await this.#investigate(peer, batch, error))) return;
      throw error;
    }
    // Fetching a log we refuse to extend would only bring the same refusal back.
    if (outcome.status === 'refused-flagged' || outcome.status === 'refused-unwritable') return;
    const held = this.#o.host.heldSize(batch.origin);
    if (outcome.status === 'gap') {
      await this.#pull(peer, batch.origin, outcome.have);
    } else if ((peer.sizes.get(batch.origin) ?? 0) > held) {
      await this.#pull(peer, batch.origin, held);
    }
  }

  // ---- equivocation (F11) ------------------------------------------------------------

  /**
   * A batch that contradicts our copy. True if it proves that the author signed two
   * histories (then recorded and gossiped). When it only fails to extend our copy (its
   * root or proof does not fit our prefix), the batch may be forged or the author may
   * have signed a history with another prefix: we ask the peer for its root at our size
   * and the consistency proof to the batch's checkpoint, which decides (#onConsistency).
   */
  async #investigate(peer: PeerState, batch: LogBatch, error: BatchRejectedError): Promise<boolean> {
    if (error.reason === 'fork') {
      const evidence = await this.#o.host.evidenceFromBatch(batch);
      if (!evidence) return false;
      await this.#onEquivocation(evidence, peer.nodeId);
      return true;
    }
    if (error.reason !== 'root-mismatch' && error.reason !== 'bad-proof') return false;
    const held = this.#adverts().find((a) => a.origin === batch.origin);
    const end = batch.start + batch.entries.length;
    if (!held || held.size === 0 || end <= held.size) return false;
    const key = `${peer.nodeId}\n${batch.checkpoint}`;
    if (this.#investigated.has(key)) return false;
    this.#investigated.add(key);
    if (this.#investigated.size > 4096) this.#investigated.delete(this.#investigated.values().next().value!);
    const investigation: Investigation = {
      origin: batch.origin,
      verifierKey: batch.verifierKey,
      ours: { note: held.checkpoint, size: held.size },
      theirs: { note: batch.checkpoint, size: end },
    };
    const id = this.#nextRequestId++;
    this.#pending.set(id, { peer: peer.nodeId, sentAt: this.#o.now(), investigation });
    await this.#send(
      { type: 'REQUEST', to: peer.nodeId, id, want: 'consistency', origin: batch.origin, size1: held.size, size2: end },
      peer.nodeId,
    );
    return false;
  }

  async #answerConsistency(peer: PeerState, id: number, origin: string, size1: number, size2: number): Promise<void> {
    let proof: { readonly root1: string; readonly proof: readonly string[] };
    try {
      if (size1 < 1 || size2 <= size1) throw new RangeError(`sizes ${size1} → ${size2} prove nothing`);
      proof = this.#o.host.proveConsistency(size1, size2, origin);
    } catch (error) {
      await this.#send({ type: 'RESPONSE', to: peer.nodeId, id, error: `no consistency proof: ${asError(error).message}` }, peer.nodeId);
      return;
    }
    const consistency = { root: fromHex(proof.root1), proof: proof.proof.map((p) => fromHex(p)) };
    await this.#send({ type: 'RESPONSE', to: peer.nodeId, id, consistency }, peer.nodeId);
  }

  async #onConsistency(
    peer: PeerState,
    investigation: Investigation,
    consistency: { readonly root: Uint8Array; readonly proof: readonly Uint8Array[] },
  ): Promise<void> {
    const evidence = makeEquivocation({
      origin: investigation.origin,
      verifierKey: investigation.verifierKey,
      notes: [investigation.ours, investigation.theirs],
      consistency,
    });
    try {
      await this.#onEquivocation(evidence, peer.nodeId);
    } catch (error) {
      if (!(error instanceof EvidenceError)) throw error;
      // Consistent after all: the batch was broken, and was counted when refused. A
      // proof that does not verify is the peer's own fault.
      if (error.reason !== 'not-conflicting') this.#reject(peer.nodeId, `consistency:${error.reason}`);
    }
  }

  /** Records a proof (the host verifies it; EvidenceError if it proves nothing) and gossips it if it is news. */
  async #onEquivocation(evidence: Equivocation, via: string): Promise<void> {
    const { status, flag } = await this.#o.host.recordEquivocation(evidence);
    if (status === 'known') return;
    this.#recordFork(flag.origin, via, flag.detail);
    // The ledger record (pushed as REPLICATE) goes out before the gossip.
    await this.#pushChain;
    await this.#send({ type: 'EVIDENCE', evidence: flag.evidence });
  }

  /** Tells a newly met node every equivocation we know of. */
  async #sendEvidence(to: string): Promise<void> {
    for (const flag of this.#o.host.flagged()) await this.#send({ type: 'EVIDENCE', evidence: flag.evidence }, to);
  }

  #flaggedOrigins(): Set<string> {
    return new Set(this.#o.host.flagged().map((f) => f.origin));
  }

  /** The logs we sync: every held one except those of flagged authors. */
  #adverts(): LogAdvert[] {
    const flagged = this.#flaggedOrigins();
    const adverts = this.#o.host.adverts();
    return flagged.size === 0 ? adverts : adverts.filter((a) => !flagged.has(a.origin));
  }

  // ---- pushing local appends -------------------------------------------------------

  #queuePush(origin: string): void {
    this.#pushChain = this.#pushChain.then(() => this.#push(origin)).catch(() => undefined);
  }

  async #push(origin: string): Promise<void> {
    for (;;) {
      const from = this.#announced.get(origin) ?? 0;
      const batch = await this.#o.host.readBatch(origin, from, this.#o.batchBudgetBytes);
      if (!batch || this.#closed) return;
      // A staged batch may have been announced meanwhile: never move back.
      this.#announced.set(origin, Math.max(this.#announced.get(origin) ?? 0, batch.start + batch.entries.length));
      await this.#send({ type: 'REPLICATE', batch });
    }
  }

  /**
   * An own batch just signed, its write running: the REPLICATE that carries it is signed
   * now and sent once the write is done, instead of after it (the push that follows the
   * write then finds nothing new). The message is the one that push would send (one
   * checkpoint interval, the next in order); a batch out of order is left to it. A write
   * that fails sends nothing, and pushing starts again where the announced entries ended.
   */
  #pushStaged({ batch, written }: StagedBatch): void {
    const { origin, start, entries } = batch;
    const end = start + entries.length;
    if (this.#closed || origin !== this.#ownOrigin() || (this.#announced.get(origin) ?? 0) !== start) return;
    this.#announced.set(origin, end);
    this.#send({ type: 'REPLICATE', batch }, undefined, written).catch(() => {
      if (this.#announced.get(origin) === end) this.#announced.set(origin, start);
    });
  }

  // ---- plumbing ----------------------------------------------------------------------

  /** Broadcasts the state root (or sends it to one node, answering a DISCOVER). */
  async #heartbeat(to?: string): Promise<void> {
    const root = this.#o.host.stateRoot();
    if (to === undefined) {
      this.#lastHeartbeat = this.#o.now();
      this.#lastBroadcastRoot = root;
    }
    await this.#send({ type: 'HEARTBEAT', root: fromHex(root), logs: this.#o.host.adverts().length }, to);
  }

  #request(peer: string, now: number, origin?: string): number {
    const id = this.#nextRequestId++;
    this.#pending.set(id, { peer, sentAt: now, ...(origin === undefined ? {} : { origin }) });
    return id;
  }

  #finish(id: number): void {
    const request = this.#pending.get(id);
    this.#pending.delete(id);
    if (request?.origin !== undefined && this.#pulling.get(request.origin) === id) this.#pulling.delete(request.origin);
  }

  #touch(nodeId: string, now: number): PeerState {
    let peer = this.#peers.get(nodeId);
    if (!peer) {
      peer = { nodeId, stateRoot: '', logs: 0, firstSeen: now, lastSeen: now, sizes: new Map() };
      this.#peers.set(nodeId, peer);
    }
    peer.lastSeen = now;
    return peer;
  }

  /**
   * Signs and sends in sequence order (sends are chained so seq order is wire order). With
   * `after`, the message is signed at once but handed to the transports only once `after`
   * resolves — from `after`'s own reaction, attached here, so it leaves before whatever
   * else waits for `after` runs; if it rejects, nothing is sent and the returned promise
   * rejects.
   */
  #send(body: Body, to?: string, after?: Promise<void>): Promise<void> {
    const gate = after === undefined ? undefined : new Gate(after);
    const run = async (): Promise<void> => {
      if (this.#closed) return;
      const unsigned: UnsignedEnvelope = {
        v: 1,
        from: this.nodeId,
        key: this.#o.signer.publicKey,
        session: this.#session,
        seq: this.#seq++,
        body,
      };
      const sig = await this.#o.signer.sign(signingBytes(unsigned));
      const bytes = encodeEnvelope({ ...unsigned, sig });
      const post = (): void => {
        if (this.#closed) return;
        this.#traffic.messagesOut++;
        this.#traffic.bytesOut += bytes.length;
        this.#o.send(bytes, to);
      };
      if (gate) await gate.pass(post);
      else post();
    };
    const next = this.#sendChain.then(run);
    this.#sendChain = next.catch(() => undefined);
    return next;
  }

  #reject(sender: string, reason: string): { accepted: false; reason: string } {
    const key = `${sender}\u0000${reason}`;
    this.#rejections.set(key, (this.#rejections.get(key) ?? 0) + 1);
    return { accepted: false, reason };
  }

  #rejectedCount(sender: string): number {
    let total = 0;
    for (const [key, count] of this.#rejections) {
      const [who, reason] = key.split('\u0000') as [string, string];
      if (who === sender && !NOT_HELD_AGAINST_PEER.has(reason)) total += count;
    }
    return total;
  }

  #recordFork(origin: string, reportedBy: string, detail: string): void {
    if (this.#forks.some((f) => f.origin === origin && f.detail === detail)) return;
    this.#forks.push({ origin, reportedBy, detail });
  }

  #ownOrigin(): string {
    return `naos/${this.nodeId}`;
  }
}

function logHash(origin: string): Uint8Array {
  return sha256(utf8(origin)).slice(0, 8);
}

function prefetchCheckpoint(body: Body): void {
  const batch = 'batch' in body ? body.batch : undefined;
  if (!batch) return;
  try {
    void openCheckpoint(batch.checkpoint, parseVerifierKey(batch.verifierKey)).catch(() => undefined);
  } catch {
    // A malformed key fails again, with a reason, where the batch is checked.
  }
}

type Settled = { readonly ok: true } | { readonly ok: false; readonly error: unknown };

/**
 * Runs one action once a promise resolves, inside that promise's own reaction rather than
 * in a later microtask (so before reactions attached to the promise after this one), or at
 * once if it already has; never if it rejects (`pass` then rejects with the same error).
 */
class Gate {
  #settled: Settled | undefined;
  #waiting: (() => void) | undefined;

  constructor(after: Promise<void>) {
    after.then(
      () => this.#settle({ ok: true }),
      (error: unknown) => this.#settle({ ok: false, error }),
    );
  }

  pass(action: () => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const go = (): void => {
        const settled = this.#settled!;
        if (!settled.ok) return reject(asError(settled.error));
        try {
          action();
          resolve();
        } catch (error) {
          reject(asError(error));
        }
      };
      if (this.#settled) go();
      else this.#waiting = go;
    });
  }

  #settle(settled: Settled): void {
    this.#settled = settled;
    this.#waiting?.();
    this.#waiting = undefined;
  }
}
