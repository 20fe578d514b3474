import { html, LitElement, nothing, type PropertyValues, type TemplateResult } from 'lit';
import type { EntryView } from '../../src/kernel/api.js';
import type { LogAdvert } from '../../workers/kernel-service.js';
import { signedCheckpointRoot } from '../checkpoint-root.js';
import { ApiController } from '../controllers/api-controller.js';
import { describeError } from '../controllers/kernel-controller.js';
import type { KernelClient } from '../kernel-client.js';
import type { NaosApi } from '../naos-api.js';
import { formatBytes } from './format.js';
import { panelStyles } from './panel-styles.js';
import { waitingCard } from './waiting-card.js';

export const PAGE_SIZE = 20;

interface LedgerView {
  readonly ownOrigin: string;
  readonly logs: readonly LogAdvert[];
  /** The log shown and the page of it. */
  readonly origin: string;
  readonly size: number;
  readonly start: number;
  readonly entries: readonly EntryView[];
}

type Line = { readonly ok: boolean; readonly text: string };

/**
 * The Ledger panel: pick any held log (the node's own or a replica), page through its
 * entries, and prove + verify an entry's inclusion with the RFC 9162 verifier in the
 * page, checking the proof's root against the log author's signed checkpoint.
 */
export class LedgerPanel extends LitElement {
  static override properties = {
    client: { attribute: false },
    origin: { state: true },
    start: { state: true },
    verdict: { state: true },
    proving: { state: true },
    exporting: { state: true },
    exportPercent: { state: true },
    exported: { state: true },
    report: { state: true },
  };

  declare client: KernelClient | undefined;
  /** Chosen log; undefined = the node's own. */
  declare origin: string | undefined;
  /** First index of the page shown; undefined = the last page. */
  declare start: number | undefined;
  declare verdict: { readonly index: number; readonly origin: string; readonly lines: readonly Line[] } | undefined;
  declare proving: boolean;
  declare exporting: boolean;
  /** How far the running export is (entries and proofs written, in %). */
  declare exportPercent: number;
  /** What the last export of this panel wrote (or why it failed). */
  declare exported: Line | undefined;
  /** The checks of the last export verified here (or why it could not be read). */
  declare report: { readonly file: string; readonly lines: readonly Line[] } | undefined;

  readonly #ledger = new ApiController<LedgerView>(this, { read: (naos) => this.#read(naos) });

  constructor() {
    super();
    this.client = undefined;
    this.origin = undefined;
    this.start = undefined;
    this.verdict = undefined;
    this.proving = false;
    this.exporting = false;
    this.exportPercent = 0;
    this.exported = undefined;
    this.report = undefined;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('client')) this.#ledger.client = this.client;
  }

  protected override updated(changed: PropertyValues<this>): void {
    // The controller reads on its own when the kernel is up; later choices read again.
    if (this.#shown && (changed.has('origin') || changed.has('start'))) void this.#ledger.refresh();
    this.#shown = true;
  }

  #shown = false;

  async #read(naos: NaosApi): Promise<LedgerView> {
    const [info, logs] = await Promise.all([naos.info(), naos.logs()]);
    const origin = this.origin ?? info.origin;
    const size = logs.find((log) => log.origin === origin)?.size ?? 0;
    const lastPage = Math.max(0, Math.floor((size - 1) / PAGE_SIZE) * PAGE_SIZE);
    const start = Math.min(this.start ?? lastPage, lastPage);
    const entries = size > 0 ? await naos.entries(start, Math.min(size, start + PAGE_SIZE), origin) : [];
    return { ownOrigin: info.origin, logs, origin, size, start, entries };
  }

  protected override render(): TemplateResult {
    const view = this.#ledger.value;
    if (!view) {
      return waitingCard('Ledger', this.#ledger.error);
    }
    const end = view.start + view.entries.length;
    return html`<section class="card" aria-labelledby="ledger-heading">
        <h2 id="ledger-heading">Ledger</h2>
        ${this.#ledger.error ? html`<p class="error" role="alert">${this.#ledger.error}</p>` : nothing}
        <div class="row">
          <label for="log-select">Log</label>
          <select id="log-select" data-testid="log-select" @change=${this.#onSelect}>
            ${view.logs.map(
              (log) =>
                html`<option value=${log.origin} ?selected=${log.origin === view.origin}>
                  ${log.origin === view.ownOrigin ? 'own · ' : ''}${log.origin} (${log.size})
                </option>`,
            )}
          </select>
        </div>
        <p class="muted" data-testid="ledger-range">
          ${view.size === 0 ? 'This log has no entries yet.' : `Entries ${view.start}–${end - 1} of ${view.size}`}
        </p>
        <nav class="row" aria-label="Pages">
          <button class="secondary" ?disabled=${view.start === 0} @click=${() => (this.start = 0)}>First</button>
          <button class="secondary" ?disabled=${view.start === 0} @click=${() => (this.start = Math.max(0, view.start - PAGE_SIZE))}>
            Previous
          </button>
          <button class="secondary" ?disabled=${end >= view.size} @click=${() => (this.start = view.start + PAGE_SIZE)}>Next</button>
          <button class="secondary" ?disabled=${end >= view.size} @click=${() => (this.start = undefined)}>Last</button>
        </nav>
        ${
          view.entries.length > 0
            ? html`<table data-testid="ledger-entries">
                <thead>
                  <tr>
                    <th scope="col">#</th>
                    <th scope="col">kind</th>
                    <th scope="col">value</th>
                    <th scope="col">id</th>
                    <th scope="col"><span class="visually-hidden">inclusion</span></th>
                  </tr>
                </thead>
                <tbody>
                  ${view.entries.map((entry) => this.#renderEntry(entry, view.origin))}
                </tbody>
              </table>`
            : nothing
        }
      </section>
      ${this.#renderExport(view)}`;
  }

  #renderExport(view: LedgerView): TemplateResult {
    const line = (l: Line) => html`<li class=${l.ok ? 'ok' : 'error'}>${l.ok ? '✓' : '✗'} ${l.text}</li>`;
    return html`<section class="card" aria-labelledby="export-heading">
      <h2 id="export-heading">Export and verify</h2>
      <p class="muted">
        An export (<code>naos-ledger-export/1</code>) holds the log's entries, signed checkpoints and proofs;
        <code>naos verify FILE</code> checks it offline, and so does this page.
      </p>
      <div class="row">
        <button ?disabled=${this.exporting} @click=${() => this.#export(view.origin)} data-testid="export-log">
          ${this.exporting ? `Exporting… ${this.exportPercent}%` : 'Export this log'}
        </button>
        <label for="verify-file">Verify an export</label>
        <input id="verify-file" type="file" accept=".json,application/json" data-testid="verify-file" @change=${this.#onVerifyFile} />
      </div>
      ${
        this.exported
          ? html`<ul class="verdict" data-testid="export-result" aria-live="polite">
              ${line(this.exported)}
            </ul>`
          : nothing
      }
      ${
        this.report
          ? html`<p data-testid="export-report-file">${this.report.file}</p>
              <ul class="verdict" data-testid="export-report" aria-live="polite">
                ${this.report.lines.map(line)}
              </ul>`
          : nothing
      }
    </section>`;
  }

  /** Exports the log shown and hands the browser the file to save. */
  async #export(origin: string): Promise<void> {
    const naos = this.client?.naos;
    if (!naos) return;
    this.exporting = true;
    this.exportPercent = 0;
    try {
      const file = await naos.exportFile([origin], ({ written, total }) => {
        this.exportPercent = total === 0 ? 100 : Math.floor((100 * written) / total);
      });
      const entries = file.logs[0]?.entries ?? 0;
      const name = `${origin.replace(/[^A-Za-z0-9._-]/g, '-')}-${entries}.json`;
      const url = URL.createObjectURL(file.blob);
      const link = Object.assign(document.createElement('a'), { href: url, download: name });
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      this.exported = { ok: true, text: `${name}: ${entries} entries, ${formatBytes(file.bytes)}` };
    } catch (error) {
      this.exported = { ok: false, text: `cannot export ${origin}: ${describeError(error)}` };
    } finally {
      this.exporting = false;
    }
  }

  #onVerifyFile = async (event: Event): Promise<void> => {
    const input = event.target as HTMLInputElement;
    const file = input.files?.[0];
    const naos = this.client?.naos;
    if (!file || !naos) return;
    try {
      const report = await naos.verifyExport(await file.text());
      this.report = {
        file: `${file.name}: ${report.ok ? 'every check passed' : 'verification FAILED'}`,
        lines: report.checks.map((c) => ({ ok: c.ok, text: `${c.name}: ${c.detail}` })),
      };
    } catch (error) {
      this.report = { file: `${file.name}: not checked`, lines: [{ ok: false, text: describeError(error) }] };
    }
    input.value = '';
  };

  #renderEntry(entry: EntryView, origin: string): TemplateResult {
    const verdict = this.verdict?.index === entry.index && this.verdict.origin === origin ? this.verdict : undefined;
    return html`<tr data-index=${entry.index}>
      <td>${entry.index}</td>
      <td>${entry.kind}</td>
      <td><code>${JSON.stringify(entry.payload)}</code></td>
      <td><code class="hash">${entry.id}</code></td>
      <td>
        <button ?disabled=${this.proving} @click=${() => this.#prove(entry.index, origin)} aria-label=${`Prove entry ${entry.index}`}>
          Prove
        </button>
        ${
          verdict
            ? html`<ul class="verdict" data-testid="ledger-verdict" aria-live="polite">
                ${verdict.lines.map((line) => html`<li class=${line.ok ? 'ok' : 'error'}>${line.ok ? '✓' : '✗'} ${line.text}</li>`)}
              </ul>`
            : nothing
        }
      </td>
    </tr>`;
  }

  #onSelect = (event: Event): void => {
    this.origin = (event.target as HTMLSelectElement).value;
    this.start = undefined;
    this.verdict = undefined;
  };

  /** Proves inclusion in the worker, verifies it here, and ties its root to the author's signed checkpoint. */
  async #prove(index: number, origin: string): Promise<void> {
    const naos = this.client?.naos;
    const log = this.#ledger.value?.logs.find((l) => l.origin === origin);
    if (!naos || !log) return;
    this.proving = true;
    const lines: Line[] = [];
    try {
      const proof = await naos.prove(index, undefined, origin);
      const verdict = await naos.verifyInclusion(proof);
      lines.push(
        verdict.valid
          ? { ok: true, text: `included in the tree of size ${proof.size}, root ${proof.root.slice(0, 16)}… (RFC 9162 verifier)` }
          : { ok: false, text: `verification failed: ${verdict.reason}` },
      );
      const note = (await naos.checkpoints(origin)).find((c) => c.size === proof.size)?.note;
      if (verdict.valid && note) {
        const signed = await signedCheckpointRoot(note, log.verifierKey);
        lines.push(
          signed.root === proof.root
            ? { ok: true, text: `that root is the one the log's author signed at size ${signed.size}` }
            : { ok: false, text: `that root differs from the author's signed root at size ${signed.size}` },
        );
      }
    } catch (error) {
      lines.push({ ok: false, text: `cannot prove entry ${index}: ${describeError(error)}` });
    } finally {
      this.proving = false;
    }
    this.verdict = { index, origin, lines };
  }

  static override styles = [panelStyles];
}

customElements.define('naos-ledger-panel', LedgerPanel);

declare global {
  interface HTMLElementTagNameMap {
    'naos-ledger-panel': LedgerPanel;
  }
}
