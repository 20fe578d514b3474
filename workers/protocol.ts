import type { Remote } from 'comlink';
import type { AgentService } from './agent-service.js';
import type { KernelService } from './kernel-service.js';

/**
 * What crosses the boundary between the page and the kernel worker: types and one
 * constant. The page loads the worker by URL and never imports its code.
 */

export interface BootOptions {
  /** Storage and lock namespace: `naos` → databases `naos-node-N`, locks `naos-slot-N`. */
  readonly namespace?: string;
  /** The slot this tab had before (remembered by the page in sessionStorage). */
  readonly preferredSlot?: number;
  /** How long to wait for the preferred slot to be let go (a reload) before taking another. */
  readonly preferredWaitMs?: number;
  /** Region, shard, node types, capabilities the node announces (from the page URL); defaults otherwise. */
  readonly manifest?: ManifestParams;
  /**
   * How long, after the boot, the node's first own appends wait to hear from a peer when
   * it holds any entries (default 1500 ms; see KernelOptions.awaitPeersUntil).
   */
  readonly awaitPeersMs?: number;
  /**
   * How long a verified replica batch waits before its IndexedDB write starts (default
   * 1000 ms); the page asks for the write at once when it is hidden or closed.
   */
  readonly replicaWriteDelayMs?: number;
  /** Join the namespace's tab federation (default true). */
  readonly federation?: boolean;
  /** Run agents (default true); `healthIntervalMs` sets the health monitor's period (0: only on request). */
  readonly agents?: false | { readonly healthIntervalMs?: number };
}

/**
 * What the page may say about the node it starts (from the URL, e.g.
 * `?region=eu-west&shard=eu-west-1&types=pod-host,index`): raw strings, checked by the
 * worker (workers/manifest.ts), which fails the boot with InvalidInputError naming a bad one.
 */
export interface ManifestParams {
  readonly region?: string;
  readonly shard?: string;
  /** Comma-separated node types (F2): pod-host, compute, gateway, index, bridge. */
  readonly types?: string;
  /** Comma-separated capability names. */
  readonly capabilities?: string;
}

/** Progress of re-verifying one stored log on boot. */
export interface LoadProgress {
  readonly origin: string;
  readonly verified: number;
  readonly total: number;
}

/**
 * Posted by the worker once it listens for comlink calls. The page waits for it before
 * its first call: the worker's module graph evaluates asynchronously (the core's SHA-256
 * loads WebAssembly with top-level await), and Chromium may dispatch a message that
 * arrives meanwhile before any listener exists — and drop it.
 */
export const WORKER_READY_MESSAGE = 'naos:kernel-worker-ready';

/** The object the worker exposes over comlink. */
export interface KernelWorkerEndpoint {
  /** Claims a slot, opens identity, store and kernel; resolves to the kernel API (a comlink proxy). */
  start(options: BootOptions, onProgress?: (progress: LoadProgress) => void): Promise<KernelService>;
}

/** The kernel API as the page sees it: every call returns a promise. */
export type KernelRemote = {
  readonly [K in keyof KernelService]: KernelService[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
};

/** The agent API (naos.agents) as the page sees it: a comlink proxy of the worker's AgentService. */
export type AgentsRemote = Remote<AgentService>;
