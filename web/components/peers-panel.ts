import { html, LitElement, nothing, type PropertyValues, type TemplateResult } from 'lit';
import type { ForkEvidence, PeerView, RejectionView } from '../../workers/kernel-service.js';
import type { NetworkStatus } from '../naos-api.js';
import { ApiController } from '../controllers/api-controller.js';
import type { KernelClient } from '../kernel-client.js';
import './federation-graph.js';
import { panelStyles } from './panel-styles.js';
import { waitingCard } from './waiting-card.js';

export interface FederationSnapshot {
  readonly nodeId: string;
  readonly stateRoot: string;
  readonly peers: readonly PeerView[];
  readonly rejections: readonly RejectionView[];
  readonly forks: readonly ForkEvidence[];
  readonly partition: string | null;
  readonly network: NetworkStatus;
}

/** Peers come and go with heartbeats, not with head changes: read this often too. */
export const PEERS_POLL_MS = 1000;

/**
 * The Peers panel: the live federation as a graph and a table (manifest, trust, health,
 * state root, refused messages), what was refused from whom, and equivocation evidence.
 */
export class PeersPanel extends LitElement {
  static override properties = { client: { attribute: false } };
  declare client: KernelClient | undefined;

  readonly #federation = new ApiController<FederationSnapshot>(this, {
    pollMs: PEERS_POLL_MS,
    read: async (naos) => {
      const [nodeId, stateRoot, peers, rejections, forks, partition, network] = await Promise.all([
        naos.nodeId(),
        naos.stateRoot(),
        naos.peers(),
        naos.rejections(),
        naos.forks(),
        naos.debug.partitionGroup(),
        naos.network(),
      ]);
      return { nodeId, stateRoot, peers, rejections, forks, partition, network };
    },
  });

  constructor() {
    super();
    this.client = undefined;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('client')) this.#federation.client = this.client;
  }

  protected override render(): TemplateResult {
    const snapshot = this.#federation.value;
    if (!snapshot) {
      return waitingCard('Peers', this.#federation.error);
    }
    const now = Date.now();
    return html`<section class="card" aria-labelledby="peers-heading">
        <h2 id="peers-heading">Peers <span class="muted" data-testid="peer-count">${snapshot.peers.length}</span></h2>
        ${
          snapshot.partition !== null
            ? html`<p class="error" role="status" data-testid="partition">
                Debug partition: this tab only hears tabs in group <code>${snapshot.partition}</code>.
              </p>`
            : nothing
        }
        ${this.#renderNetwork(snapshot.network)}
        <naos-federation-graph .self=${snapshot.nodeId} .selfRoot=${snapshot.stateRoot} .peers=${snapshot.peers}></naos-federation-graph>
        ${
          snapshot.peers.length === 0
            ? html`<p class="muted">No live peers. Open this page in another tab to federate with it.</p>`
            : html`<table data-testid="peers-table">
                <caption class="muted">
                  Live peers (heard from in the last few seconds)
                </caption>
                <thead>
                  <tr>
                    <th scope="col">node</th>
                    <th scope="col">link</th>
                    <th scope="col">identity</th>
                    <th scope="col">region / shard</th>
                    <th scope="col">types</th>
                    <th scope="col">trust</th>
                    <th scope="col">health</th>
                    <th scope="col">logs</th>
                    <th scope="col">state</th>
                    <th scope="col">refused</th>
                  </tr>
                </thead>
                <tbody>
                  ${snapshot.peers.map((peer) => this.#renderPeer(peer, snapshot.stateRoot, now, snapshot.network))}
                </tbody>
              </table>`
        }
      </section>
      <section class="card" aria-labelledby="rejections-heading">
        <h2 id="rejections-heading">Refused messages</h2>
        ${
          snapshot.rejections.length === 0
            ? html`<p class="muted">Nothing refused.</p>`
            : html`<table data-testid="rejections">
                <thead>
                  <tr>
                    <th scope="col">sender</th>
                    <th scope="col">reason</th>
                    <th scope="col">count</th>
                  </tr>
                </thead>
                <tbody>
                  ${snapshot.rejections.map(
                    (r) =>
                      html`<tr>
                        <td><code class="hash">${r.sender}</code></td>
                        <td><code>${r.reason}</code></td>
                        <td>${r.count}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>`
        }
      </section>
      ${
        snapshot.forks.length === 0
          ? nothing
          : html`<section class="card alert" role="alert" data-testid="forks">
              <h2>Equivocation detected</h2>
              <ul>
                ${snapshot.forks.map(
                  (f) =>
                    html`<li>
                      <code>${f.origin}</code> signed two histories (reported by <code>${f.reportedBy.slice(0, 8)}</code>): ${f.detail}
                    </li>`,
                )}
              </ul>
            </section>`
      }`;
  }

  #renderNetwork(network: NetworkStatus): TemplateResult {
    const direct = network.connections.filter((c) => c.direct && c.transport === 'webrtc').length;
    const relays = network.relays.filter((r) => r.connected).length;
    return html`<p class="muted" data-testid="network">
      libp2p: <strong>${network.state}</strong>${network.reason ? html` (${network.reason})` : nothing}
      ${network.peerId ? html` · peer id <code class="hash short" title=${network.peerId}>${network.peerId.slice(-10)}</code>` : nothing}
      ${
        network.state === 'on'
          ? html` · relays ${relays}/${network.relays.length}${network.reserved ? ' (slot reserved)' : ''} · ${direct} direct WebRTC
            link${direct === 1 ? '' : 's'}`
          : nothing
      }
    </p>`;
  }

  #renderPeer(peer: PeerView, ownRoot: string, now: number, network: NetworkStatus): TemplateResult {
    const health = peer.health;
    const link = peer.libp2p;
    const connection = link && network.connections.find((c) => c.peerId === link.peerId && c.direct === link.direct);
    const via = !link
      ? 'tab channel'
      : connection?.transport === 'webrtc'
        ? 'WebRTC'
        : connection?.transport === 'websockets'
          ? 'WebSockets'
          : 'libp2p';
    return html`<tr data-node-id=${peer.nodeId}>
      <td><code class="hash short" title=${peer.nodeId}>${peer.nodeId.slice(0, 12)}…</code></td>
      <td data-testid="peer-link">
        ${via}${link ? html`<br /><span class=${link.direct ? 'ok' : 'muted'}>${link.direct ? 'direct' : 'relayed'}</span>` : nothing}
      </td>
      <td>
        ${
          link
            ? html`<span class="ok" title="the handshake proved possession of the node key">node id proven</span><br /><span class="muted"
                  >peer <code class="hash short" title=${link.peerId}>${link.peerId.slice(-10)}</code></span
                >`
            : html`<span class="muted">signed messages</span>`
        }
      </td>
      <td>${peer.manifest ? `${peer.manifest.region} / ${peer.manifest.shard}` : html`<span class="muted">not announced</span>`}</td>
      <td>${peer.manifest?.types.join(', ') ?? ''}</td>
      <td>${peer.trust}</td>
      <td>
        ${health.uptimeMs === undefined ? nothing : html`up ${formatDuration(health.uptimeMs)}<br />`}
        ${health.latencyMs === undefined ? nothing : html`heads answered in ${formatDuration(health.latencyMs)}<br />`} seen
        ${formatDuration(Math.max(0, now - health.lastSeen))} ago
      </td>
      <td>${peer.logs}</td>
      <td>${peer.stateRoot === ownRoot ? html`<span class="ok">in sync</span>` : html`<span class="muted">reconciling</span>`}</td>
      <td class=${peer.rejected > 0 ? 'error' : ''}>${peer.rejected}</td>
    </tr>`;
  }

  static override styles = panelStyles;
}

function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  const m = Math.round(s / 60);
  return m < 120 ? `${m} min` : `${Math.round(m / 60)} h`;
}

customElements.define('naos-peers-panel', PeersPanel);

declare global {
  interface HTMLElementTagNameMap {
    'naos-peers-panel': PeersPanel;
  }
}
