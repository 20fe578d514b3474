import { html, LitElement, nothing, type PropertyValues, type TemplateResult } from 'lit';
import type { FlaggedLog } from '../naos-api.js';
import { ApiController } from '../controllers/api-controller.js';
import type { KernelClient } from '../kernel-client.js';
import { panelStyles } from './panel-styles.js';

/** Flags arrive with gossip, not only with head changes: read this often too. */
export const FLAGGED_POLL_MS = 2000;

/**
 * The app-wide equivocation alert (F11): shown above every panel as soon as this node
 * holds a proof that some author signed two histories of its log — with the proof
 * itself, the two signed checkpoints (C2SP notes), which anyone can check offline
 * (`verifyEquivocation`).
 */
export class EquivocationAlert extends LitElement {
  static override properties = { client: { attribute: false } };
  declare client: KernelClient | undefined;

  readonly #flagged = new ApiController<FlaggedLog[]>(this, { pollMs: FLAGGED_POLL_MS, read: (naos) => naos.flagged() });

  constructor() {
    super();
    this.client = undefined;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('client')) this.#flagged.client = this.client;
  }

  protected override render(): TemplateResult | typeof nothing {
    const flagged = this.#flagged.value ?? [];
    if (flagged.length === 0) return nothing;
    return html`<section class="card alert" role="alert" data-testid="equivocation-alert">
      <h2>Equivocation: ${flagged.length === 1 ? 'a node' : `${flagged.length} nodes`} signed two histories</h2>
      ${flagged.map(
        (flag) =>
          html`<div data-origin=${flag.origin}>
            <p>
              <strong>Node <code class="hash">${flag.author}</code> signed two histories of its log</strong>
              (<code>${flag.origin}</code>). It is flagged: entries from position ${flag.forkSize} on are refused, and its log no longer
              counts in the state root. ${flag.detail}
            </p>
            <details>
              <summary>The evidence: two signed checkpoints (evidence ${flag.evidenceId.slice(0, 16)}…)</summary>
              <p class="muted">Checkpoint A</p>
              <pre data-testid="evidence-a">${flag.evidence.a}</pre>
              <p class="muted">Checkpoint B</p>
              <pre data-testid="evidence-b">${flag.evidence.b}</pre>
              ${
                flag.evidence.consistency
                  ? html`<p class="muted">
                      B's tree had root <code class="hash">${flag.evidence.consistency.root}</code> at A's size (consistency proof of
                      ${flag.evidence.consistency.proof.length} hashes), not A's root.
                    </p>`
                  : nothing
              }
            </details>
          </div>`,
      )}
    </section>`;
  }

  static override styles = panelStyles;
}

customElements.define('naos-equivocation-alert', EquivocationAlert);

declare global {
  interface HTMLElementTagNameMap {
    'naos-equivocation-alert': EquivocationAlert;
  }
}
