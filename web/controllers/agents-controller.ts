import type { ReactiveControllerHost } from 'lit';
import type { AgentView, HistoryItem, MigrationResult, ReplayVerdict, SpawnResult, StepResult } from '../../workers/agent-service.js';
import type { KernelClient } from '../kernel-client.js';
import type { NaosAgentsApi } from '../naos-agents.js';
import type { NaosApi } from '../naos-api.js';
import { ApiController } from './api-controller.js';
import { describeError } from './kernel-controller.js';

export interface AgentsSnapshot {
  readonly nodeId: string;
  readonly agents: readonly AgentView[];
  /** Other nodes an agent can migrate to. */
  readonly peers: readonly string[];
}

export interface AgentDetail {
  readonly agent: AgentView;
  readonly history: readonly HistoryItem[];
  readonly refusals: readonly HistoryItem[];
}

interface AgentsView {
  readonly snapshot: AgentsSnapshot;
  readonly detail: AgentDetail | undefined;
}

/** What the last action did, for the panel to show. */
export type ActionOutcome =
  | { readonly action: 'spawn'; readonly ok: true; readonly result: SpawnResult }
  | { readonly action: 'send'; readonly ok: true; readonly result: StepResult }
  | { readonly action: 'migrate'; readonly ok: true; readonly result: MigrationResult }
  | { readonly action: 'replay'; readonly ok: true; readonly result: ReplayVerdict }
  | { readonly action: string; readonly ok: false; readonly error: string };

/**
 * Agent state for the Agents panel, read through `naos.agents` only: the list, the
 * selected agent's history and refusals; re-read when agent records or heads change.
 * Actions go through the same API and leave their outcome in `outcome`.
 */
export class AgentsController {
  outcome: ActionOutcome | undefined;
  busy = false;
  readonly #host: ReactiveControllerHost;
  readonly #view: ApiController<AgentsView>;
  #client: KernelClient | undefined;
  #selected: string | undefined;

  constructor(host: ReactiveControllerHost) {
    this.#host = host;
    this.#view = new ApiController(host, {
      read: (naos) => this.#read(naos),
      changes: (naos, listener) => naos.agents.onChange(listener),
    });
  }

  get snapshot(): AgentsSnapshot | undefined {
    return this.#view.value?.snapshot;
  }

  /** The selected agent's detail (undefined until it has been read for the current selection). */
  get detail(): AgentDetail | undefined {
    const detail = this.#view.value?.detail;
    return detail?.agent.id === this.#selected ? detail : undefined;
  }

  get error(): string | undefined {
    return this.#view.error;
  }

  set client(client: KernelClient | undefined) {
    this.#client = client;
    this.#view.client = client;
  }

  get selected(): string | undefined {
    return this.#selected;
  }

  select(id: string | undefined): void {
    this.#selected = id;
    this.#host.requestUpdate();
    void this.refresh();
  }

  spawn(code: string | { cid: string }, name: string, rights: readonly string[]): Promise<void> {
    return this.#act('spawn', async (agents) => {
      const result = await agents.spawn(code, { name, rights });
      this.#selected = result.id;
      return { action: 'spawn', ok: true, result };
    });
  }

  send(id: string, message: unknown): Promise<void> {
    return this.#act('send', async (agents) => ({ action: 'send', ok: true, result: await agents.send(id, message) }));
  }

  /** Kills the sandbox under the agent's step; the step's own outcome (rolled back) is what the panel then shows. */
  async kill(id: string): Promise<void> {
    const client = this.#client;
    if (!client) return;
    try {
      await client.naos.agents.kill(id);
    } catch (error) {
      this.outcome = { action: 'kill', ok: false, error: describeError(error) };
      this.#host.requestUpdate();
    }
  }

  migrate(id: string, to: string): Promise<void> {
    return this.#act('migrate', async (agents) => ({ action: 'migrate', ok: true, result: await agents.migrate(id, to) }));
  }

  replay(id: string, step: number): Promise<void> {
    return this.#act('replay', async (agents) => ({ action: 'replay', ok: true, result: await agents.replay(id, step) }));
  }

  refresh(): Promise<void> {
    return this.#view.refresh();
  }

  async #read(naos: NaosApi): Promise<AgentsView> {
    const [nodeId, agents, peers] = await Promise.all([naos.nodeId(), naos.agents.list(), naos.peers()]);
    const id = this.#selected;
    const detail =
      id !== undefined && agents.some((a) => a.id === id)
        ? { agent: await naos.agents.get(id), history: await naos.agents.history(id, 50), refusals: await naos.agents.refusals(id) }
        : undefined;
    return { snapshot: { nodeId, agents, peers: peers.map((p) => p.nodeId) }, detail };
  }

  async #act(action: string, run: (agents: NaosAgentsApi) => Promise<ActionOutcome>): Promise<void> {
    const client = this.#client;
    if (!client || this.busy) return;
    this.busy = true;
    this.#host.requestUpdate();
    try {
      this.outcome = await run(client.naos.agents);
    } catch (error) {
      this.outcome = { action, ok: false, error: describeError(error) };
    } finally {
      this.busy = false;
      await this.refresh();
    }
  }
}
