import type { JsonValue } from '../ledger/json-value.js';
import { compareEntries, type ViewEntry } from '../state/derived-view.js';
import { assembleBlob, type BlobChunk } from './content.js';
import type { Right } from './rights.js';
import {
  agentOf,
  compareVersions,
  type InstallRecord,
  KINDS,
  type MigrateRecord,
  parseChunk,
  parseInstall,
  parseMigrate,
  parsePolicyChange,
  parsePublish,
  parseRegister,
  parseResume,
  parseSpawn,
  parseStep,
  parseUninstall,
  type PublishRecord,
  type RegisterRecord,
  type StepRecord,
} from './records.js';

/** A registered agent as the PolicyLedger says (F15). */
export interface Citizen {
  readonly id: string;
  readonly program: string;
  /** Node id of the registrar: the author of the winning policy.register. */
  readonly registrar: string;
  readonly rights: readonly Right[];
  readonly duties: readonly string[];
  readonly parent: string | null;
  /** Policy entries (register, grants, revokes) of the registrar's log for this agent: `seq`s, ascending. */
  readonly policySeqs: readonly number[];
}

export interface Hosting {
  /** Current hosting epoch: 0 at spawn, +1 per hand-over. */
  readonly epoch: number;
  /** Node id allowed to run the agent in this epoch. */
  readonly host: string;
  /** Epoch 0 is live at once; a later epoch once its host wrote agent.resume. */
  readonly resumed: boolean;
  /** The hand-over that started this epoch (epoch > 0). */
  readonly arrival: (MigrateRecord & { readonly entry: string }) | undefined;
}

export interface Committed {
  readonly step: number;
  readonly epoch: number;
  readonly state: JsonValue;
  readonly stateHash: string;
  /** Entry id and author of the agent.spawn or agent.step that committed it. */
  readonly entry: string;
  readonly author: string;
}

export interface RecordedStep {
  readonly record: StepRecord;
  readonly entry: string;
  readonly author: string;
}

export interface ModuleVersion extends PublishRecord {
  readonly publisher: string;
}

/**
 * The agent registry every node derives from the logs it holds — like
 * src/state/derived-view.ts, a function of the set of entries, not of their arrival
 * order: conflicting records are resolved by (HLC time, author, seq), the same way on
 * every node. It answers who an agent is and what it may do (the PolicyLedger), who
 * hosts it, what its last committed state is, and which programs and modules are held.
 */
export class AgentLedger {
  readonly #seen = new Set<string>();
  /** Entries per agent id, unsorted. */
  readonly #byAgent = new Map<string, ViewEntry[]>();
  readonly #chunks = new Map<string, BlobChunk[]>();
  readonly #blobs = new Map<string, Uint8Array>();
  readonly #modules: ViewEntry[] = [];
  readonly #cache = new Map<string, { citizen?: Citizen | null; hosting?: Hosting | null; committed?: Committed | null }>();
  #modulesCache: Map<string, ModuleVersion[]> | undefined;
  #ignored = 0;

  /** Adds entries (any kind; others are skipped); returns the ids of agents whose records changed. */
  add(entries: readonly ViewEntry[]): Set<string> {
    const touched = new Set<string>();
    for (const entry of entries) {
      if (this.#seen.has(entry.id)) continue;
      this.#seen.add(entry.id);
      const agent = this.#file(entry);
      if (agent) {
        touched.add(agent);
        this.#cache.delete(agent);
      }
    }
    return touched;
  }

  /** Agent-layer entries whose payload did not parse (ignored). */
  get ignored(): number {
    return this.#ignored;
  }

  /** The bytes of a blob if all its chunks are held (verified against the CID). */
  blob(cid: string): Uint8Array | undefined {
    const cached = this.#blobs.get(cid);
    if (cached) return cached;
    const chunks = this.#chunks.get(cid);
    if (!chunks) return undefined;
    let bytes: Uint8Array | undefined;
    try {
      bytes = assembleBlob(cid, chunks);
    } catch {
      return undefined;
    }
    if (bytes) this.#blobs.set(cid, bytes);
    return bytes;
  }

  hasBlob(cid: string): boolean {
    return this.blob(cid) !== undefined;
  }

  agentIds(): string[] {
    return [...this.#byAgent.keys()].filter((id) => this.citizen(id)).sort();
  }

  citizen(id: string): Citizen | undefined {
    const cache = this.#slot(id);
    if (cache.citizen === undefined) cache.citizen = this.#deriveCitizen(id) ?? null;
    return cache.citizen ?? undefined;
  }

  hosting(id: string): Hosting | undefined {
    const cache = this.#slot(id);
    if (cache.hosting === undefined) cache.hosting = this.#deriveHosting(id)?.hosting ?? null;
    return cache.hosting ?? undefined;
  }

  committed(id: string): Committed | undefined {
    const cache = this.#slot(id);
    if (cache.committed === undefined) cache.committed = this.#deriveCommitted(id) ?? null;
    return cache.committed ?? undefined;
  }

  /** The valid recorded step `step` of an agent (written by the host of its epoch). */
  recordedStep(id: string, step: number): RecordedStep | undefined {
    return this.#validSteps(id).find((s) => s.record.step === step);
  }

  /** State before step `step` (the spawn state for step 1). */
  stateBefore(id: string, step: number): { state: JsonValue; stateHash: string } | undefined {
    if (step === 1) {
      const spawn = this.#spawn(id);
      return spawn && { state: spawn.record.state, stateHash: spawn.record.stateHash };
    }
    const previous = this.recordedStep(id, step - 1);
    return previous && { state: previous.record.state, stateHash: previous.record.stateHash };
  }

  /** Modules the agent imported (name → CID), by imports its hosts recorded. */
  imports(id: string): Record<string, string> {
    const hosts = this.#deriveHosting(id)?.hosts ?? [];
    const out: Record<string, string> = {};
    for (const entry of this.#sorted(id)) {
      if (entry.kind !== KINDS.import || !hosts.includes(entry.author)) continue;
      const p = entry.payload as { name?: unknown; cid?: unknown };
      if (typeof p.name === 'string' && typeof p.cid === 'string') out[p.name] = p.cid;
    }
    return out;
  }

  /** Every agent-layer entry about an agent, in (time, author, seq) order. */
  history(id: string): ViewEntry[] {
    return this.#sorted(id);
  }

  /** Published versions of a module, ascending (the first publication of a name@version wins). */
  moduleVersions(name: string): ModuleVersion[] {
    return this.#registry().get(name) ?? [];
  }

  moduleNames(): string[] {
    return [...this.#registry().keys()].sort();
  }

  /** What a node has installed (module.install / module.uninstall in its own log), by name. */
  installed(nodeId: string): Map<string, InstallRecord> {
    const out = new Map<string, InstallRecord>();
    for (const entry of [...this.#modules].sort(compareEntries)) {
      if (entry.author !== nodeId) continue;
      if (entry.kind === KINDS.install) {
        const record = parseInstall(entry.payload);
        if (record) out.set(record.name, record);
      } else if (entry.kind === KINDS.uninstall) {
        const record = parseUninstall(entry.payload);
        if (record) out.delete(record.name);
      }
    }
    return out;
  }

  #slot(id: string) {
    let slot = this.#cache.get(id);
    if (!slot) this.#cache.set(id, (slot = {}));
    return slot;
  }

  /** Files an entry under its agent (or blob, or module registry); returns the agent id if any. */
  #file(entry: ViewEntry): string | undefined {
    switch (entry.kind) {
      case KINDS.chunk: {
        const chunk = parseChunk(entry.payload);
        if (!chunk) {
          this.#ignored++;
          return undefined;
        }
        const list = this.#chunks.get(chunk.cid) ?? [];
        list.push(chunk);
        this.#chunks.set(chunk.cid, list);
        return undefined;
      }
      case KINDS.publish:
      case KINDS.install:
      case KINDS.uninstall:
        this.#modules.push(entry);
        this.#modulesCache = undefined;
        return undefined;
      default:
        break;
    }
    if (!entry.kind.startsWith('agent.') && !entry.kind.startsWith('policy.') && !entry.kind.startsWith('health.')) return undefined;
    const p = entry.payload as { agent?: unknown };
    const agent = typeof p === 'object' && p !== null && typeof p.agent === 'string' ? p.agent : agentOf(entry.payload)?.agent;
    if (agent === undefined) {
      this.#ignored++;
      return undefined;
    }
    const list = this.#byAgent.get(agent) ?? [];
    list.push(entry);
    this.#byAgent.set(agent, list);
    return agent;
  }

  #sorted(id: string): ViewEntry[] {
    const list = this.#byAgent.get(id);
    if (!list) return [];
    list.sort(compareEntries);
    return list;
  }

  #registration(id: string): { record: RegisterRecord; entry: ViewEntry } | undefined {
    for (const entry of this.#sorted(id)) {
      if (entry.kind !== KINDS.register) continue;
      const record = parseRegister(entry.payload);
      if (record && record.agent === id) return { record, entry };
    }
    return undefined;
  }

  #deriveCitizen(id: string): Citizen | undefined {
    const registration = this.#registration(id);
    if (!registration) return undefined;
    const registrar = registration.entry.author;
    const rights = new Set<Right>(registration.record.rights);
    const policySeqs = [registration.entry.seq];
    // Only the registrar's own log changes an agent's rights, in its log order.
    const changes = this.#sorted(id)
      .filter((e) => e.author === registrar && (e.kind === KINDS.grant || e.kind === KINDS.revoke))
      .sort((a, b) => a.seq - b.seq);
    for (const entry of changes) {
      const change = parsePolicyChange(entry.payload);
      if (!change || change.agent !== id) continue;
      policySeqs.push(entry.seq);
      for (const right of change.rights) {
        if (entry.kind === KINDS.grant) rights.add(right);
        else rights.delete(right);
      }
    }
    return {
      id,
      program: registration.record.program,
      registrar,
      rights: [...rights].sort(),
      duties: registration.record.duties,
      parent: registration.record.parent,
      policySeqs: policySeqs.sort((a, b) => a - b),
    };
  }

  /** The hand-over chain: epoch 0 is the registrar's; each valid agent.migrate by the current host moves it on. */
  #deriveHosting(id: string): { hosting: Hosting; hosts: string[]; ends: Map<number, number> } | undefined {
    const citizen = this.citizen(id);
    if (!citizen) return undefined;
    const entries = this.#sorted(id);
    const migrations = entries
      .filter((e) => e.kind === KINDS.migrate)
      .map((e) => ({ entry: e, record: parseMigrate(e.payload) }))
      .filter((m): m is { entry: ViewEntry; record: MigrateRecord } => m.record !== undefined && m.record.agent === id)
      .sort((a, b) => a.entry.seq - b.entry.seq);
    const hosts = [citizen.registrar];
    /** epoch → the step its hand-over recorded (no later step of that epoch is valid). */
    const ends = new Map<number, number>();
    let arrival: Hosting['arrival'];
    for (;;) {
      const epoch = hosts.length - 1;
      const host = hosts[epoch]!;
      const next = migrations.find((m) => m.record.epoch === epoch && m.entry.author === host && m.record.from === host);
      if (!next) break;
      ends.set(epoch, next.record.step);
      hosts.push(next.record.to);
      arrival = { ...next.record, entry: next.entry.id };
    }
    const epoch = hosts.length - 1;
    const host = hosts[epoch]!;
    const resumed =
      epoch === 0 ||
      entries.some(
        (e) =>
          e.kind === KINDS.resume && e.author === host && parseResume(e.payload)?.epoch === epoch && parseResume(e.payload)?.agent === id,
      );
    return { hosting: { epoch, host, resumed, arrival }, hosts, ends };
  }

  #spawn(id: string): { record: ReturnType<typeof parseSpawn> & object; entry: ViewEntry } | undefined {
    const citizen = this.citizen(id);
    if (!citizen) return undefined;
    for (const entry of this.#sorted(id)) {
      if (entry.kind !== KINDS.spawn || entry.author !== citizen.registrar) continue;
      const record = parseSpawn(entry.payload);
      if (record && record.agent === id) return { record, entry };
    }
    return undefined;
  }

  /** Steps written by the host of their epoch, within that epoch's bounds; one per step number (the first wins). */
  #validSteps(id: string): RecordedStep[] {
    const chain = this.#deriveHosting(id);
    if (!chain) return [];
    const out = new Map<number, RecordedStep>();
    for (const entry of this.#sorted(id)) {
      if (entry.kind !== KINDS.step) continue;
      const record = parseStep(entry.payload);
      if (!record || record.agent !== id || chain.hosts[record.epoch] !== entry.author) continue;
      const end = chain.ends.get(record.epoch);
      if (end !== undefined && record.step > end) continue;
      if (!out.has(record.step)) out.set(record.step, { record, entry: entry.id, author: entry.author });
    }
    return [...out.values()].sort((a, b) => a.record.step - b.record.step);
  }

  #deriveCommitted(id: string): Committed | undefined {
    const spawn = this.#spawn(id);
    if (!spawn) return undefined;
    const steps = this.#validSteps(id);
    // The committed head is the end of the unbroken chain from the spawn.
    let head: Committed = {
      step: 0,
      epoch: 0,
      state: spawn.record.state,
      stateHash: spawn.record.stateHash,
      entry: spawn.entry.id,
      author: spawn.entry.author,
    };
    for (const s of steps) {
      if (s.record.step !== head.step + 1 || s.record.prevHash !== head.stateHash || s.record.epoch < head.epoch) break;
      head = {
        step: s.record.step,
        epoch: s.record.epoch,
        state: s.record.state,
        stateHash: s.record.stateHash,
        entry: s.entry,
        author: s.author,
      };
    }
    return head;
  }

  #registry(): Map<string, ModuleVersion[]> {
    if (this.#modulesCache) return this.#modulesCache;
    const registry = new Map<string, ModuleVersion[]>();
    for (const entry of [...this.#modules].sort(compareEntries)) {
      if (entry.kind !== KINDS.publish) continue;
      const record = parsePublish(entry.payload);
      if (!record) continue;
      const versions = registry.get(record.name) ?? [];
      if (versions.some((v) => v.version === record.version)) continue;
      versions.push({ ...record, publisher: entry.author });
      registry.set(record.name, versions);
    }
    for (const versions of registry.values()) versions.sort((a, b) => compareVersions(a.version, b.version));
    this.#modulesCache = registry;
    return registry;
  }
}
