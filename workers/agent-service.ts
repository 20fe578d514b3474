import type {
  AgentHost,
  AgentView,
  HistoryItem,
  MigrationResult,
  ReplayVerdict,
  SpawnResult,
  StepResult,
} from '../src/agents/agent-host.js';
import type { ModuleVersion } from '../src/agents/agent-ledger.js';
import type { LoadedModule, VersionCheck } from '../src/agents/modules.js';
import type { Passport, PassportView } from '../src/agents/passport.js';
import { asError, InvalidInputError } from '../src/errors.js';
import type { SandboxHost, SandboxStats } from '../src/sandbox/sandbox.js';
import type { DriftEvent } from '../src/state/derived-view.js';

/** A module as the API hands it out: verified, with its bytes for JS as source text and, for WASM, its export names. */
export interface ModuleView {
  readonly name: string;
  readonly version: string;
  readonly cid: string;
  readonly kind: 'js' | 'wasm';
  readonly size: number;
  readonly source?: string;
  readonly exports?: readonly string[];
}

export type {
  AgentView,
  HistoryItem,
  MigrationResult,
  ModuleVersion,
  Passport,
  PassportView,
  ReplayVerdict,
  SpawnResult,
  StepResult,
  VersionCheck,
};

/**
 * The agent API of the kernel worker (`naos.agents`): plain data in and out over an
 * AgentHost. Inputs are checked here too, so bad ones fail with a named error before
 * they reach the host. Independent of comlink; tests drive it directly in Chromium.
 */
export class AgentService {
  readonly #host: AgentHost;
  readonly #sandbox: SandboxHost;
  readonly #subscriptions = new Map<number, () => void>();
  readonly #reportHealth: () => Promise<StepResult | null>;
  #next = 1;

  constructor(host: AgentHost, sandbox: SandboxHost, reportHealth: () => Promise<StepResult | null>) {
    this.#host = host;
    this.#sandbox = sandbox;
    this.#reportHealth = reportHealth;
  }

  spawn(code: unknown, options: unknown): Promise<SpawnResult> {
    return attempt(() => {
      const program = typeof code === 'string' ? code : readCid(code);
      const o = options as { name?: unknown; rights?: unknown; duties?: unknown; state?: unknown } | null;
      if (typeof o !== 'object' || o === null || typeof o.name !== 'string')
        throw new InvalidInputError('spawn takes (code, {name, rights?, duties?, state?})');
      return this.#host.spawn(program, {
        name: o.name,
        ...(o.rights === undefined ? {} : { rights: o.rights as string[] }),
        ...(o.duties === undefined ? {} : { duties: o.duties as string[] }),
        ...(o.state === undefined ? {} : { state: o.state }),
      });
    });
  }

  send(id: string, message: unknown): Promise<StepResult> {
    return this.#host.send(id, message);
  }

  get(id: string): AgentView {
    return this.#host.get(id);
  }

  /** Agents registered by several nodes at once (AgentLedger.drift). */
  drift(): DriftEvent[] {
    return this.#host.ledger.drift();
  }

  list(): AgentView[] {
    return this.#host.list();
  }

  history(id: string, limit?: number): HistoryItem[] {
    return this.#host.history(id, limit);
  }

  refusals(id: string): HistoryItem[] {
    return this.#host.refusals(id);
  }

  kill(id: string): { running: boolean } {
    return this.#host.kill(id);
  }

  migrate(id: string, to: string): Promise<MigrationResult> {
    return this.#host.migrate(id, to);
  }

  replay(id: string, step: number): Promise<ReplayVerdict> {
    return this.#host.replay(id, step);
  }

  passport(id: string): Promise<Passport> {
    return this.#host.passport(id);
  }

  verifyPassport(passport: unknown): Promise<PassportView> {
    return this.#host.verifyPassport(passport);
  }

  sandboxStats(): SandboxStats {
    return this.#sandbox.stats();
  }

  /** The id of this node's health monitor (spawning it if needed). */
  healthMonitor(): Promise<string> {
    return this.#host.startHealthMonitor();
  }

  /** Sends the health monitor the current federation metrics now; null when there is no federation to watch. */
  reportHealth(): Promise<StepResult | null> {
    return this.#reportHealth();
  }

  modulePublish(name: string, version: string, content: unknown, kind: unknown): Promise<ModuleVersion> {
    return attempt(() => {
      if (typeof content !== 'string' && !(content instanceof Uint8Array))
        throw new InvalidInputError('module content must be a string or a Uint8Array');
      return this.#host.module.publish(name, version, content, kind as 'js' | 'wasm');
    });
  }

  /** kernel.module.import(name, cid): loads and verifies by CID; WASM is compiled here to list its exports. */
  async moduleImport(name: string, cid: string): Promise<ModuleView> {
    return moduleView(this.#host.module.import(name, cid));
  }

  /** Import and install (default: the latest version); the same view as moduleImport. */
  async modulePull(name: string, version?: string): Promise<ModuleView> {
    return moduleView(await this.#host.module.pull(name, version));
  }

  moduleUpdate(name: string): Promise<VersionCheck> {
    return this.#host.module.update(name);
  }

  moduleRemove(name: string): Promise<void> {
    return this.#host.module.remove(name);
  }

  moduleCheckVersion(name: string): VersionCheck {
    return this.#host.module.checkVersion(name);
  }

  moduleList(): { name: string; versions: ModuleVersion[]; installed: string | null }[] {
    return this.#host.module.list();
  }

  /** Calls `listener` with the ids of agents whose records changed; returns an id for offAgents. */
  onAgents(listener: (ids: readonly string[]) => unknown): number {
    if (typeof listener !== 'function') throw new TypeError('onAgents takes a function');
    const id = this.#next++;
    this.#subscriptions.set(
      id,
      this.#host.onAgents((ids) => void Promise.resolve(listener(ids)).catch(() => undefined)),
    );
    return id;
  }

  offAgents(id: number): boolean {
    const unsubscribe = this.#subscriptions.get(id);
    if (!unsubscribe) return false;
    unsubscribe();
    return this.#subscriptions.delete(id);
  }
}

/** What the page sees of a loaded module: a JS module's source, a WASM module's exports (compiled here). */
async function moduleView(loaded: LoadedModule): Promise<ModuleView> {
  const base = { name: loaded.name, version: loaded.version, cid: loaded.cid, kind: loaded.kind, size: loaded.bytes.length };
  if (loaded.kind === 'js') return { ...base, source: new TextDecoder().decode(loaded.bytes) };
  const module = await WebAssembly.compile(loaded.bytes.slice());
  return { ...base, exports: WebAssembly.Module.exports(module).map((e) => e.name) };
}

function readCid(code: unknown): { cid: string } {
  const cid = (code as { cid?: unknown } | null)?.cid;
  if (typeof cid !== 'string') throw new InvalidInputError('spawn takes JavaScript source or {cid}');
  return { cid };
}

function attempt<T>(action: () => Promise<T>): Promise<T> {
  try {
    return action();
  } catch (error) {
    return Promise.reject(asError(error));
  }
}
