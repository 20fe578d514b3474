import * as Comlink from 'comlink';
import { asError, InvalidInputError } from '../src/errors.js';
import { assertJsonValue } from '../src/ledger/json-value.js';
import type {
  AgentView,
  HistoryItem,
  MigrationResult,
  ModuleVersion,
  ModuleView,
  Passport,
  PassportView,
  ReplayVerdict,
  SpawnResult,
  StepResult,
  VersionCheck,
} from '../workers/agent-service.js';
import type { SandboxStats } from '../src/sandbox/sandbox.js';
import type { AgentsRemote } from '../workers/protocol.js';

export interface SpawnOptionsInput {
  readonly name: string;
  readonly rights?: readonly string[];
  readonly duties?: readonly string[];
  readonly state?: unknown;
}

/**
 * `naos.agents` (MISSION.md F3; docs/AGENTS.md): spawn(code, {name}) → {id},
 * send(id, message) → the step's outcome (committed, or rolled back with its fault) or a
 * rejection naming why no step could run, get(id) → {id, state, stateHash, …}; and the
 * rest of the agent runtime: list, history, refusals, kill, migrate, replay, passports,
 * sandbox stats, the health monitor and runtime modules.
 */
export interface NaosAgentsApi {
  spawn(code: string | { readonly cid: string }, options: SpawnOptionsInput): Promise<SpawnResult>;
  send(id: string, message: unknown): Promise<StepResult>;
  get(id: string): Promise<AgentView>;
  list(): Promise<AgentView[]>;
  history(id: string, limit?: number): Promise<HistoryItem[]>;
  refusals(id: string): Promise<HistoryItem[]>;
  /** Kills the sandbox under the agent's running step (or its next one): it rolls back. */
  kill(id: string): Promise<{ running: boolean }>;
  /** Hands the agent to node `to`; this node stops running it at once. */
  migrate(id: string, to: string): Promise<MigrationResult>;
  /** Re-executes a recorded step; a mismatch names the recording node and is recorded. */
  replay(id: string, step: number): Promise<ReplayVerdict>;
  passport(id: string): Promise<Passport>;
  verifyPassport(passport: unknown): Promise<PassportView>;
  sandboxStats(): Promise<SandboxStats>;
  healthMonitor(): Promise<string>;
  reportHealth(): Promise<StepResult | null>;
  /** Calls back with the ids of agents whose records changed. Returns the unsubscribe function. */
  onChange(callback: (ids: readonly string[]) => void): () => void;
  readonly modules: NaosModulesApi;
}

/** `kernel.module` (F19): runtime modules by CID with a versioned registry. */
export interface NaosModulesApi {
  publish(name: string, version: string, content: string | Uint8Array, kind: 'js' | 'wasm'): Promise<ModuleVersion>;
  import(name: string, cid: string): Promise<ModuleView>;
  pull(name: string, version?: string): Promise<ModuleView>;
  update(name: string): Promise<VersionCheck>;
  remove(name: string): Promise<void>;
  checkVersion(name: string): Promise<VersionCheck>;
  list(): Promise<{ name: string; versions: ModuleVersion[]; installed: string | null }[]>;
}

export function createNaosAgents(connect: () => Promise<AgentsRemote>): NaosAgentsApi {
  let remote: Promise<AgentsRemote> | undefined;
  const listeners = new Set<(ids: readonly string[]) => void>();
  const dispatch = (ids: readonly string[]) => {
    for (const listener of [...listeners]) {
      try {
        listener(ids);
      } catch (error) {
        console.error('a naos.agents.onChange callback threw', error);
      }
    }
  };
  const agents = (): Promise<AgentsRemote> => {
    remote ??= connect().then(async (r) => {
      await r.onAgents(Comlink.proxy(dispatch));
      return r;
    });
    return remote;
  };
  // Comlink's Remote type spreads over unions; the casts below restore the declared result types.
  const call = async <T>(use: (r: AgentsRemote) => Promise<T>): Promise<T> => use(await agents());
  const checked = <T>(check: () => void, use: (r: AgentsRemote) => Promise<T>): Promise<T> => {
    try {
      check();
    } catch (error) {
      return Promise.reject(asError(error));
    }
    return call(use);
  };
  return {
    spawn: (code, options) =>
      checked(
        () => {
          if (typeof options !== 'object' || options === null) throw new InvalidInputError('spawn takes (code, {name})');
          if (options.state !== undefined) assertJsonValue(options.state, '$.state');
        },
        (r) => r.spawn(code, { ...options }),
      ),
    send: (id, message) =>
      checked(
        () => assertJsonValue(message, '$.message'),
        (r) => r.send(id, message) as Promise<StepResult>,
      ),
    get: (id) => call((r) => r.get(id)),
    list: () => call((r) => r.list()),
    history: (id, limit) => call((r) => (limit === undefined ? r.history(id) : r.history(id, limit))),
    refusals: (id) => call((r) => r.refusals(id)),
    kill: (id) => call((r) => r.kill(id)),
    migrate: (id, to) => call((r) => r.migrate(id, to)),
    replay: (id, step) => call((r) => r.replay(id, step) as Promise<ReplayVerdict>),
    passport: (id) => call((r) => r.passport(id)),
    verifyPassport: (passport) => call((r) => r.verifyPassport(passport)),
    sandboxStats: () => call((r) => r.sandboxStats()),
    healthMonitor: () => call((r) => r.healthMonitor()),
    reportHealth: () => call((r) => r.reportHealth() as Promise<StepResult | null>),
    onChange(callback) {
      if (typeof callback !== 'function') throw new TypeError('naos.agents.onChange takes a function');
      void agents().catch(() => undefined);
      const entry = (ids: readonly string[]) => callback(ids);
      listeners.add(entry);
      return () => void listeners.delete(entry);
    },
    modules: {
      publish: (name, version, content, kind) => call((r) => r.modulePublish(name, version, content, kind)),
      import: (name, cid) => call((r) => r.moduleImport(name, cid)),
      pull: (name, version) => call((r) => (version === undefined ? r.modulePull(name) : r.modulePull(name, version))),
      update: (name) => call((r) => r.moduleUpdate(name)),
      remove: (name) => call((r) => r.moduleRemove(name)),
      checkVersion: (name) => call((r) => r.moduleCheckVersion(name)),
      list: () => call((r) => r.moduleList()),
    },
  };
}
