import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { AppendResult, EntryView, Head, InclusionProofView, KernelStatus } from '../../src/kernel/api.js';
import type { Manifest, NodeInfo } from '../../workers/kernel-service.js';
import type { LoadProgress } from '../../workers/protocol.js';
import type { KernelClient } from '../kernel-client.js';
import type { ProofVerdict } from '../naos-api.js';
import type { StorageStatus } from '../storage.js';
import { ChangeScheduler, oneAtATime } from './change-scheduler.js';

/** What a panel shows about its node, read in one go after each change. */
export interface NodeSnapshot {
  readonly info: NodeInfo;
  /** What the node announces to peers (F2); undefined when it runs without federation. */
  readonly manifest: Manifest | undefined;
  readonly status: KernelStatus;
  /** Head of the node's own log; undefined if that log was refused as damaged. */
  readonly head: Head | undefined;
  readonly stateRoot: string;
  /** Latest signed checkpoint note of the node's own log (undefined if damaged). */
  readonly checkpoint: string | undefined;
  /** The last few entries, newest last. */
  readonly recent: readonly EntryView[];
  /** How durable the origin's storage is (read again at most every STORAGE_REFRESH_MS). */
  readonly storage: StorageStatus;
}

/** The storage estimate is an IPC to the browser: not worth repeating on every head change. */
const STORAGE_REFRESH_MS = 10_000;

export type KernelPhase =
  | { readonly state: 'starting'; readonly progress: LoadProgress | undefined }
  | { readonly state: 'ready'; readonly node: NodeSnapshot; readonly refreshError: string | undefined }
  | { readonly state: 'failed'; readonly error: string };

export const RECENT_ENTRIES = 5;

/**
 * Brings kernel state into a Lit element: subscribes to boot progress and head changes
 * while the host is connected, keeps a snapshot, and asks the host to re-render. Panels
 * read `phase` and call the actions; they never reach the worker or storage themselves.
 */
export class KernelController implements ReactiveController {
  phase: KernelPhase = { state: 'starting', progress: undefined };
  readonly #host: ReactiveControllerHost;
  #client: KernelClient | undefined;
  #unsubscribe: (() => void)[] = [];
  #connected = false;
  #info: NodeInfo | undefined;
  #storage: { status: StorageStatus; at: number } | undefined;

  constructor(host: ReactiveControllerHost) {
    this.#host = host;
    host.addController(this);
  }

  /** Points the controller at a kernel (again). */
  set client(client: KernelClient | undefined) {
    if (client === this.#client) return;
    this.#stop();
    this.#client = client;
    this.#info = undefined;
    this.#storage = undefined;
    this.phase = { state: 'starting', progress: client?.progress };
    if (this.#connected) this.#start();
    this.#host.requestUpdate();
  }

  get client(): KernelClient | undefined {
    return this.#client;
  }

  hostConnected(): void {
    this.#connected = true;
    this.#start();
  }

  hostDisconnected(): void {
    this.#connected = false;
    this.#stop();
  }

  append(value: unknown): Promise<AppendResult> {
    return this.#naos().append(value);
  }

  prove(index: number): Promise<InclusionProofView> {
    return this.#naos().prove(index);
  }

  verifyInclusion(proof: unknown): Promise<ProofVerdict> {
    return this.#naos().verifyInclusion(proof);
  }

  #naos() {
    if (!this.#client) throw new Error('no kernel connected');
    return this.#client.naos;
  }

  #start(): void {
    const client = this.#client;
    if (!client) return;
    const scheduler = new ChangeScheduler(() => void this.#refresh(client));
    this.#unsubscribe.push(
      () => scheduler.stop(),
      client.onProgress((progress) => {
        if (this.phase.state !== 'starting' || this.#client !== client) return;
        this.phase = { state: 'starting', progress };
        this.#host.requestUpdate();
      }),
      client.naos.onChange(() => scheduler.changed()),
    );
    // An attached network adds `sync/libp2p` to the manifest the panel shows.
    void client.networkStarted.then(() => {
      if (this.#client === client && this.#connected) scheduler.changed();
    });
    client.naos.ready.then(
      () => this.#refresh(client),
      (error: unknown) => {
        if (this.#client !== client) return;
        this.phase = { state: 'failed', error: describeError(error) };
        this.#host.requestUpdate();
      },
    );
  }

  #stop(): void {
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
  }

  /** Re-reads the snapshot; changes arriving meanwhile cause one more read, not one each. */
  readonly #refresh = oneAtATime(async (client: KernelClient): Promise<void> => {
    let next: KernelPhase;
    try {
      next = { state: 'ready', node: await this.#snapshot(client), refreshError: undefined };
    } catch (error) {
      next =
        this.phase.state === 'ready'
          ? { ...this.phase, refreshError: describeError(error) }
          : { state: 'failed', error: describeError(error) };
    }
    if (this.#client !== client || !this.#connected) return;
    this.phase = next;
    this.#host.requestUpdate();
  });

  async #snapshot(client: KernelClient): Promise<NodeSnapshot> {
    const naos = client.naos;
    const info = (this.#info ??= await naos.info());
    // The manifest is read each time: it gains `sync/libp2p` when the page's network attaches.
    const [manifest, status, heads, stateRoot, storage] = await Promise.all([
      naos.manifest(),
      naos.status(),
      naos.heads(),
      naos.stateRoot(),
      this.#storageStatus(naos),
    ]);
    const head = heads.find((h) => h.origin === info.origin);
    // Most changes are other nodes' logs arriving: the own log's checkpoint and recent
    // entries (a storage read in the worker) are read again only when its head moved.
    const previous = this.phase.state === 'ready' ? this.phase.node : undefined;
    if (previous && previous.head?.size === head?.size && previous.head?.root === head?.root) {
      return { info, manifest, status, head, stateRoot, checkpoint: previous.checkpoint, recent: previous.recent, storage };
    }
    const checkpoint = head ? await naos.checkpoint() : undefined;
    const recent = head && head.size > 0 ? await naos.entries(Math.max(0, head.size - RECENT_ENTRIES), head.size) : [];
    return { info, manifest, status, head, stateRoot, checkpoint, recent, storage };
  }

  async #storageStatus(naos: KernelClient['naos']): Promise<StorageStatus> {
    const now = Date.now();
    if (this.#storage && now - this.#storage.at < STORAGE_REFRESH_MS) return this.#storage.status;
    const status = await naos.storage();
    this.#storage = { status, at: now };
    return status;
  }
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
