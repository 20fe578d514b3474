import {
  forceCenter,
  forceCollide,
  forceLink,
  forceManyBody,
  forceSimulation,
  type Simulation,
  type SimulationLinkDatum,
  type SimulationNodeDatum,
} from 'd3-force';
import { css, LitElement, type PropertyValues, svg, type TemplateResult } from 'lit';
import type { PeerView } from '../../workers/kernel-service.js';

interface GraphNode extends SimulationNodeDatum {
  readonly id: string;
  self: boolean;
  /** Same state root as this node: nothing to reconcile. */
  inSync: boolean;
  rejected: number;
  region: string | undefined;
}

type GraphLink = SimulationLinkDatum<GraphNode>;

const WIDTH = 320;
const HEIGHT = 220;
const RADIUS = 14;

/**
 * A picture of this node's federation: itself in the middle, a link to each live peer;
 * a peer is green when its state root equals ours (in sync), amber while they differ,
 * ringed red when it sent something that was refused. Layout by d3-force, drawn as SVG;
 * nodes keep their positions as peers come and go, so the picture moves only as much
 * as the federation does.
 */
export class FederationGraph extends LitElement {
  static override properties = {
    self: { attribute: false },
    selfRoot: { attribute: false },
    peers: { attribute: false },
  };

  declare self: string | undefined;
  declare selfRoot: string | undefined;
  declare peers: readonly PeerView[];

  readonly #nodes = new Map<string, GraphNode>();
  #links: GraphLink[] = [];
  readonly #simulation: Simulation<GraphNode, GraphLink>;

  constructor() {
    super();
    this.self = undefined;
    this.selfRoot = undefined;
    this.peers = [];
    this.#simulation = forceSimulation<GraphNode, GraphLink>([])
      .force(
        'link',
        forceLink<GraphNode, GraphLink>([])
          .id((node) => node.id)
          .distance(80),
      )
      .force('charge', forceManyBody().strength(-160))
      .force('center', forceCenter(0, 0))
      .force('collide', forceCollide(RADIUS * 1.6))
      .on('tick', () => this.requestUpdate())
      .stop();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.#nodes.size > 0) this.#simulation.alpha(0.3).restart();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#simulation.stop();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('self') || changed.has('peers') || changed.has('selfRoot')) this.#syncGraph();
  }

  #syncGraph(): void {
    const wanted = new Map<string, { self: boolean; inSync: boolean; rejected: number; region: string | undefined }>();
    if (this.self) wanted.set(this.self, { self: true, inSync: true, rejected: 0, region: undefined });
    for (const peer of this.peers) {
      wanted.set(peer.nodeId, {
        self: false,
        inSync: peer.stateRoot === this.selfRoot,
        rejected: peer.rejected,
        region: peer.manifest?.region,
      });
    }
    let changedShape = false;
    for (const id of [...this.#nodes.keys()]) {
      if (!wanted.has(id)) {
        this.#nodes.delete(id);
        changedShape = true;
      }
    }
    for (const [id, state] of wanted) {
      const node = this.#nodes.get(id);
      if (node) Object.assign(node, state);
      else {
        // New nodes start near the centre, spread by their id so the layout is stable.
        const angle = (parseInt(id.slice(0, 6), 32) % 360) * (Math.PI / 180);
        this.#nodes.set(id, { id, ...state, x: Math.cos(angle) * 40, y: Math.sin(angle) * 40 });
        changedShape = true;
      }
    }
    if (!changedShape) return;
    const nodes = [...this.#nodes.values()];
    this.#links = this.self ? nodes.filter((n) => !n.self).map((n) => ({ source: this.self!, target: n.id })) : [];
    this.#simulation.nodes(nodes);
    this.#simulation.force<ReturnType<typeof forceLink<GraphNode, GraphLink>>>('link')!.links(this.#links);
    if (this.isConnected) this.#simulation.alpha(0.8).restart();
  }

  protected override render(): TemplateResult {
    const nodes = [...this.#nodes.values()];
    const peers = nodes.filter((n) => !n.self);
    const inSync = peers.filter((n) => n.inSync).length;
    const label = `Federation graph: this node and ${peers.length} live peer${peers.length === 1 ? '' : 's'}, ${inSync} in sync`;
    const clamp = (value: number | undefined, limit: number) => Math.max(-limit, Math.min(limit, value ?? 0));
    return svg`<svg viewBox="${-WIDTH / 2} ${-HEIGHT / 2} ${WIDTH} ${HEIGHT}" role="img" aria-label=${label} data-testid="federation-graph"
      data-nodes=${nodes.length}>
      ${this.#links.map((link) => {
        const [source, target] = [link.source as GraphNode, link.target as GraphNode];
        return svg`<line x1=${clamp(source.x, WIDTH / 2)} y1=${clamp(source.y, HEIGHT / 2)} x2=${clamp(target.x, WIDTH / 2)} y2=${clamp(target.y, HEIGHT / 2)} class="link"></line>`;
      })}
      ${nodes.map(
        (node) => svg`<g transform="translate(${clamp(node.x, WIDTH / 2 - RADIUS)} ${clamp(node.y, HEIGHT / 2 - RADIUS)})"
          class=${node.self ? 'node self' : node.inSync ? 'node in-sync' : 'node syncing'} data-node-id=${node.id}>
          <title>${node.self ? 'this node' : 'peer'} ${node.id}${node.region ? ` (${node.region})` : ''}${
            node.self ? '' : node.inSync ? ', in sync' : ', reconciling'
          }${node.rejected > 0 ? `, ${node.rejected} refused messages` : ''}</title>
          <circle r=${RADIUS} class=${node.rejected > 0 ? 'rejected' : ''}></circle>
          <text dy="0.35em">${node.id.slice(0, 3)}</text>
        </g>`,
      )}
    </svg>`;
  }

  static override styles = css`
    :host {
      display: block;
    }
    svg {
      width: 100%;
      max-height: 18rem;
      background: var(--naos-code-bg, #f6f8fa);
      border-radius: 6px;
    }
    .link {
      stroke: #8c959f;
      stroke-width: 1.5;
    }
    circle {
      stroke: #fff;
      stroke-width: 2;
    }
    .self circle {
      fill: #1f6feb;
    }
    .in-sync circle {
      fill: #1a7f37;
    }
    .syncing circle {
      fill: #bf8700;
    }
    circle.rejected {
      stroke: #cf222e;
      stroke-width: 3;
    }
    text {
      fill: #fff;
      font:
        600 9px ui-monospace,
        monospace;
      text-anchor: middle;
      pointer-events: none;
    }
  `;
}

customElements.define('naos-federation-graph', FederationGraph);

declare global {
  interface HTMLElementTagNameMap {
    'naos-federation-graph': FederationGraph;
  }
}
