import { css, html, LitElement, nothing, type PropertyValues, type TemplateResult } from 'lit';
import type { InclusionProofView } from '../../src/kernel/api.js';
import { signedCheckpointRoot } from '../checkpoint-root.js';
import { describeError, KernelController, type NodeSnapshot } from '../controllers/kernel-controller.js';
import type { KernelClient } from '../kernel-client.js';
import type { StorageStatus } from '../storage.js';
import { formatBytes } from './format.js';
import { panelStyles } from './panel-styles.js';

type Message = { readonly ok: boolean; readonly text: string };

/**
 * The Node panel: who this node is, its log (size, root, latest signed checkpoint, last
 * entries), appending a JSON value, and proving + verifying an entry's inclusion. A
 * damaged ledger is shown first and loudly. All state comes from KernelController.
 */
export class NodePanel extends LitElement {
  static override properties = {
    client: { attribute: false },
    appendText: { state: true },
    appendMessage: { state: true },
    appending: { state: true },
    proveIndex: { state: true },
    proofText: { state: true },
    verdict: { state: true },
    proving: { state: true },
  };

  declare client: KernelClient | undefined;
  declare appendText: string;
  declare appendMessage: Message | undefined;
  declare appending: boolean;
  declare proveIndex: string;
  declare proofText: string;
  declare verdict: Message[] | undefined;
  declare proving: boolean;

  readonly #kernel = new KernelController(this);

  constructor() {
    super();
    this.client = undefined;
    this.appendText = '{"hello": "world"}';
    this.appendMessage = undefined;
    this.appending = false;
    this.proveIndex = '0';
    this.proofText = '';
    this.verdict = undefined;
    this.proving = false;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('client')) this.#kernel.client = this.client;
  }

  protected override render(): TemplateResult {
    const phase = this.#kernel.phase;
    switch (phase.state) {
      case 'starting':
        return html`<section class="card" aria-busy="true" data-testid="booting">
          <h2>Starting the kernel…</h2>
          ${
            phase.progress
              ? html`<p>
                    Verifying the stored ledger: ${phase.progress.verified.toLocaleString()} of ${phase.progress.total.toLocaleString()}
                    entries
                  </p>
                  <progress max=${phase.progress.total} value=${phase.progress.verified} data-testid="boot-progress"></progress>`
              : html`<p>Claiming an identity slot and opening the ledger.</p>`
          }
        </section>`;
      case 'failed':
        return html`<section class="card alert" role="alert" data-testid="boot-failed">
          <h2>The kernel could not start</h2>
          <p><code>${phase.error}</code></p>
        </section>`;
      case 'ready':
        return html`${this.#renderIntegrity(phase.node)}
        ${phase.refreshError ? html`<p class="card alert" role="alert">Could not read the node state: ${phase.refreshError}</p>` : nothing}
        ${this.#renderIdentity(phase.node)} ${this.#renderLog(phase.node)} ${this.#renderAppend(phase.node)}
        ${this.#renderProve(phase.node)}`;
    }
  }

  #renderIntegrity(node: NodeSnapshot): TemplateResult {
    const { damaged, repaired, restoring, awaitingPeers, unpersisted } = node.status;
    // Replicas wait about a second for their write as a matter of course; only a failed write is news.
    const unwritable = (unpersisted ?? []).filter((log) => log.failure !== undefined);
    return html`${
      awaitingPeers
        ? html`<p class="card" role="status" data-testid="awaiting-peers">
            Just started: appends wait briefly to hear from a peer first, in case this node's storage lost entries a peer holds.
          </p>`
        : nothing
    }
    ${
      restoring
        ? html`<section class="card alert" role="alert" data-testid="restoring-alert">
            <h2>⚠ Own log behind its signatures</h2>
            <p>
              A peer holds ${restoring.signed} entries of this node's log under this node's signature; its store holds ${restoring.have}
              (the store lost the newest ones). They are being restored from peers; until then appends are refused, because signing at those
              positions again would be a fork.
            </p>
          </section>`
        : nothing
    }
    ${
      unwritable.length > 0
        ? html`<section class="card alert" role="alert" data-testid="unwritten-alert">
            <h2>⚠ Replicated entries not stored</h2>
            <p>
              Entries of other nodes' logs were verified and are in use, but this browser's storage refused to write them. The write is
              tried again every few seconds, when more arrive and when this tab is hidden; if the tab closes first, they are fetched from
              peers again.
            </p>
            <ul>
              ${unwritable.map((log) => html`<li><code>${log.origin}</code>: ${log.entries} entries — ${log.failure}</li>`)}
            </ul>
          </section>`
        : nothing
    }
    ${
      damaged.length > 0
        ? html`<section class="card alert" role="alert" data-testid="damage-alert">
            <h2>⚠ Ledger damaged</h2>
            <p>
              Stored data failed verification. This node refuses to use it: nothing from a damaged log is served or appended to, and the
              stored bytes are left as found until a complete copy, verified against its author's signatures, has been fetched from peers to
              replace them.
            </p>
            ${damaged.map(
              (log) =>
                html`<h3><code>${log.origin}</code></h3>
                  <ul>
                    ${log.problems.map((p) => html`<li><strong>${p.where}</strong>: ${p.what}</li>`)}
                  </ul>
                  ${
                    log.repair
                      ? html`<p data-testid="repair-progress">
                          Repair: ${log.repair.have} of ${log.repair.need} entries fetched from peers and verified.
                        </p>`
                      : nothing
                  }`,
            )}
          </section>`
        : nothing
    }
    ${
      repaired.length > 0
        ? html`<section class="card" data-testid="repaired-notice">
            <h2>Ledger repaired from peers</h2>
            ${repaired.map(
              (log) =>
                html`<p>
                  <code>${log.origin}</code>: ${log.size} entries verified and stored in place of damaged records
                  (${log.problems.map((p) => p.where).join(', ')}).
                </p>`,
            )}
          </section>`
        : nothing
    }`;
  }

  #renderIdentity(node: NodeSnapshot): TemplateResult {
    return html`<section class="card">
      <h2>Node</h2>
      <dl>
        <dt>Node id</dt>
        <dd><code data-testid="node-id">${node.info.nodeId}</code></dd>
        <dt>Identity slot</dt>
        <dd data-testid="slot">${node.info.slot}</dd>
        <dt>Verifier key</dt>
        <dd><code class="hash">${node.info.verifierKey}</code></dd>
        <dt>State</dt>
        <dd data-testid="state">${node.status.state}</dd>
        <dt>Storage</dt>
        <dd data-testid="storage">${describeStorage(node.storage)}</dd>
        ${
          node.manifest
            ? html`<dt>Region / shard</dt>
                <dd data-testid="region">${node.manifest.region} / ${node.manifest.shard}</dd>
                <dt>Node types</dt>
                <dd>${node.manifest.types.join(', ')}</dd>
                <dt>Capabilities</dt>
                <dd data-testid="capabilities">${node.manifest.capabilities.join(', ')}</dd>
                <dt>Trust level</dt>
                <dd data-testid="trust">
                  ${node.manifest.trust} <span class="muted">(claimed; peers start every node at experimental)</span>
                </dd>
                <dt>Software</dt>
                <dd>${node.manifest.software}, started ${new Date(node.manifest.started).toLocaleString()}</dd>`
            : nothing
        }
      </dl>
    </section>`;
  }

  #renderLog(node: NodeSnapshot): TemplateResult {
    const head = node.head;
    return html`<section class="card">
      <h2>Ledger</h2>
      ${
        head
          ? html`<dl>
                <dt>Log size</dt>
                <dd data-testid="log-size">${head.size}</dd>
                <dt>Root</dt>
                <dd><code class="hash" data-testid="log-root">${head.root}</code></dd>
                <dt>State root</dt>
                <dd><code class="hash" data-testid="state-root">${node.stateRoot}</code></dd>
              </dl>
              <h3>Latest signed checkpoint</h3>
              <pre data-testid="checkpoint">${node.checkpoint}</pre>
              ${
                node.recent.length > 0
                  ? html`<h3>Latest entries</h3>
                      <table>
                        <thead>
                          <tr>
                            <th>#</th>
                            <th>value</th>
                            <th>id</th>
                          </tr>
                        </thead>
                        <tbody>
                          ${node.recent.map(
                            (e) =>
                              html`<tr>
                                <td>${e.index}</td>
                                <td><code>${JSON.stringify(e.payload)}</code></td>
                                <td><code class="hash">${e.id}</code></td>
                              </tr>`,
                          )}
                        </tbody>
                      </table>`
                  : html`<p class="muted">No entries yet.</p>`
              }`
          : html`<p class="muted">The node's own log was refused as damaged; there is nothing to show.</p>`
      }
    </section>`;
  }

  #renderAppend(node: NodeSnapshot): TemplateResult {
    const disabled = !node.head || this.appending;
    return html`<section class="card">
      <h2>Append an entry</h2>
      <form @submit=${this.#onAppend}>
        <label for="append-value">JSON value</label>
        <textarea
          id="append-value"
          rows="3"
          spellcheck="false"
          .value=${this.appendText}
          @input=${this.#onAppendInput}
          aria-invalid=${this.appendMessage?.ok === false ? 'true' : 'false'}
          aria-describedby="append-message"
        ></textarea>
        <button type="submit" ?disabled=${disabled}>Append</button>
        ${!node.head ? html`<span class="muted">Appends are refused while the log is damaged.</span>` : nothing}
      </form>
      <p id="append-message" class=${this.appendMessage?.ok ? 'ok' : 'error'} data-testid="append-message" aria-live="polite">
        ${this.appendMessage?.text ?? ''}
      </p>
    </section>`;
  }

  #renderProve(node: NodeSnapshot): TemplateResult {
    const size = node.head?.size ?? 0;
    return html`<section class="card">
      <h2>Prove and verify inclusion</h2>
      <form @submit=${this.#onProve}>
        <label for="prove-index">Entry index</label>
        <input id="prove-index" type="number" min="0" .value=${this.proveIndex} @input=${this.#onIndexInput} />
        <button type="submit" ?disabled=${size === 0 || this.proving}>Prove</button>
      </form>
      <form @submit=${this.#onVerify}>
        <label for="proof">Inclusion proof (RFC 9162; edit it to see verification fail)</label>
        <textarea
          id="proof"
          rows="8"
          spellcheck="false"
          .value=${this.proofText}
          @input=${this.#onProofInput}
          data-testid="proof"
        ></textarea>
        <button type="submit" ?disabled=${this.proofText.trim() === '' || this.proving}>Verify</button>
      </form>
      ${
        this.verdict
          ? html`<ul class="verdict" data-testid="verdict" aria-live="polite">
              ${this.verdict.map((line) => html`<li class=${line.ok ? 'ok' : 'error'}>${line.ok ? '✓' : '✗'} ${line.text}</li>`)}
            </ul>`
          : nothing
      }
    </section>`;
  }

  #onAppendInput = (event: Event): void => {
    this.appendText = (event.target as HTMLTextAreaElement).value;
    this.appendMessage = undefined;
  };

  #onIndexInput = (event: Event): void => {
    this.proveIndex = (event.target as HTMLInputElement).value;
  };

  #onProofInput = (event: Event): void => {
    this.proofText = (event.target as HTMLTextAreaElement).value;
    this.verdict = undefined;
  };

  #onAppend = async (event: Event): Promise<void> => {
    event.preventDefault();
    let value: unknown;
    try {
      value = JSON.parse(this.appendText);
    } catch (error) {
      this.appendMessage = { ok: false, text: `Not valid JSON, nothing appended: ${(error as Error).message}` };
      return;
    }
    this.appending = true;
    try {
      const result = await this.#kernel.append(value);
      this.appendMessage = { ok: true, text: `Appended entry #${result.index} (${result.id})` };
      this.proveIndex = String(result.index);
    } catch (error) {
      this.appendMessage = { ok: false, text: `Append refused: ${describeError(error)}` };
    } finally {
      this.appending = false;
    }
  };

  #onProve = async (event: Event): Promise<void> => {
    event.preventDefault();
    const index = Number(this.proveIndex);
    this.proving = true;
    try {
      const proof = await this.#kernel.prove(index);
      this.proofText = JSON.stringify(proof, null, 2);
      await this.#verify(proof);
    } catch (error) {
      this.proofText = '';
      this.verdict = [{ ok: false, text: `Cannot prove entry ${this.proveIndex}: ${describeError(error)}` }];
    } finally {
      this.proving = false;
    }
  };

  #onVerify = async (event: Event): Promise<void> => {
    event.preventDefault();
    let proof: unknown;
    try {
      proof = JSON.parse(this.proofText);
    } catch (error) {
      this.verdict = [{ ok: false, text: `The proof is not valid JSON: ${(error as Error).message}` }];
      return;
    }
    this.proving = true;
    try {
      await this.#verify(proof);
    } finally {
      this.proving = false;
    }
  };

  /** Runs the real RFC 9162 verifier, then checks the root against the node's signed checkpoint. */
  async #verify(proof: unknown): Promise<void> {
    const lines: Message[] = [];
    try {
      const verdict = await this.#kernel.verifyInclusion(proof);
      const p = proof as InclusionProofView;
      lines.push(
        verdict.valid
          ? { ok: true, text: `Entry ${p.index} is included in the tree of size ${p.size} with root ${p.root.slice(0, 16)}…` }
          : { ok: false, text: `Verification failed: ${verdict.reason}` },
      );
      const phase = this.#kernel.phase;
      if (verdict.valid && phase.state === 'ready' && phase.node.checkpoint) {
        const signed = await signedCheckpointRoot(phase.node.checkpoint, phase.node.info.verifierKey);
        if (signed.size === p.size) {
          lines.push(
            signed.root === p.root
              ? { ok: true, text: `That root is the one this node signed in its checkpoint at size ${signed.size}.` }
              : { ok: false, text: `That root differs from the one signed in the checkpoint at size ${signed.size} (${signed.root}).` },
          );
        }
      }
    } catch (error) {
      lines.push({ ok: false, text: `Not a usable proof: ${describeError(error)}` });
    }
    this.verdict = lines;
  }

  /** The shared panel look, plus the proof form and the monospace verdicts of this panel. */
  static override styles = [
    panelStyles,
    css`
      textarea {
        font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
        font-size: 0.85rem;
        width: 100%;
        box-sizing: border-box;
      }
      textarea[aria-invalid='true'] {
        border-color: #cf222e;
      }
      pre {
        background: var(--naos-code-bg, #f6f8fa);
        padding: 0.75rem;
        border-radius: 6px;
        margin: 0;
      }
      form {
        display: grid;
        gap: 0.5rem;
        margin-bottom: 0.75rem;
        justify-items: start;
      }
      input {
        width: 8rem;
      }
      table {
        table-layout: fixed;
      }
      th,
      td {
        overflow-wrap: anywhere;
      }
      th:first-child,
      td:first-child {
        width: 4rem;
      }
      .verdict {
        margin: 0;
      }
      progress {
        width: 100%;
      }
    `,
  ];
}

/** "persistent" or "best-effort — …", with the browser's estimate of use and quota when it gives one. */
function describeStorage(storage: StorageStatus): string {
  const kind = storage.persisted
    ? 'persistent: the browser keeps it until you clear it'
    : 'best-effort: the browser may clear it when space runs low (installing the app usually makes it persistent)';
  if (storage.usage === null || storage.quota === null) return kind;
  return `${kind}; ${formatBytes(storage.usage)} used of ${formatBytes(storage.quota)}`;
}

customElements.define('naos-node-panel', NodePanel);

declare global {
  interface HTMLElementTagNameMap {
    'naos-node-panel': NodePanel;
  }
}
