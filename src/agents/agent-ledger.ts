import type { JsonValue } from '../ledger/json-value.js';
import { compareEntries, type DriftEvent, type ViewEntry } from '../state/derived-view.js';
import { assembleBlob, type BlobChunk } from './content.js';
import type { Right } from './rights.js';
import {
  agentOf,
  compareVersions,
  type InstallRecord,
  KINDS,
  type MigrateRecord,
  type PolicyChangeRecord,
  type ResumeRecord,
  type SendRecord,
  type SpawnRecord,
  parseChunk,
  parseInstall,
  parseMigrate,
  parsePolicyChange,
  parsePublish,
  parseRegister,
  parseResume,
  parseRollback,
  parseSend,
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
  readonly #agents = new Map<string, AgentRecords>();
  readonly #chunks = new Map<string, BlobChunk[]>();
  readonly #blobs = new Map<string, Uint8Array>();
  readonly #modules: ViewEntry[] = [];
  /** agent.send entries by recipient. */
  readonly #mail = new Map<string, Parsed<SendRecord>[]>();
  #modulesCache: Map<string, ModuleVersion[]> | undefined;
  #ignored = 0;

  /** Adds entries (any kind; others are skipped); returns the ids of agents whose records changed. */
  add(entries: readonly ViewEntry[]): Set<string> {
    const touched = new Set<string>();
    for (const entry of entries) {
      if (this.#seen.has(entry.id)) continue;
      this.#seen.add(entry.id);
      const agent = this.#file(entry);
      if (agent) touched.add(agent);
      if (entry.kind === KINDS.send) {
        const record = parseSend(entry.payload);
        if (record) {
          const inbox = this.#mail.get(record.to) ?? [];
          inbox.push({ entry, record });
          this.#mail.set(record.to, inbox);
          touched.add(record.to);
        }
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
    return [...this.#agents.keys()].filter((id) => this.citizen(id)).sort();
  }

  /**
   * Drift in the PolicyLedger (F12), the same on every node: agents registered by more
   * than one node, then module versions (`name@version`) published by more than one node
   * with different content. A node refuses to register an id or publish a version it
   * knows, so these were made without seeing each other. The first record by (time,
   * author, seq) wins everywhere; every contender is listed.
   */
  drift(): DriftEvent[] {
    const events: DriftEvent[] = [];
    for (const [id, records] of [...this.#agents].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const event = conflict(
        KINDS.register,
        id,
        records.registers.map((r) => r.entry),
      );
      if (event) events.push(event);
    }
    const publications = new Map<string, { entries: ViewEntry[]; cids: Set<string> }>();
    for (const entry of this.#modules) {
      const record = entry.kind === KINDS.publish ? parsePublish(entry.payload) : undefined;
      if (!record) continue;
      const key = `${record.name}@${record.version}`;
      const publication = publications.get(key) ?? { entries: [], cids: new Set<string>() };
      publication.entries.push(entry);
      publication.cids.add(record.cid);
      publications.set(key, publication);
    }
    for (const [key, { entries, cids }] of [...publications].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const event = cids.size > 1 ? conflict(KINDS.publish, key, entries) : undefined;
      if (event) events.push(event);
    }
    return events;
  }

  citizen(id: string): Citizen | undefined {
    const records = this.#agents.get(id);
    if (!records) return undefined;
    if (records.citizen === undefined) records.citizen = deriveCitizen(id, records) ?? null;
    return records.citizen ?? undefined;
  }

  hosting(id: string): Hosting | undefined {
    return this.#chain(id)?.hosting;
  }

  committed(id: string): Committed | undefined {
    const records = this.#agents.get(id);
    const chain = this.#chain(id);
    if (!records || !chain) return undefined;
    const spawn = this.#spawn(id);
    if (!spawn) return undefined;
    // The committed head is the end of the unbroken chain of valid steps from the spawn.
    // It only grows while steps arrive in order, so it is extended from where it was.
    let head = records.head;
    if (!head || head.chainKey !== chain.key || head.spawn !== spawn.entry.id) {
      head = {
        chainKey: chain.key,
        spawn: spawn.entry.id,
        value: {
          step: 0,
          epoch: 0,
          state: spawn.record.state,
          stateHash: spawn.record.stateHash,
          entry: spawn.entry.id,
          author: spawn.entry.author,
        },
      };
    }
    for (;;) {
      const next = this.#validStep(id, head.value.step + 1, chain);
      if (!next || next.record.prevHash !== head.value.stateHash || next.record.epoch < head.value.epoch) break;
      head.value = {
        step: next.record.step,
        epoch: next.record.epoch,
        state: next.record.state,
        stateHash: next.record.stateHash,
        entry: next.entry,
        author: next.author,
      };
    }
    records.head = head;
    return head.value;
  }

  /** The valid recorded step `step` of an agent (written by the host of its epoch). */
  recordedStep(id: string, step: number): RecordedStep | undefined {
    const chain = this.#chain(id);
    return chain && this.#validStep(id, step, chain);
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
    const records = this.#agents.get(id);
    const hosts = this.#chain(id)?.hosts ?? [];
    const out: Record<string, string> = {};
    if (!records) return out;
    for (const item of [...records.imports].sort((x, y) => compareEntries(x.entry, y.entry))) {
      if (hosts.includes(item.entry.author)) out[item.name] = item.cid;
    }
    return out;
  }

  /** Messages other agents sent this one (agent.send entries), in (time, author, seq) order. */
  mail(id: string): { entry: string; record: SendRecord }[] {
    return [...(this.#mail.get(id) ?? [])]
      .sort((a, b) => compareEntries(a.entry, b.entry))
      .map((m) => ({ entry: m.entry.id, record: m.record }));
  }

  /** True once a host of the agent recorded a step (or a rollback) for the message of agent.send `cause`. */
  handled(id: string, cause: string): boolean {
    const hosts = this.#chain(id)?.hosts ?? [];
    return (this.#agents.get(id)?.causes.get(cause) ?? []).some((author) => hosts.includes(author));
  }

  /** How many refusal and rollback records the agent has (all nodes). */
  counts(id: string): { refusals: number; rollbacks: number } {
    const records = this.#agents.get(id);
    return { refusals: records?.refusals ?? 0, rollbacks: records?.rollbacks ?? 0 };
  }

  /** Every agent-layer entry about an agent, in (time, author, seq) order. */
  history(id: string): ViewEntry[] {
    const records = this.#agents.get(id);
    if (!records) return [];
    if (!records.sorted) {
      records.all.sort(compareEntries);
      records.sorted = true;
    }
    return records.all;
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
    let records = this.#agents.get(agent);
    if (!records) this.#agents.set(agent, (records = emptyRecords()));
    if (!index(records, agent, entry)) this.#ignored++;
    return agent;
  }

  #spawn(id: string): { record: SpawnRecord; entry: ViewEntry } | undefined {
    const citizen = this.citizen(id);
    const records = this.#agents.get(id);
    if (!citizen || !records) return undefined;
    return first(records.spawns.filter((s) => s.entry.author === citizen.registrar));
  }

  /** The hand-over chain: epoch 0 is the registrar's; each valid agent.migrate by the current host moves it on. */
  #chain(id: string): Chain | undefined {
    const records = this.#agents.get(id);
    const citizen = this.citizen(id);
    if (!records || !citizen) return undefined;
    if (records.chain) return records.chain;
    const migrations = [...records.migrations].sort((a, b) => a.entry.seq - b.entry.seq);
    const hosts = [citizen.registrar];
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
    const resumed = epoch === 0 || records.resumes.some((r) => r.entry.author === host && r.record.epoch === epoch);
    const key = `${hosts.join(',')}|${[...ends].join(',')}`;
    records.chain = { hosting: { epoch, host, resumed, arrival }, hosts, ends, key };
    return records.chain;
  }

  /** Step `step` as written by the host of its epoch within that epoch's bounds (the first such record wins). */
  #validStep(id: string, step: number, chain: Chain): RecordedStep | undefined {
    const candidates = this.#agents.get(id)?.steps.get(step) ?? [];
    const valid = candidates.filter((c) => {
      if (chain.hosts[c.record.epoch] !== c.entry.author) return false;
      const end = chain.ends.get(c.record.epoch);
      return end === undefined || c.record.step <= end;
    });
    const winner = first(valid);
    return winner && { record: winner.record, entry: winner.entry.id, author: winner.entry.author };
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

interface Parsed<T> {
  readonly entry: ViewEntry;
  readonly record: T;
}

interface Chain {
  readonly hosting: Hosting;
  readonly hosts: readonly string[];
  /** epoch → the step its hand-over recorded (no later step of that epoch is valid). */
  readonly ends: ReadonlyMap<number, number>;
  /** Identity of the chain, to know when a cached committed head still applies. */
  readonly key: string;
}

/** Everything filed about one agent, parsed once, with derivations cached until the next entry. */
interface AgentRecords {
  readonly all: ViewEntry[];
  sorted: boolean;
  readonly registers: Parsed<RegisterRecord>[];
  readonly changes: Parsed<PolicyChangeRecord & { grant: boolean }>[];
  readonly spawns: Parsed<SpawnRecord>[];
  readonly steps: Map<number, Parsed<StepRecord>[]>;
  readonly migrations: Parsed<MigrateRecord>[];
  readonly resumes: Parsed<ResumeRecord>[];
  readonly imports: { readonly entry: ViewEntry; readonly name: string; readonly cid: string }[];
  /** agent.send ids handled by a step or rollback → authors of those records. */
  readonly causes: Map<string, string[]>;
  refusals: number;
  rollbacks: number;
  citizen?: Citizen | null;
  chain?: Chain;
  head?: { chainKey: string; spawn: string; value: Committed };
}

function emptyRecords(): AgentRecords {
  return {
    all: [],
    sorted: true,
    registers: [],
    changes: [],
    spawns: [],
    steps: new Map(),
    migrations: [],
    resumes: [],
    imports: [],
    causes: new Map(),
    refusals: 0,
    rollbacks: 0,
  };
}

/** Records of one key by more than one author, as a drift event: the first by (time, author, seq) wins. */
function conflict(kind: string, key: string, entries: readonly ViewEntry[]): DriftEvent | undefined {
  if (new Set(entries.map((e) => e.author)).size < 2) return undefined;
  const contenders = entries
    .map((entry) => ({ key, value: entry.payload, id: entry.id, author: entry.author, seq: entry.seq, time: entry.time }))
    .sort(compareEntries);
  return { kind, key, base: null, contenders, winner: contenders[0]!.id };
}

/** The first by (time, author, seq): how every node picks among conflicting records. */
function first<T extends { readonly entry: ViewEntry }>(items: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const item of items) if (!best || compareEntries(item.entry, best.entry) < 0) best = item;
  return best;
}

/** Files one entry in an agent's records and drops the caches it affects; false if its payload did not parse. */
function index(records: AgentRecords, agent: string, entry: ViewEntry): boolean {
  const last = records.all[records.all.length - 1];
  records.all.push(entry);
  if (last && compareEntries(last, entry) > 0) records.sorted = false;
  switch (entry.kind) {
    case KINDS.register: {
      const record = parseRegister(entry.payload);
      if (!record || record.agent !== agent) return false;
      records.registers.push({ entry, record });
      break;
    }
    case KINDS.grant:
    case KINDS.revoke: {
      const record = parsePolicyChange(entry.payload);
      if (!record || record.agent !== agent) return false;
      records.changes.push({ entry, record: { ...record, grant: entry.kind === KINDS.grant } });
      break;
    }
    case KINDS.spawn: {
      const record = parseSpawn(entry.payload);
      if (!record || record.agent !== agent) return false;
      records.spawns.push({ entry, record });
      records.head = undefined;
      return true;
    }
    case KINDS.step: {
      const record = parseStep(entry.payload);
      if (!record || record.agent !== agent) return false;
      if (record.cause !== undefined) addCause(records, record.cause, entry.author);
      const list = records.steps.get(record.step) ?? [];
      list.push({ entry, record });
      records.steps.set(record.step, list);
      // A second record of a step at or below the head may change who won it: start over.
      if (records.head && record.step <= records.head.value.step) records.head = undefined;
      return true;
    }
    case KINDS.migrate: {
      const record = parseMigrate(entry.payload);
      if (!record || record.agent !== agent) return false;
      records.migrations.push({ entry, record });
      break;
    }
    case KINDS.resume: {
      const record = parseResume(entry.payload);
      if (!record || record.agent !== agent) return false;
      records.resumes.push({ entry, record });
      break;
    }
    case KINDS.import: {
      const p = entry.payload as { name?: unknown; cid?: unknown };
      if (typeof p.name !== 'string' || typeof p.cid !== 'string') return false;
      records.imports.push({ entry, name: p.name, cid: p.cid });
      return true;
    }
    case KINDS.refusal:
      records.refusals++;
      return true;
    case KINDS.rollback: {
      records.rollbacks++;
      const record = parseRollback(entry.payload);
      if (record?.cause !== undefined && record.agent === agent) addCause(records, record.cause, entry.author);
      return true;
    }
    default:
      return true;
  }
  // Registration, policy and hosting records change the citizen and the hosting chain.
  records.citizen = undefined;
  records.chain = undefined;
  records.head = undefined;
  return true;
}

function addCause(records: AgentRecords, cause: string, author: string): void {
  const authors = records.causes.get(cause) ?? [];
  authors.push(author);
  records.causes.set(cause, authors);
}

function deriveCitizen(id: string, records: AgentRecords): Citizen | undefined {
  const registration = first(records.registers);
  if (!registration) return undefined;
  const registrar = registration.entry.author;
  const rights = new Set<Right>(registration.record.rights);
  const policySeqs = [registration.entry.seq];
  // Only the registrar's own log changes an agent's rights, in its log order.
  const changes = records.changes.filter((c) => c.entry.author === registrar).sort((a, b) => a.entry.seq - b.entry.seq);
  for (const change of changes) {
    policySeqs.push(change.entry.seq);
    for (const right of change.record.rights) {
      if (change.record.grant) rights.add(right);
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
