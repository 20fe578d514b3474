import { css, html, LitElement, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { RIGHTS } from '../../src/agents/rights.js';
import type { HistoryItem } from '../../workers/agent-service.js';
import { type ActionOutcome, AgentsController } from '../controllers/agents-controller.js';
import type { KernelClient } from '../kernel-client.js';
import { panelStyles } from './panel-styles.js';

const SAMPLE = `// step(state, message, ctx) → {state, effects?}
function step(state, message, ctx) {
  const count = (state.count || 0) + 1;
  const effects = message.note ? [{ type: 'append', value: { note: message.note, count } }] : [];
  if (message.spin) for (;;) {} // a runaway: watch it roll back
  return { state: { count, last: message }, effects };
}`;

/**
 * The Agents panel (F31/F32): spawn from a code snippet or a CID, send messages, see
 * state, history and refusals, migrate to another tab, kill the sandbox (to watch the
 * rollback), replay a recorded step. Everything goes through AgentsController and the
 * naos.agents API.
 */
export class AgentsPanel extends LitElement {
  static override properties = {
    client: { attribute: false },
    code: { state: true },
    name: { state: true },
    cid: { state: true },
    rights: { state: true },
    message: { state: true },
    target: { state: true },
  };

  declare client: KernelClient | undefined;
  declare code: string;
  declare name: string;
  declare cid: string;
  declare rights: string[];
  declare message: string;
  declare target: string;

  readonly #agents = new AgentsController(this);

  constructor() {
    super();
    this.client = undefined;
    this.code = SAMPLE;
    this.name = 'counter';
    this.cid = '';
    this.rights = ['agent.send', 'ledger.append'];
    this.message = '{"note": "hello"}';
    this.target = '';
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('client')) this.#agents.client = this.client;
  }

  protected override render(): TemplateResult {
    const snapshot = this.#agents.snapshot;
    return html`<section class="card" aria-labelledby="agents-title">
        <h2 id="agents-title">Agents</h2>
        <form @submit=${this.#spawn} data-testid="spawn-form">
          <label>Name <input name="name" .value=${this.name} @input=${(e: Event) => (this.name = input(e))} required /></label>
          <label>Code<textarea name="code" rows="8" .value=${this.code} @input=${(e: Event) => (this.code = input(e))}></textarea></label>
          <label
            >…or program CID <input name="cid" .value=${this.cid} @input=${(e: Event) => (this.cid = input(e))} placeholder="bafkrei…"
          /></label>
          <fieldset>
            <legend>Rights</legend>
            ${RIGHTS.map(
              (right) =>
                html`<label class="inline"
                  ><input type="checkbox" .checked=${this.rights.includes(right)} @change=${() => this.#toggle(right)} />${right}</label
                >`,
            )}
          </fieldset>
          <button type="submit" ?disabled=${this.#agents.busy}>Spawn</button>
        </form>
        ${this.#renderOutcome(this.#agents.outcome)} ${this.#agents.error ? html`<p class="error">${this.#agents.error}</p>` : nothing}
      </section>
      <section class="card">
        <h2>Citizens</h2>
        ${
          snapshot && snapshot.agents.length > 0
            ? html`<table data-testid="agent-list">
                <thead>
                  <tr>
                    <th>id</th>
                    <th>host</th>
                    <th>step</th>
                    <th>state hash</th>
                    <th>refusals</th>
                    <th>rollbacks</th>
                  </tr>
                </thead>
                <tbody>
                  ${snapshot.agents.map(
                    (a) =>
                      html`<tr
                        class=${a.id === this.#agents.selected ? 'selected' : ''}
                        @click=${() => this.#agents.select(a.id)}
                        data-agent=${a.id}
                      >
                        <td><button class="link" type="button">${a.id}</button></td>
                        <td>${a.live ? 'here' : a.host === snapshot.nodeId ? 'leaving' : a.host.slice(0, 8)}</td>
                        <td>${a.step}</td>
                        <td><code class="hash">${a.stateHash.slice(0, 16)}…</code></td>
                        <td>${a.refusals}</td>
                        <td>${a.rollbacks}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>`
            : html`<p>
                No agents yet. This node's <code>agent:federation-health-monitor</code> registers at its first report: every minute while
                there are peers or refusals to watch.
              </p>`
        }
      </section>
      ${this.#renderDetail()}`;
  }

  #renderDetail(): TemplateResult | typeof nothing {
    const detail = this.#agents.detail;
    if (!detail) return nothing;
    const { agent } = detail;
    const peers = this.#agents.snapshot?.peers ?? [];
    return html`<section class="card" data-testid="agent-detail">
      <h3>${agent.id}</h3>
      <dl>
        <dt>program</dt>
        <dd><code class="hash">${agent.program}</code></dd>
        <dt>host</dt>
        <dd>${agent.host} (epoch ${agent.epoch}${agent.live ? ', running here' : ''})</dd>
        <dt>rights</dt>
        <dd>${agent.rights.join(', ') || '—'}</dd>
        <dt>step</dt>
        <dd data-testid="agent-step">${agent.step}</dd>
        <dt>state hash</dt>
        <dd><code class="hash" data-testid="agent-state-hash">${agent.stateHash}</code></dd>
      </dl>
      <pre data-testid="agent-state">${JSON.stringify(agent.state, null, 2)}</pre>
      <form @submit=${this.#send}>
        <label>Message (JSON)<textarea rows="2" .value=${this.message} @input=${(e: Event) => (this.message = input(e))}></textarea></label>
        <button type="submit" ?disabled=${!agent.live || this.#agents.busy}>Send</button>
        <button type="button" @click=${() => void this.#agents.kill(agent.id)}>Kill sandbox</button>
        <button type="button" ?disabled=${agent.step === 0} @click=${() => void this.#agents.replay(agent.id, agent.step)}>
          Replay step ${agent.step}
        </button>
      </form>
      <form @submit=${this.#migrate}>
        <label
          >Migrate to
          <select .value=${this.target} @change=${(e: Event) => (this.target = input(e))}>
            <option value="">choose a peer…</option>
            ${peers.map((p) => html`<option value=${p}>${p}</option>`)}
          </select></label
        >
        <button type="submit" ?disabled=${!agent.live || this.target === ''}>Migrate</button>
      </form>
      <h3>Refusals (${detail.refusals.length})</h3>
      <ul data-testid="agent-refusals">
        ${detail.refusals.map((r) => html`<li>${describeRecord(r)}</li>`)}
      </ul>
      <h3>History</h3>
      <ol data-testid="agent-history">
        ${detail.history.map((h) => html`<li><code>${h.kind}</code> ${describeRecord(h)}</li>`)}
      </ol>
    </section>`;
  }

  #renderOutcome(outcome: ActionOutcome | undefined): TemplateResult | typeof nothing {
    if (!outcome) return nothing;
    if (!outcome.ok)
      return html`<p class="error" data-testid="agent-outcome" role="status">${outcome.action} refused: ${outcome.error}</p>`;
    let text: string;
    switch (outcome.action) {
      case 'spawn':
        text = `Spawned ${outcome.result.id} (program ${outcome.result.program.slice(0, 16)}…)`;
        break;
      case 'send': {
        const r = outcome.result;
        text =
          r.status === 'committed'
            ? `Step ${r.step} committed; ${r.effects.filter((e) => e.status === 'refused').length} effect(s) refused`
            : `Step ${r.step} rolled back (${r.fault.kind}: ${r.fault.message}); restored state verified by hash`;
        break;
      }
      case 'migrate':
        text = `Handed over to ${outcome.result.to} at step ${outcome.result.step}`;
        break;
      case 'replay':
        text =
          outcome.result.status === 'confirmed'
            ? `Step ${outcome.result.step} replayed: confirmed`
            : `Replay mismatch: ${outcome.result.reason} (node ${outcome.result.recordedBy})`;
        break;
    }
    return html`<p class="ok" data-testid="agent-outcome" role="status">${text}</p>`;
  }

  #toggle(right: string): void {
    this.rights = this.rights.includes(right) ? this.rights.filter((r) => r !== right) : [...this.rights, right];
  }

  readonly #spawn = (event: Event): void => {
    event.preventDefault();
    const program = this.cid.trim() === '' ? this.code : { cid: this.cid.trim() };
    void this.#agents.spawn(program, this.name.trim(), this.rights);
  };

  readonly #send = (event: Event): void => {
    event.preventDefault();
    const id = this.#agents.selected;
    if (!id) return;
    let message: unknown;
    try {
      message = JSON.parse(this.message);
    } catch {
      this.#agents.outcome = { action: 'send', ok: false, error: 'the message is not valid JSON; nothing sent' };
      this.requestUpdate();
      return;
    }
    void this.#agents.send(id, message);
  };

  readonly #migrate = (event: Event): void => {
    event.preventDefault();
    const id = this.#agents.selected;
    if (id && this.target) void this.#agents.migrate(id, this.target);
  };

  /** The shared panel look, plus what the agents' forms and history need. */
  static override styles = [
    panelStyles,
    css`
      :host {
        margin-top: 1rem;
      }
      dd {
        overflow-wrap: anywhere;
      }
      form {
        display: grid;
        gap: 0.5rem;
        margin-bottom: 0.75rem;
        justify-items: start;
      }
      fieldset,
      label:has(textarea) {
        justify-self: stretch;
      }
      textarea {
        font-family: ui-monospace, monospace;
        width: 100%;
        box-sizing: border-box;
      }
      label.inline {
        display: inline-flex;
        gap: 0.25rem;
        margin-right: 0.75rem;
      }
      tr.selected {
        background: #ddf4ff;
      }
      button.link {
        background: none;
        border: none;
        padding: 0;
        color: #0969da;
        cursor: pointer;
        font: inherit;
      }
      pre {
        overflow: auto;
        max-height: 12rem;
      }
    `,
  ];
}

function input(event: Event): string {
  return (event.target as HTMLInputElement).value;
}

function describeRecord(item: HistoryItem): string {
  const p = item.payload as Record<string, unknown>;
  const step = typeof p['step'] === 'number' ? `step ${p['step']}: ` : '';
  if (item.kind === 'agent.refusal') return `${step}${String(p['effect'])} refused — ${String(p['reason'])}`;
  if (item.kind === 'agent.rollback') {
    const fault = p['fault'] as { kind: string; message: string };
    return `${step}rolled back (${fault.kind}: ${fault.message}); restored ${String(p['restoredHash']).slice(0, 12)}… = committed`;
  }
  if (item.kind === 'agent.step') return `${step}state ${String(p['stateHash']).slice(0, 12)}…`;
  if (item.kind === 'agent.migrate') return `epoch ${String(p['epoch'])}: to ${String(p['to'])}`;
  if (item.kind === 'policy.register') {
    const rights = Array.isArray(p['rights']) && p['rights'].length > 0 ? p['rights'].join(', ') : 'none';
    const parent = typeof p['parent'] === 'string' ? `, child of ${p['parent']}` : '';
    return `program ${String(p['program']).slice(0, 16)}…, rights ${rights}${parent}`;
  }
  if (item.kind === 'agent.spawn') return `initial state ${String(p['stateHash']).slice(0, 12)}…`;
  const text = JSON.stringify(p);
  return `${step}${text.length > 120 ? `${text.slice(0, 120)}…` : text}`;
}

customElements.define('naos-agents-panel', AgentsPanel);

declare global {
  interface HTMLElementTagNameMap {
    'naos-agents-panel': AgentsPanel;
  }
}
