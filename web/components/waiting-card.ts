import { html, type TemplateResult } from 'lit';

/** A panel's card before its first read: "Waiting for the kernel…", or why the read failed. */
export function waitingCard(title: string, error: string | undefined): TemplateResult {
  return html`<section class="card" aria-busy=${error ? 'false' : 'true'}>
    <h2>${title}</h2>
    <p class=${error ? 'error' : 'muted'}>${error ?? 'Waiting for the kernel…'}</p>
  </section>`;
}
