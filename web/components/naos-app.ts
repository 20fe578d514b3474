import { css, html, LitElement, type TemplateResult } from 'lit';
import type { KernelClient } from '../kernel-client.js';
import './agents-panel.js';
import './drift-panel.js';
import './equivocation-alert.js';
import './ledger-panel.js';
import './node-panel.js';
import './peers-panel.js';

/** The panels, in nav order; `#<id>` in the URL picks one (no hash: the first). */
export const PANELS = [
  { id: 'node', label: 'Node' },
  { id: 'peers', label: 'Peers' },
  { id: 'ledger', label: 'Ledger' },
  { id: 'drift', label: 'Drift' },
  { id: 'agents', label: 'Agents' },
] as const;

export type PanelId = (typeof PANELS)[number]['id'];

function panelFromHash(hash: string): PanelId {
  const id = hash.replace(/^#/, '');
  return PANELS.find((panel) => panel.id === id)?.id ?? PANELS[0].id;
}

/**
 * The app shell: header, nav, and one panel at a time (chosen by the URL hash, so a
 * panel can be linked to and reloads keep it). Only the shown panel is in the DOM, so
 * only its controllers read from the kernel. More panels (council, …) join PANELS as
 * their features land; each gets the kernel client and keeps its own controllers.
 */
export class NaosApp extends LitElement {
  static override properties = { client: { attribute: false }, panel: { state: true } };
  declare client: KernelClient | undefined;
  declare panel: PanelId;

  constructor() {
    super();
    this.client = undefined;
    this.panel = panelFromHash(location.hash);
  }

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('hashchange', this.#onHashChange);
    this.panel = panelFromHash(location.hash);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('hashchange', this.#onHashChange);
  }

  #onHashChange = (): void => {
    this.panel = panelFromHash(location.hash);
  };

  protected override render(): TemplateResult {
    return html`<header>
        <h1>Naos</h1>
        <p>Every browser tab is a kernel.</p>
        <nav aria-label="Panels">
          ${PANELS.map(
            (panel) => html`<a href=${`#${panel.id}`} aria-current=${panel.id === this.panel ? 'page' : 'false'}>${panel.label}</a>`,
          )}
        </nav>
      </header>
      <naos-equivocation-alert .client=${this.client}></naos-equivocation-alert>
      <main id=${this.panel} aria-label=${PANELS.find((p) => p.id === this.panel)!.label}>${this.#renderPanel()}</main>`;
  }

  #renderPanel(): TemplateResult {
    switch (this.panel) {
      case 'node':
        return html`<naos-node-panel .client=${this.client}></naos-node-panel>`;
      case 'peers':
        return html`<naos-peers-panel .client=${this.client}></naos-peers-panel>`;
      case 'ledger':
        return html`<naos-ledger-panel .client=${this.client}></naos-ledger-panel>`;
      case 'drift':
        return html`<naos-drift-panel .client=${this.client}></naos-drift-panel>`;
      case 'agents':
        return html`<naos-agents-panel .client=${this.client}></naos-agents-panel>`;
    }
  }

  static override styles = css`
    :host {
      display: block;
      max-width: 60rem;
      margin: 0 auto;
      padding: 1rem;
    }
    header {
      display: flex;
      align-items: baseline;
      gap: 1rem;
      flex-wrap: wrap;
      margin-bottom: 1rem;
    }
    h1 {
      margin: 0;
      font-size: 1.5rem;
    }
    header p {
      margin: 0;
      color: var(--naos-muted, #57606a);
    }
    nav {
      margin-left: auto;
      display: flex;
      gap: 1rem;
    }
    nav a {
      color: inherit;
      font-weight: 600;
      text-decoration: none;
      border-bottom: 2px solid transparent;
    }
    nav a[aria-current='page'] {
      border-bottom-color: #1f6feb;
    }
  `;
}

customElements.define('naos-app', NaosApp);

declare global {
  interface HTMLElementTagNameMap {
    'naos-app': NaosApp;
  }
}
