import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { AgentView, HistoryItem, MigrationResult, ReplayVerdict, SpawnResult, StepResult } from '../../workers/agent-service.js';
import type { KernelClient } from '../kernel-client.js';
import type { NaosAgentsApi } from '../naos-agents.js';
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
export class AgentsController implements ReactiveController {
  snapshot: AgentsSnapshot | undefined;
  detail: AgentDetail | undefined;
  outcome: ActionOutcome | undefined;
  error: string | undefined;
  busy = false;
  readonly #host: ReactiveControllerHost;
  #client: KernelClient | undefined;
  #selected: string | undefined;
  #stop: (() => void)[] = [];
  #connected = false;
  #reading = false;
  #again = false;

  constructor(host: ReactiveControllerHost) {
    this.#host = host;
    host.addController(this);
  }

  set client(client: KernelClient | undefined) {
    if (client === this.#client) return;
    this.#unsubscribe();
    this.#client = client;
    if (this.#connected) this.#subscribe();
  }

  get selected(): string | undefined {
    return this.#selected;
  }

  select(id: string | undefined): void {
    this.#selected = id;
    this.detail = undefined;
    void this.refresh();
  }

  hostConnected(): void {
    this.#connected = true;
    this.#subscribe();
  }

  hostDisconnected(): void {
    this.#connected = false;
    this.#unsubscribe();
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

  async refresh(): Promise<void> {
    const client = this.#client;
    if (!client) return;
    if (this.#reading) {
      this.#again = true;
      return;
    }
    this.#reading = true;
    try {
      do {
        this.#again = false;
        await client.naos.ready;
        const [nodeId, agents, peers] = await Promise.all([client.naos.nodeId(), client.naos.agents.list(), client.naos.peers()]);
        this.snapshot = { nodeId, agents, peers: peers.map((p) => p.nodeId) };
        const id = this.#selected;
        this.detail =
          id !== undefined && agents.some((a) => a.id === id)
            ? {
                agent: await client.naos.agents.get(id),
                history: await client.naos.agents.history(id, 50),
                refusals: await client.naos.agents.refusals(id),
              }
            : undefined;
        this.error = undefined;
      } while (this.#again);
    } catch (error) {
      this.error = describeError(error);
    } finally {
      this.#reading = false;
      this.#host.requestUpdate();
    }
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

  #subscribe(): void {
    const client = this.#client;
    if (!client) return;
    const again = () => void this.refresh();
    this.#stop.push(client.naos.agents.onChange(again), client.naos.onChange(again));
    void this.refresh();
  }

  #unsubscribe(): void {
    for (const stop of this.#stop.splice(0)) stop();
  }
}
