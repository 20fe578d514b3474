import { css, html, LitElement, type TemplateResult } from 'lit';
import type { KernelClient } from '../kernel-client.js';
import './agents-panel.js';
import './node-panel.js';

/**
 * The app shell: header and the panels. More panels (peers, ledgers, agents, council, …)
 * join the nav as their features land; each gets the kernel client and keeps its own
 * controller.
 */
export class NaosApp extends LitElement {
  static override properties = { client: { attribute: false } };
  declare client: KernelClient | undefined;

  constructor() {
    super();
    this.client = undefined;
  }

  protected override render(): TemplateResult {
    return html`<header>
        <h1>Naos</h1>
        <p>Every browser tab is a kernel.</p>
        <nav aria-label="Panels"><a href="#node" aria-current="page">Node</a> <a href="#agents">Agents</a></nav>
      </header>
      <main id="node">
        <naos-node-panel .client=${this.client}></naos-node-panel>
      </main>
      <section id="agents">
        <naos-agents-panel .client=${this.client}></naos-agents-panel>
      </section>`;
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
    }
    nav a {
      color: inherit;
      font-weight: 600;
      text-decoration: none;
      border-bottom: 2px solid #1f6feb;
    }
  `;
}

customElements.define('naos-app', NaosApp);

declare global {
  interface HTMLElementTagNameMap {
    'naos-app': NaosApp;
  }
}
