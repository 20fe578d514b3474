import { css, html, LitElement, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { KINDS } from '../../src/agents/records.js';
import type { DriftEvent, KeyValue } from '../../workers/kernel-service.js';
import { ApiController } from '../controllers/api-controller.js';
import type { KernelClient } from '../kernel-client.js';
import { panelStyles } from './panel-styles.js';
import { waitingCard } from './waiting-card.js';

interface DriftView {
  readonly drift: readonly DriftEvent[];
  readonly state: readonly KeyValue[];
}

/**
 * The Drift panel: conflicting concurrent writes of one key (policy drift, F12) — the
 * key, every contender, and the winner every node picks the same way; likewise agents
 * registered and module versions published by several nodes at once — and the derived
 * state they resolved into. Council re-validation comes later.
 */
export class DriftPanel extends LitElement {
  static override properties = { client: { attribute: false } };
  declare client: KernelClient | undefined;

  readonly #view = new ApiController<DriftView>(this, {
    read: async (naos) => {
      const [drift, state] = await Promise.all([naos.drift(), naos.state()]);
      return { drift, state };
    },
  });

  constructor() {
    super();
    this.client = undefined;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('client')) this.#view.client = this.client;
  }

  protected override render(): TemplateResult {
    const view = this.#view.value;
    if (!view) {
      return waitingCard('Drift', this.#view.error);
    }
    return html`<section class="card" aria-labelledby="drift-heading">
        <h2 id="drift-heading">Drift events <span class="muted" data-testid="drift-count">${view.drift.length}</span></h2>
        ${
          view.drift.length === 0
            ? html`<p class="muted">
                No conflicting writes. Concurrent writes of one key — or registrations of one agent, or publications of one module version —
                by different nodes show up here.
              </p>`
            : html`<ol class="events" data-testid="drift-events">
                ${view.drift.map((event) => this.#renderEvent(event))}
              </ol>`
        }
      </section>
      <section class="card" aria-labelledby="state-heading">
        <h2 id="state-heading">Derived state</h2>
        ${
          view.state.length === 0
            ? html`<p class="muted">No keys set yet (<code>naos.set(key, value)</code>).</p>`
            : html`<table data-testid="state">
                <thead>
                  <tr>
                    <th scope="col">key</th>
                    <th scope="col">value</th>
                    <th scope="col">written by</th>
                  </tr>
                </thead>
                <tbody>
                  ${view.state.map(
                    (kv) =>
                      html`<tr>
                        <td><code>${kv.key}</code></td>
                        <td><code>${JSON.stringify(kv.value)}</code></td>
                        <td><code title=${kv.author}>${kv.author.slice(0, 12)}…</code> #${kv.seq}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>`
        }
      </section>`;
  }

  /** What was written concurrently, and how it resolved. */
  #renderTitle(event: DriftEvent): TemplateResult {
    const n = event.contenders.length;
    switch (event.kind) {
      case KINDS.register:
        return html`<h3>agent <code>${event.key}</code></h3>
          <p class="muted">
            registered by ${n} nodes without seeing each other: the first registration wins everywhere, and its registrar hosts the agent
          </p>`;
      case KINDS.publish:
        return html`<h3>module <code>${event.key}</code></h3>
          <p class="muted">published by ${n} nodes with different content: the first publication is that version everywhere</p>`;
      default:
        return html`<h3>key <code>${event.key}</code></h3>
          <p class="muted">${n} concurrent writes ${event.base === null ? 'created it' : html`replaced <code>${event.base}</code>`}</p>`;
    }
  }

  #renderEvent(event: DriftEvent): TemplateResult {
    return html`<li class="event" data-testid="drift-event" data-key=${event.key} data-kind=${event.kind}>
      ${this.#renderTitle(event)}
      <table>
        <thead>
          <tr>
            <th scope="col">contender</th>
            <th scope="col">value</th>
            <th scope="col">time</th>
            <th scope="col">outcome</th>
          </tr>
        </thead>
        <tbody>
          ${event.contenders.map((c) => {
            const won = c.id === event.winner;
            return html`<tr class=${won ? 'winner' : ''} data-author=${c.author}>
              <td><code title=${c.author}>${c.author.slice(0, 12)}…</code> #${c.seq}</td>
              <td><code>${JSON.stringify(c.value)}</code></td>
              <td>${new Date(c.time.wall).toISOString()}${c.time.count > 0 ? ` +${c.time.count}` : ''}</td>
              <td>
                ${won ? html`<strong class="ok" data-testid="drift-winner">winner</strong>` : html`<span class="muted">overridden</span>`}
              </td>
            </tr>`;
          })}
        </tbody>
      </table>
      ${event.contenders.some((c) => c.id === event.winner) ? nothing : html`<p class="error">winner ${event.winner} not among the contenders</p>`}
    </li>`;
  }

  static override styles = [
    panelStyles,
    // Rows of winners stand out; the list reads as separate events.
    css`
      .events {
        padding-left: 1.25rem;
        margin: 0;
        display: grid;
        /* A long value (a registration's JSON) wraps instead of widening every event past the card. */
        grid-template-columns: minmax(0, 1fr);
        gap: 1rem;
      }
      .events td code {
        overflow-wrap: anywhere;
      }
      tr.winner td {
        background: #dafbe1;
      }
    `,
  ];
}

customElements.define('naos-drift-panel', DriftPanel);

declare global {
  interface HTMLElementTagNameMap {
    'naos-drift-panel': DriftPanel;
  }
}
