import { fromUtf8, utf8 } from '../bytes.js';
import { asError, InvalidInputError } from '../errors.js';
import { isNodeId, logOrigin } from '../identity/node-id.js';
import type { Kernel } from '../kernel/kernel.js';
import { assertJsonValue, type JsonValue } from '../ledger/json-value.js';
import type { ViewEntry } from '../state/derived-view.js';
import { stepSeed } from '../sandbox/seed.js';
import type { SandboxFault, SandboxHost } from '../sandbox/sandbox.js';
import { AgentLedger, type Citizen, type Committed } from './agent-ledger.js';
import { blobCid, chunkBlob, parseBlobCid } from './content.js';
import {
  AgentExistsError,
  AgentNotFoundError,
  AgentNotHostedError,
  ContentUnavailableError,
  InvalidProgramError,
  ModuleError,
  RollbackVerificationError,
} from './errors.js';
import { HEALTH_MONITOR_NAME, HEALTH_MONITOR_SOURCE, type FederationMetrics } from './health-monitor.js';
import { formatAgentId, isAgentId, nodeShard, parseAgentId } from './ids.js';
import { ModuleRegistry } from './modules.js';
import { encodePassportEntry, type Passport, passportToJson, verifyPassport, type PassportView } from './passport.js';
import { KINDS, parseRefusal } from './records.js';
import { DEFAULT_RIGHTS, isRight, parseDuties, parseRights, RIGHT_FOR_EFFECT, type Right } from './rights.js';
import { stateHash } from './state-hash.js';
import { DEFAULT_OUTPUT_LIMITS, type Effect, isEffectType, type OutputLimits, parseStepOutput, StepOutputError } from './step-output.js';

export interface AgentHostOptions {
  readonly kernel: Kernel;
  readonly sandbox: SandboxHost;
  /** Shard-region of agents spawned here, e.g. `eu-central` (default `local`). */
  readonly shard?: string;
  readonly output?: Partial<OutputLimits>;
  /** Longest message (JSON text, characters). */
  readonly messageChars?: number;
  /** Longest chain of agent-to-agent sends started by one outside message. */
  readonly maxHops?: number;
  /** CPU limit of a replayed step (generous: replay confirms results, it does not police time). */
  readonly replayCpuMs?: number;
}

export interface SpawnOptions {
  readonly name: string;
  readonly rights?: readonly string[];
  readonly duties?: readonly string[];
  /** Initial state (JSON), `{}` by default. */
  readonly state?: unknown;
}

export interface SpawnResult {
  readonly id: string;
  readonly program: string;
  readonly stateHash: string;
}

export interface EffectOutcome {
  readonly type: string;
  readonly status: 'done' | 'refused';
  readonly right?: string | null;
  readonly reason?: string;
}

export type StepResult =
  | {
      readonly status: 'committed';
      readonly agent: string;
      readonly step: number;
      readonly state: JsonValue;
      readonly stateHash: string;
      readonly effects: readonly EffectOutcome[];
      /** Entry id of the agent.step. */
      readonly entry: string;
    }
  | {
      readonly status: 'rolled-back';
      readonly agent: string;
      /** The step that failed; the committed step stays the one before. */
      readonly step: number;
      readonly fault: SandboxFault;
      readonly state: JsonValue;
      readonly stateHash: string;
      /** The restored state hashed to the committed hash (always true: otherwise RollbackVerificationError). */
      readonly verified: true;
    };

/** An agent as `naos.agents.get` shows it: the citizen (PolicyLedger), who hosts it, and its committed state. */
export interface AgentView extends Omit<Citizen, 'policySeqs'> {
  readonly host: string;
  readonly epoch: number;
  /** This node runs it now. */
  readonly live: boolean;
  readonly step: number;
  readonly state: JsonValue;
  readonly stateHash: string;
  readonly modules: Readonly<Record<string, string>>;
  readonly refusals: number;
  readonly rollbacks: number;
}

export interface HistoryItem {
  readonly id: string;
  readonly kind: string;
  readonly author: string;
  readonly seq: number;
  readonly time: { readonly wall: number; readonly count: number };
  readonly payload: JsonValue;
}

export interface MigrationResult {
  readonly agent: string;
  readonly to: string;
  /** The epoch the target hosts. */
  readonly epoch: number;
  readonly step: number;
  readonly stateHash: string;
}

export type ReplayVerdict =
  | { readonly status: 'confirmed'; readonly agent: string; readonly step: number; readonly recordedBy: string; readonly stateHash: string }
  | {
      readonly status: 'mismatch';
      readonly agent: string;
      readonly step: number;
      /** The node whose recorded step did not replay: the fault is theirs. */
      readonly recordedBy: string;
      readonly expected: string;
      readonly got: string;
      readonly reason: string;
    };

interface EffectPlan {
  readonly outcome: EffectOutcome;
  readonly entries: { kind: string; value: JsonValue }[];
}

/** Programs new to this node that one step's spawn effects may have loaded (see #spawnLoadProblems). */
export const MAX_PROGRAM_LOADS_PER_STEP = 4;

/**
 * Runs this node's agents (F14–F19): spawns them (their program content-addressed and
 * replicated as ledger entries, their citizenship in the PolicyLedger), steps them in
 * the sandbox host, checks every requested effect against the agent's rights, commits
 * each step — new state hash, effects, refusals — as one ledger batch, rolls back and
 * records faults, hands agents over to other nodes and takes them in, and re-executes
 * recorded steps to confirm them. Everything it knows about agents is derived from the
 * ledger (AgentLedger), so every node agrees on who hosts what and what was committed.
 */
export class AgentHost {
  readonly module: ModuleRegistry;
  readonly #kernel: Kernel;
  readonly #sandbox: SandboxHost;
  readonly #ledger = new AgentLedger();
  readonly #shard: string;
  readonly #limits: OutputLimits;
  readonly #messageChars: number;
  readonly #maxHops: number;
  readonly #replayCpuMs: number;
  readonly #queues = new Map<string, Promise<unknown>>();
  readonly #leaving = new Set<string>();
  readonly #resuming = new Set<string>();
  /** agent.send entry ids whose delivery is queued or running. */
  readonly #delivering = new Set<string>();
  readonly #reserved = new Set<string>();
  /** CIDs of programs that loaded in the sandbox here (a spawn of one of them skips the check). */
  readonly #loadable = new Set<string>();
  readonly #killNext = new Set<string>();
  readonly #listeners = new Set<(agents: readonly string[]) => void>();
  readonly #unsubscribe: () => void;
  #running: string | undefined;
  #refusals = 0;
  #monitor: string | undefined;

  constructor(options: AgentHostOptions) {
    this.#kernel = options.kernel;
    this.#sandbox = options.sandbox;
    this.#shard = options.shard ?? 'local';
    parseAgentId(formatAgentId('probe', this.#shard));
    this.#limits = { ...DEFAULT_OUTPUT_LIMITS, ...options.output };
    this.#messageChars = options.messageChars ?? 16 * 1024;
    this.#maxHops = options.maxHops ?? 16;
    this.#replayCpuMs = options.replayCpuMs ?? 10_000;
    this.module = new ModuleRegistry(this.#kernel, this.#ledger);
    this.#ingest(this.#kernel.timeline(Infinity));
    this.#unsubscribe = this.#kernel.onEntries((entries) => this.#ingest(entries));
  }

  get nodeId(): string {
    return this.#kernel.nodeId;
  }

  /** The derived registry (read-only use). */
  get ledger(): AgentLedger {
    return this.#ledger;
  }

  /** Agent refusals seen in all held logs since this host started. */
  get refusalCount(): number {
    return this.#refusals;
  }

  /** Calls back with the ids of agents whose records changed (own or replicated entries). */
  onAgents(listener: (agents: readonly string[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Registers and spawns an agent hosted here: its program (JS source, or the CID of a
   * program already held), a policy.register entry with its rights and duties, and an
   * agent.spawn entry with its initial state and state hash — one batch. The program is
   * loaded in the sandbox first (nothing of it is called): one that does not compile,
   * throws at its top level, runs past a limit there or defines no `step` is refused with
   * InvalidProgramError and nothing is written.
   */
  async spawn(program: string | { readonly cid: string }, options: SpawnOptions): Promise<SpawnResult> {
    return this.#spawn(program, options, null);
  }

  async #spawn(program: string | { readonly cid: string }, options: SpawnOptions, parent: string | null): Promise<SpawnResult> {
    const plan = this.#planSpawn(program, options, parent);
    this.#reserved.add(plan.id);
    try {
      const problem = await this.#loadProblem(plan.result.program, plan.code);
      if (problem !== undefined) throw new InvalidProgramError(`program ${plan.result.program} does not load: ${problem}`);
      await this.#kernel.appendEntries(plan.entries);
    } finally {
      this.#reserved.delete(plan.id);
    }
    return plan.result;
  }

  #planSpawn(
    program: string | { readonly cid: string },
    options: SpawnOptions,
    parent: string | null,
  ): { id: string; code: string; result: SpawnResult; entries: { kind: string; value: JsonValue }[] } {
    if (typeof options !== 'object' || options === null)
      throw new InvalidInputError('spawn options must be {name, rights?, duties?, state?}');
    const id = formatAgentId(options.name, this.#shard);
    if (this.#ledger.citizen(id) || this.#reserved.has(id)) throw new AgentExistsError(`${id} is already registered`);
    const rights = parseRights(options.rights ?? DEFAULT_RIGHTS);
    const duties = parseDuties(options.duties ?? []);
    const state = options.state ?? {};
    assertJsonValue(state, '$.state');
    const chars = JSON.stringify(state).length;
    if (chars > this.#limits.stateChars)
      throw new InvalidInputError(`initial state is ${chars} characters of JSON, more than ${this.#limits.stateChars}`);
    const entries: { kind: string; value: JsonValue }[] = [];
    let cid: string;
    let code: string;
    if (typeof program === 'string') {
      if (program.length === 0) throw new InvalidInputError('agent code is empty');
      const bytes = utf8(program);
      cid = blobCid(bytes);
      code = program;
      if (!this.#ledger.hasBlob(cid)) for (const chunk of chunkBlob(bytes)) entries.push({ kind: KINDS.chunk, value: { ...chunk } });
    } else if (typeof program === 'object' && program !== null) {
      cid = parseBlobCid(program.cid);
      code = this.#programSource(cid);
    } else {
      throw new InvalidInputError('spawn takes JavaScript source or {cid}');
    }
    const hash = stateHash(state);
    entries.push({ kind: KINDS.register, value: { agent: id, program: cid, rights, duties, parent } });
    entries.push({ kind: KINDS.spawn, value: { agent: id, program: cid, state, stateHash: hash } });
    return { id, code, result: { id, program: cid, stateHash: hash }, entries };
  }

  /**
   * Runs one step of an agent hosted here with `message` and commits it, or rolls it back.
   * Rejects (AgentNotFoundError, AgentNotHostedError, InvalidValueError, …) only when no
   * step could be run at all.
   */
  send(id: string, message: unknown): Promise<StepResult> {
    return this.#send(id, message, 0);
  }

  #send(id: string, message: unknown, hops: number): Promise<StepResult> {
    try {
      parseAgentId(id);
      assertJsonValue(message, '$.message');
      const chars = JSON.stringify(message).length;
      if (chars > this.#messageChars)
        throw new InvalidInputError(`message is ${chars} characters of JSON, more than ${this.#messageChars}`);
      if (!this.#ledger.citizen(id)) throw new AgentNotFoundError(`no agent ${id} is registered`);
    } catch (error) {
      return Promise.reject(asError(error));
    }
    return this.#exclusive(id, () => this.#step(id, message, hops, undefined));
  }

  /** The agent as the ledger says, with its committed state. */
  get(id: string): AgentView {
    parseAgentId(id);
    const citizen = this.#ledger.citizen(id);
    const hosting = this.#ledger.hosting(id);
    const committed = this.#ledger.committed(id);
    if (!citizen || !hosting || !committed) throw new AgentNotFoundError(`no agent ${id} is registered (or its spawn has not arrived)`);
    const counts = this.#ledger.counts(id);
    return {
      id,
      program: citizen.program,
      registrar: citizen.registrar,
      rights: citizen.rights,
      duties: citizen.duties,
      parent: citizen.parent,
      host: hosting.host,
      epoch: hosting.epoch,
      live: this.#isLive(id),
      step: committed.step,
      state: committed.state,
      stateHash: committed.stateHash,
      modules: this.#ledger.imports(id),
      refusals: counts.refusals,
      rollbacks: counts.rollbacks,
    };
  }

  list(): AgentView[] {
    return this.#ledger.agentIds().flatMap((id) => {
      try {
        return [this.get(id)];
      } catch {
        return [];
      }
    });
  }

  /** The newest `limit` agent-layer entries about an agent, oldest first. */
  history(id: string, limit = 100): HistoryItem[] {
    parseAgentId(id);
    const all = this.#ledger.history(id);
    return all
      .slice(Math.max(0, all.length - limit))
      .map((e) => ({ id: e.id, kind: e.kind, author: e.author, seq: e.seq, time: e.time, payload: e.payload }));
  }

  /** Refusals recorded for an agent (all nodes), oldest first. */
  refusals(id: string): HistoryItem[] {
    return this.history(id, Infinity).filter((e) => e.kind === KINDS.refusal);
  }

  /**
   * Kills the sandbox (failure injection, F32): if a step of this agent is running it
   * ends as a crash and rolls back; otherwise the agent's next step is killed as it starts.
   */
  kill(id: string): { running: boolean } {
    parseAgentId(id);
    if (!this.#ledger.citizen(id)) throw new AgentNotFoundError(`no agent ${id} is registered`);
    if (this.#running === id) {
      this.#sandbox.kill();
      return { running: true };
    }
    this.#killNext.add(id);
    return { running: false };
  }

  /**
   * Hands an agent over to node `to` (F18): waits for its running step, stops it here, and
   * writes agent.migrate with its committed step, state hash and passport. From that entry
   * on every node derives `to` as the host; `to` resumes it once the entry reaches it
   * and the passport and state hash check out. This node never runs it again.
   */
  migrate(id: string, to: string): Promise<MigrationResult> {
    try {
      parseAgentId(id);
      if (!isNodeId(to)) throw new InvalidInputError(`target must be a node id, got ${JSON.stringify(to)}`);
      if (to === this.nodeId) throw new InvalidInputError('an agent cannot migrate to the node hosting it');
      if (!this.#ledger.citizen(id)) throw new AgentNotFoundError(`no agent ${id} is registered`);
    } catch (error) {
      return Promise.reject(asError(error));
    }
    return this.#exclusive(id, async () => {
      this.#assertLive(id);
      const hosting = this.#ledger.hosting(id)!;
      const committed = this.#ledger.committed(id)!;
      const passport = await this.passport(id);
      this.#leaving.add(id);
      try {
        await this.#kernel.appendEntries([
          {
            kind: KINDS.migrate,
            value: {
              agent: id,
              epoch: hosting.epoch,
              from: this.nodeId,
              to,
              step: committed.step,
              stateHash: committed.stateHash,
              passport: passportToJson(passport),
            },
          },
        ]);
      } catch (error) {
        this.#leaving.delete(id);
        throw error;
      }
      return { agent: id, to, epoch: hosting.epoch + 1, step: committed.step, stateHash: committed.stateHash };
    });
  }

  /** A passport for the agent: its policy entries with inclusion proofs against the registrar's latest checkpoint. */
  async passport(id: string): Promise<Passport> {
    parseAgentId(id);
    const citizen = this.#ledger.citizen(id);
    if (!citizen) throw new AgentNotFoundError(`no agent ${id} is registered`);
    const origin = logOrigin(citizen.registrar);
    const checkpoints = this.#kernel.checkpoints(origin);
    const latest = checkpoints[checkpoints.length - 1]!;
    const advert = this.#kernel.adverts().find((a) => a.origin === origin);
    if (!advert) throw new AgentNotFoundError(`the registrar log ${origin} is not held`);
    const entries = [];
    for (const seq of citizen.policySeqs.filter((s) => s < latest.size)) {
      const [bytes] = await this.#kernel.readEntryBytes(seq, seq + 1, origin);
      entries.push(encodePassportEntry(seq, bytes!, this.#kernel.proveInclusion(seq, latest.size, origin).proof));
    }
    return { v: 1, agent: id, origin, verifierKey: advert.verifierKey, checkpoint: latest.note, entries };
  }

  /** Verifies a passport offline (nothing but the passport is consulted). */
  verifyPassport(passport: unknown): Promise<PassportView> {
    return verifyPassport(passport);
  }

  /**
   * Re-executes recorded step `step` of an agent from the state before it, with the same
   * code, modules, message and seed, and compares the state hash and effects with the
   * record. A mismatch is the recording node's fault: it is returned and recorded as
   * agent.fault naming that node.
   */
  async replay(id: string, step: number): Promise<ReplayVerdict> {
    parseAgentId(id);
    if (!Number.isSafeInteger(step) || step < 1) throw new RangeError(`step must be a positive integer, got ${step}`);
    const citizen = this.#ledger.citizen(id);
    if (!citizen) throw new AgentNotFoundError(`no agent ${id} is registered`);
    const recorded = this.#ledger.recordedStep(id, step);
    const before = this.#ledger.stateBefore(id, step);
    if (!recorded || !before) throw new RangeError(`no recorded step ${step} of ${id} is held`);
    const record = recorded.record;
    const mismatch = async (reason: string, expected: string, got: string): Promise<ReplayVerdict> => {
      await this.#kernel.appendEntries([{ kind: KINDS.fault, value: { agent: id, step, node: recorded.author, expected, got, reason } }]);
      return { status: 'mismatch', agent: id, step, recordedBy: recorded.author, expected, got, reason };
    };
    if (record.prevHash !== before.stateHash)
      return mismatch('the step does not start from the state before it', before.stateHash, record.prevHash);
    const recordedHash = stateHash(record.state);
    if (recordedHash !== record.stateHash)
      return mismatch('the recorded state does not hash to the recorded state hash', record.stateHash, recordedHash);
    const outcome = await this.#sandbox.run({
      code: this.#code(citizen),
      modules: Object.entries(record.modules).map(([name, cid]) => ({ name, source: this.module.source(name, cid) })),
      state: JSON.stringify(before.state),
      message: JSON.stringify(record.message),
      ctx: JSON.stringify({ self: id, step }),
      seed: stepSeed(id, step),
      cpuMs: this.#replayCpuMs,
    });
    if (!outcome.ok)
      return mismatch(
        `re-execution faulted (${outcome.fault.kind}: ${outcome.fault.message})`,
        record.stateHash,
        `fault:${outcome.fault.kind}`,
      );
    let output;
    try {
      output = parseStepOutput(outcome.output, this.#limits);
    } catch (error) {
      return mismatch(`re-execution output is invalid: ${(error as Error).message}`, record.stateHash, 'invalid-output');
    }
    const got = stateHash(output.state);
    if (got !== record.stateHash) return mismatch('re-execution reached a different state', record.stateHash, got);
    const effectsGot = stateHash(output.rawEffects as JsonValue[]);
    const effectsExpected = stateHash(record.effects as JsonValue[]);
    if (effectsGot !== effectsExpected) return mismatch('re-execution asked for different effects', effectsExpected, effectsGot);
    return { status: 'confirmed', agent: id, step, recordedBy: recorded.author, stateHash: got };
  }

  /** Spawns this node's agent:federation-health-monitor (once; idempotent). Returns its id. */
  async startHealthMonitor(): Promise<string> {
    const id = formatAgentId(HEALTH_MONITOR_NAME, nodeShard(this.nodeId));
    if (!this.#ledger.citizen(id)) {
      const plan = this.#planSpawnWithId(id, HEALTH_MONITOR_SOURCE, ['health.report'], ['monitor-federation']);
      await this.#kernel.appendEntries(plan);
    }
    this.#monitor = id;
    return id;
  }

  get healthMonitorId(): string | undefined {
    return this.#monitor;
  }

  /** Sends federation metrics to the health monitor (started if needed). */
  async reportMetrics(metrics: Omit<FederationMetrics, 'type'>): Promise<StepResult> {
    const id = this.#monitor ?? (await this.startHealthMonitor());
    return this.send(id, { type: 'metrics', ...metrics });
  }

  close(): void {
    this.#unsubscribe();
    this.#listeners.clear();
  }

  #planSpawnWithId(id: string, source: string, rights: Right[], duties: string[]): { kind: string; value: JsonValue }[] {
    const bytes = utf8(source);
    const cid = blobCid(bytes);
    const entries: { kind: string; value: JsonValue }[] = [];
    if (!this.#ledger.hasBlob(cid)) for (const chunk of chunkBlob(bytes)) entries.push({ kind: KINDS.chunk, value: { ...chunk } });
    entries.push({ kind: KINDS.register, value: { agent: id, program: cid, rights, duties, parent: null } });
    entries.push({ kind: KINDS.spawn, value: { agent: id, program: cid, state: {}, stateHash: stateHash({}) } });
    return entries;
  }

  #isLive(id: string): boolean {
    const hosting = this.#ledger.hosting(id);
    return hosting !== undefined && hosting.host === this.nodeId && hosting.resumed && !this.#leaving.has(id);
  }

  #assertLive(id: string): void {
    const hosting = this.#ledger.hosting(id);
    if (!hosting) throw new AgentNotFoundError(`no agent ${id} is registered`);
    if (this.#leaving.has(id) || hosting.host !== this.nodeId) {
      throw new AgentNotHostedError(`${id} is hosted by node ${hosting.host} (epoch ${hosting.epoch}), not by this node`);
    }
    if (!hosting.resumed) throw new AgentNotHostedError(`${id} is arriving at this node and has not resumed yet`);
  }

  #code(citizen: Citizen): string {
    return this.#programSource(citizen.program, ` of ${citizen.id}`);
  }

  #programSource(cid: string, of = ''): string {
    const bytes = this.#ledger.blob(cid);
    if (!bytes) throw new ContentUnavailableError(`program ${cid}${of} is not held by this node (yet)`);
    return fromUtf8(bytes, `program ${cid}`);
  }

  /** Why the program `code` (CID `cid`) does not load in the sandbox — `<fault kind>: <message>` — or undefined when it does. */
  async #loadProblem(cid: string, code: string): Promise<string | undefined> {
    if (this.#loadable.has(cid)) return undefined;
    const outcome = await this.#sandbox.run({
      code,
      modules: [],
      state: 'null',
      message: 'null',
      ctx: '{}',
      seed: [0, 0, 0, 0],
      loadOnly: true,
    });
    if (!outcome.ok) return `${outcome.fault.kind}: ${outcome.fault.message}`;
    // Bounded: programs are few, but a long-running node should not keep every CID ever spawned.
    if (this.#loadable.size >= 1024) this.#loadable.clear();
    this.#loadable.add(cid);
    return undefined;
  }

  async #step(id: string, message: JsonValue, hops: number, cause: string | undefined): Promise<StepResult> {
    this.#assertLive(id);
    const citizen = this.#ledger.citizen(id)!;
    const committed = this.#ledger.committed(id)!;
    const epoch = this.#ledger.hosting(id)!.epoch;
    const step = committed.step + 1;
    const imports = this.#ledger.imports(id);
    const request = {
      code: this.#code(citizen),
      modules: Object.entries(imports).map(([name, cid]) => ({ name, source: this.module.source(name, cid) })),
      state: JSON.stringify(committed.state),
      message: JSON.stringify(message),
      ctx: JSON.stringify({ self: id, step }),
      seed: stepSeed(id, step),
    };
    this.#running = id;
    let outcome;
    try {
      const running = this.#sandbox.run(request);
      if (this.#killNext.delete(id)) this.#sandbox.kill();
      outcome = await running;
    } finally {
      this.#running = undefined;
    }
    if (!outcome.ok) return this.#rollback(id, step, outcome.fault, committed, cause);
    let output;
    try {
      output = parseStepOutput(outcome.output, this.#limits);
    } catch (error) {
      if (!(error instanceof StepOutputError)) throw error;
      return this.#rollback(id, step, { kind: 'output', message: error.message }, committed, cause);
    }
    const loadProblems = await this.#spawnLoadProblems(citizen, output.effects);
    const plans = output.effects.map((effect, i) => this.#planEffect(citizen, step, effect, hops, loadProblems[i]));
    const hash = stateHash(output.state);
    const stepEntry = {
      kind: KINDS.step,
      value: {
        agent: id,
        epoch,
        step,
        message,
        prevHash: committed.stateHash,
        state: output.state,
        stateHash: hash,
        effects: [...output.rawEffects],
        modules: imports,
        ...(cause === undefined ? {} : { cause }),
      },
    };
    let results;
    try {
      results = await this.#kernel.appendEntries([stepEntry, ...plans.flatMap((p) => p.entries)]);
    } catch (error) {
      // An entry the ledger refuses (too large once encoded) is the guest's output fault.
      if (!(error instanceof InvalidInputError || error instanceof RangeError)) throw error;
      return this.#rollback(id, step, { kind: 'output', message: `the step's records were refused: ${error.message}` }, committed, cause);
    }
    return {
      status: 'committed',
      agent: id,
      step,
      state: output.state,
      stateHash: hash,
      effects: plans.map((p) => p.outcome),
      entry: results[0]!.id,
    };
  }

  async #rollback(id: string, step: number, fault: SandboxFault, committed: Committed, cause?: string): Promise<StepResult> {
    // The state the agent goes on from is the committed one, as the ledger holds it; it
    // must hash to the committed hash, or the node's own records are damaged.
    const restored = committed.state;
    const restoredHash = stateHash(restored);
    await this.#kernel.appendEntries([
      {
        kind: KINDS.rollback,
        value: {
          agent: id,
          step,
          fault: { kind: fault.kind, message: fault.message },
          restoredHash,
          committedHash: committed.stateHash,
          ...(cause === undefined ? {} : { cause }),
        },
      },
    ]);
    if (restoredHash !== committed.stateHash) {
      throw new RollbackVerificationError(`restored state of ${id} hashes to ${restoredHash}, committed was ${committed.stateHash}`);
    }
    return { status: 'rolled-back', agent: id, step, fault, state: restored, stateHash: restoredHash, verified: true };
  }

  /**
   * For each effect: why the spawn it asks for cannot go ahead because of its program —
   * it does not load (see #loadProblem), or the step already had MAX_PROGRAM_LOADS_PER_STEP
   * programs new to this node loaded (each load may take the whole CPU limit of a step, so
   * a flood of spawns cannot multiply what one step costs the node).
   */
  async #spawnLoadProblems(citizen: Citizen, effects: readonly Effect[]): Promise<(string | undefined)[]> {
    const problems: (string | undefined)[] = [];
    let loads = 0;
    for (const effect of effects) {
      const program = effect.type === 'spawn' && citizen.rights.includes(RIGHT_FOR_EFFECT.spawn) ? this.#effectProgram(effect) : undefined;
      if (!program || this.#loadable.has(program.cid)) {
        problems.push(undefined);
      } else if (loads >= MAX_PROGRAM_LOADS_PER_STEP) {
        problems.push(
          `program ${program.cid} was not loaded: one step loads at most ${MAX_PROGRAM_LOADS_PER_STEP} programs new to this node`,
        );
      } else {
        loads++;
        const problem = await this.#loadProblem(program.cid, program.code);
        problems.push(problem && `program ${program.cid} does not load: ${problem}`);
      }
    }
    return problems;
  }

  /** The program a spawn effect names, when it is readable here (otherwise #planEffect refuses the effect for that). */
  #effectProgram(effect: Effect): { cid: string; code: string } | undefined {
    try {
      const { code, cid } = effect.body;
      if (typeof code === 'string' && code.length > 0) return { cid: blobCid(utf8(code)), code };
      if (typeof cid === 'string') {
        const parsed = parseBlobCid(cid);
        return { cid: parsed, code: this.#programSource(parsed) };
      }
    } catch {
      // Not a CID, or not held: the effect's own plan says so.
    }
    return undefined;
  }

  #planEffect(citizen: Citizen, step: number, effect: Effect, hops: number, loadProblem?: string): EffectPlan {
    const agent = citizen.id;
    const refuse = (reason: string, right: string | null = null): EffectPlan => ({
      outcome: { type: effect.type, status: 'refused', right, reason },
      entries: [{ kind: KINDS.refusal, value: { agent, step, effect: effect.type.slice(0, 64), right, reason } }],
    });
    if (!isEffectType(effect.type)) return refuse(`unknown effect type ${JSON.stringify(effect.type.slice(0, 64))}`);
    const right = RIGHT_FOR_EFFECT[effect.type];
    if (!citizen.rights.includes(right)) return refuse(`${agent} has no right ${right}`, right);
    const done = (entries: { kind: string; value: JsonValue }[]): EffectPlan => ({
      outcome: { type: effect.type, status: 'done', right },
      entries,
    });
    const body = effect.body;
    switch (effect.type) {
      case 'append':
        if (!('value' in body)) return refuse('append needs {value}', right);
        return done([{ kind: KINDS.data, value: { agent, step, value: body['value']! } }]);
      case 'propose':
        if (!('proposal' in body)) return refuse('propose needs {proposal}', right);
        return done([{ kind: KINDS.proposal, value: { agent, step, proposal: body['proposal']! } }]);
      case 'report':
        if (!('report' in body)) return refuse('report needs {report}', right);
        return done([{ kind: KINDS.report, value: { agent, step, report: body['report']! } }]);
      case 'alert':
        if (!('alert' in body)) return refuse('alert needs {alert}', right);
        return done([{ kind: KINDS.alert, value: { agent, step, alert: body['alert']! } }]);
      case 'send': {
        const to = body['to'];
        if (!isAgentId(to) || !('message' in body)) return refuse('send needs {to: agent id, message}', right);
        if (!this.#ledger.citizen(to)) return refuse(`no agent ${to} is registered`, right);
        if (hops + 1 > this.#maxHops) return refuse(`hop limit: a chain of ${this.#maxHops} sends ends here`, right);
        // Delivered when the entry is in the ledger (#ingest), here or at the recipient's host.
        return done([{ kind: KINDS.send, value: { from: agent, to, step, message: body['message']!, hops: hops + 1 } }]);
      }
      case 'import': {
        const name = body['name'];
        const cid = body['cid'];
        if (typeof name !== 'string' || typeof cid !== 'string') return refuse('import needs {name, cid}', right);
        try {
          const loaded = this.module.import(name, cid);
          if (loaded.kind !== 'js') return refuse(`module ${name} is ${loaded.kind}: only js modules run inside agent sandboxes`, right);
        } catch (error) {
          return refuse(`module ${name} cannot be imported: ${(error as Error).message}`, right);
        }
        return done([{ kind: KINDS.import, value: { agent, step, name, cid } }]);
      }
      case 'spawn': {
        const requested = body['rights'] ?? [];
        if (!Array.isArray(requested) || !requested.every(isRight)) return refuse('spawn rights must be known rights', right);
        const excess = requested.filter((r) => !citizen.rights.includes(r));
        if (excess.length > 0)
          return refuse(`a child's rights must be a subset of its parent's; ${agent} lacks ${excess.join(', ')}`, right);
        const code = body['code'];
        const program = typeof code === 'string' ? code : typeof body['cid'] === 'string' ? { cid: body['cid'] } : undefined;
        if (program === undefined || typeof body['name'] !== 'string')
          return refuse('spawn needs {name, code or cid, rights?, state?}', right);
        try {
          const plan = this.#planSpawn(program, { name: body['name'], rights: requested, state: body['state'] ?? {} }, agent);
          if (this.#reserved.has(plan.id)) return refuse(`${plan.id} is already being spawned`, right);
          if (loadProblem !== undefined) return refuse(`spawn refused: ${loadProblem}`, right);
          return done(plan.entries);
        } catch (error) {
          if (
            error instanceof AgentExistsError ||
            error instanceof InvalidInputError ||
            error instanceof ContentUnavailableError ||
            error instanceof ModuleError
          ) {
            return refuse(`spawn refused: ${error.message}`, right);
          }
          throw error;
        }
      }
    }
  }

  /** Per-agent serialisation: steps, migrations of one agent never interleave. */
  #exclusive<T>(id: string, action: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(id) ?? Promise.resolve();
    const run = previous.then(action, action);
    const tail = run.catch(() => undefined);
    this.#queues.set(id, tail);
    void tail.then(() => {
      if (this.#queues.get(id) === tail) this.#queues.delete(id);
    });
    return run;
  }

  #ingest(entries: readonly ViewEntry[]): void {
    for (const entry of entries) if (entry.kind === KINDS.refusal && parseRefusal(entry.payload)) this.#refusals++;
    const touched = this.#ledger.add(entries);
    if (touched.size === 0) return;
    for (const id of touched) if (this.#isLive(id)) this.#deliverMail(id);
    for (const id of touched) {
      const hosting = this.#ledger.hosting(id);
      if (hosting && hosting.host === this.nodeId && !hosting.resumed && hosting.arrival && !this.#resuming.has(id)) {
        this.#resuming.add(id);
        void this.#exclusive(id, () => this.#resume(id)).finally(() => this.#resuming.delete(id));
      }
    }
    const ids = [...touched].sort();
    for (const listener of this.#listeners) {
      try {
        listener(ids);
      } catch {
        // A failing listener stops nothing.
      }
    }
  }

  /**
   * Runs a step for every message sent to a live agent here that no host of it has
   * handled yet (a step or rollback naming the agent.send as its cause): mail from agents
   * on this node and, through the sync, from agents anywhere. Exactly once per message,
   * because handling is recorded in the same batch as the step.
   */
  #deliverMail(id: string): void {
    for (const { entry, record } of this.#ledger.mail(id)) {
      if (this.#delivering.has(entry) || this.#ledger.handled(id, entry)) continue;
      this.#delivering.add(entry);
      void this.#exclusive(id, async () => {
        if (!this.#isLive(id) || this.#ledger.handled(id, entry)) return;
        await this.#step(id, record.message, record.hops, entry);
      })
        .catch(() => undefined)
        .finally(() => this.#delivering.delete(entry));
    }
  }

  /** Takes in an agent handed over to this node: verifies passport and state hash, then writes agent.resume. */
  async #resume(id: string): Promise<void> {
    const hosting = this.#ledger.hosting(id);
    const arrival = hosting?.arrival;
    if (!hosting || !arrival || hosting.resumed || hosting.host !== this.nodeId) return;
    const refuse = async (reason: string): Promise<void> => {
      await this.#kernel.appendEntries([
        { kind: KINDS.refusal, value: { agent: id, step: arrival.step, effect: 'resume', right: null, reason } },
      ]);
    };
    try {
      const view = await verifyPassport(arrival.passport);
      if (view.agent !== id) return await refuse(`the passport is of ${view.agent}`);
      const citizen = this.#ledger.citizen(id);
      if (citizen && (citizen.registrar !== view.registrar || citizen.program !== view.program)) {
        return await refuse('the passport disagrees with the PolicyLedger held here');
      }
    } catch (error) {
      return refuse((error as Error).message);
    }
    const committed = this.#ledger.committed(id);
    if (
      !committed ||
      committed.step !== arrival.step ||
      committed.stateHash !== arrival.stateHash ||
      stateHash(committed.state) !== arrival.stateHash
    ) {
      return refuse(
        `the committed state here (step ${committed?.step}) does not match the hand-over (step ${arrival.step}, ${arrival.stateHash})`,
      );
    }
    await this.#kernel.appendEntries([
      {
        kind: KINDS.resume,
        value: { agent: id, epoch: hosting.epoch, from: arrival.from, step: arrival.step, stateHash: arrival.stateHash },
      },
    ]);
  }
}
