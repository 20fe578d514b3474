import { MAX_MESSAGE_BYTES, type Manifest, type TrustLevel } from '../../src/federation/messages.js';
import type { Transport } from '../../src/federation/transport.js';

/**
 * The libp2p transport carried across a MessagePort. In the browser, WebRTC exists only
 * in the page (there is no RTCPeerConnection in workers), while the node's kernel, key
 * and SyncEngine live in its worker: the page runs js-libp2p and the `naosSync` service,
 * and this bridge moves sync frames between them. Only bytes, node ids, peer ids and the
 * handshake results cross — never a key.
 *
 *   worker: SyncEngine ⇄ TransportMux ⇄ PortTransport ═══ MessagePort ═══ PortBridge ⇄ NaosSyncTransport ⇄ libp2p (page)
 *
 * `PortTransport` is the worker's half (a Transport like any other); `PortBridge` the
 * page's half, which can be re-pointed at a new libp2p node (`use`) — e.g. after the
 * page stopped and restarted its network — without the worker noticing more than its
 * peers going and coming. Platform-neutral: a MessagePort exists in browsers and in Node.
 */

/** A libp2p peer whose handshake succeeded, as the worker learns it from the page. */
export interface RemoteLink {
  readonly peerId: string;
  /** Proven by the handshake (its key signed this connection's transcript). */
  readonly nodeId: string;
  readonly manifest: Manifest;
  /** Granted trust (F26): `experimental` for every node met over the network. */
  readonly trust: TrustLevel;
  /** When the handshake completed (wall ms). */
  readonly since: number;
  /** Whether the connection carrying sync is direct (WebRTC, WebSockets), not relayed. */
  readonly direct: boolean;
}

/** A linked peer as the page's transport reports it: `streams` open sync streams (a link without one cannot carry sync yet). */
export type BridgedPeer = RemoteLink & { readonly streams?: number };

/** What the page's network side must offer the bridge (NaosSyncTransport does). */
export interface BridgedTransport {
  send(bytes: Uint8Array, to?: string): void;
  onMessage(handler: (bytes: Uint8Array, link: string) => void): () => void;
  peers(): readonly BridgedPeer[];
  onPeersChange(listener: (peers: readonly BridgedPeer[]) => void): () => void;
}

/** The parts of a MessagePort used here (browser and Node ports both have them). */
export interface PortLike {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  removeEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  start?(): void;
  close(): void;
}

/** page → worker */
type ToWorker =
  { readonly t: 'frame'; readonly bytes: Uint8Array; readonly link: string } | { readonly t: 'links'; readonly links: RemoteLink[] };
/** worker → page */
type ToPage = { readonly t: 'send'; readonly bytes: Uint8Array; readonly to?: string };

export interface PortTransportStats {
  readonly framesIn: number;
  readonly framesOut: number;
  /** Port messages that were not what the bridge sends (counted, never thrown). */
  readonly malformed: number;
  /** Sends addressed to a node the page has no libp2p link to, not passed on. */
  readonly unlinked: number;
}

const MAX_LINK_TEXT = 256;
const MAX_LINKS = 4096;

/** The worker's half: a Transport whose bytes come and go through `port`. */
export class PortTransport implements Transport {
  readonly name = 'libp2p';
  readonly #port: PortLike;
  readonly #handlers = new Set<(bytes: Uint8Array, link: string) => void>();
  readonly #linkListeners = new Set<(links: readonly RemoteLink[]) => void>();
  #links: readonly RemoteLink[] = [];
  #linkedNodes = new Set<string>();
  #unlinked = 0;
  #framesIn = 0;
  #framesOut = 0;
  #malformed = 0;
  #closed = false;
  readonly #onPortMessage = (event: MessageEvent): void => this.#receive(event.data);

  constructor(port: PortLike) {
    this.#port = port;
    port.addEventListener('message', this.#onPortMessage);
    port.start?.();
  }

  send(bytes: Uint8Array, to?: string): void {
    if (this.#closed) return;
    // Addressed to a node libp2p does not link (a sibling tab on the tab channel): the
    // page would only drop it, after a copy and a trip across the port.
    if (to !== undefined && !this.#linkedNodes.has(to)) {
      this.#unlinked++;
      return;
    }
    // A copy of exactly these bytes (a view would clone its whole buffer), moved, not cloned.
    const copy = bytes.slice();
    const message: ToPage = to === undefined ? { t: 'send', bytes: copy } : { t: 'send', bytes: copy, to };
    try {
      this.#port.postMessage(message, [copy.buffer]);
      this.#framesOut++;
    } catch {
      // A closed port: best effort, as every transport.
    }
  }

  onMessage(handler: (bytes: Uint8Array, link: string) => void): () => void {
    this.#handlers.add(handler);
    return () => void this.#handlers.delete(handler);
  }

  /** The peers linked on the page's libp2p node (handshake done), newest report. */
  links(): readonly RemoteLink[] {
    return this.#links;
  }

  onLinksChange(listener: (links: readonly RemoteLink[]) => void): () => void {
    this.#linkListeners.add(listener);
    return () => void this.#linkListeners.delete(listener);
  }

  stats(): PortTransportStats {
    return { framesIn: this.#framesIn, framesOut: this.#framesOut, malformed: this.#malformed, unlinked: this.#unlinked };
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#port.removeEventListener('message', this.#onPortMessage);
      this.#port.close();
      this.#handlers.clear();
      this.#linkListeners.clear();
      this.#links = [];
      this.#linkedNodes.clear();
    }
    return Promise.resolve();
  }

  #receive(data: unknown): void {
    if (this.#closed) return;
    const message = data as Partial<Record<string, unknown>> | null;
    if (typeof message !== 'object' || message === null) {
      this.#malformed++;
      return;
    }
    if (message['t'] === 'frame') {
      const { bytes, link } = message;
      if (!(bytes instanceof Uint8Array) || bytes.length > MAX_MESSAGE_BYTES || typeof link !== 'string' || link.length > MAX_LINK_TEXT) {
        this.#malformed++;
        return;
      }
      this.#framesIn++;
      for (const handler of this.#handlers) {
        try {
          handler(bytes, link);
        } catch {
          // One failing handler stops no other.
        }
      }
      return;
    }
    if (message['t'] === 'links') {
      const links = readLinks(message['links']);
      if (!links) {
        this.#malformed++;
        return;
      }
      this.#links = links;
      this.#linkedNodes = new Set(links.map((l) => l.nodeId));
      for (const listener of this.#linkListeners) {
        try {
          listener(links);
        } catch {
          // as above
        }
      }
      return;
    }
    this.#malformed++;
  }
}

/** The page's half: forwards frames and link reports between `port` and the current libp2p transport. */
export class PortBridge {
  readonly #port: PortLike;
  #transport: BridgedTransport | undefined;
  #detach: (() => void)[] = [];
  #closed = false;
  readonly #onPortMessage = (event: MessageEvent): void => {
    const message = event.data as Partial<ToPage> | null;
    if (typeof message !== 'object' || message === null || message.t !== 'send' || !(message.bytes instanceof Uint8Array)) return;
    this.#transport?.send(message.bytes, typeof message.to === 'string' ? message.to : undefined);
  };

  constructor(port: PortLike) {
    this.#port = port;
    port.addEventListener('message', this.#onPortMessage);
    port.start?.();
  }

  /** Carries `transport` from now on (undefined: none — sends are dropped, the worker sees no links). */
  use(transport: BridgedTransport | undefined): void {
    if (this.#closed) return;
    for (const detach of this.#detach.splice(0)) detach();
    this.#transport = transport;
    if (transport) {
      this.#detach.push(
        transport.onMessage((bytes, link) => {
          const copy = bytes.slice();
          this.#post({ t: 'frame', bytes: copy, link }, [copy.buffer]);
        }),
        transport.onPeersChange((peers) => this.#postLinks(peers)),
      );
    }
    this.#postLinks(transport?.peers() ?? []);
  }

  /** Re-sends the link report (e.g. when a link turned from relayed to direct). */
  refreshLinks(): void {
    this.#postLinks(this.#transport?.peers() ?? []);
  }

  close(): void {
    if (this.#closed) return;
    this.use(undefined);
    this.#closed = true;
    this.#port.removeEventListener('message', this.#onPortMessage);
    this.#port.close();
  }

  /** Only links that can carry sync (a sync stream is open) are reported. */
  #postLinks(peers: readonly BridgedPeer[]): void {
    const links = peers
      .filter((peer) => peer.streams !== 0)
      .map(({ peerId, nodeId, manifest, trust, since, direct }) => ({ peerId, nodeId, manifest, trust, since, direct }));
    this.#post({ t: 'links', links });
  }

  #post(message: ToWorker, transfer: Transferable[] = []): void {
    if (this.#closed) return;
    try {
      this.#port.postMessage(message, transfer);
    } catch {
      // The worker is gone: nothing to tell.
    }
  }
}

function readLinks(value: unknown): RemoteLink[] | undefined {
  if (!Array.isArray(value) || value.length > MAX_LINKS) return undefined;
  const links: RemoteLink[] = [];
  for (const item of value as unknown[]) {
    const link = item as Partial<Record<keyof RemoteLink, unknown>> | null;
    if (
      typeof link !== 'object' ||
      link === null ||
      !isText(link.peerId) ||
      !isText(link.nodeId) ||
      typeof link.since !== 'number' ||
      typeof link.direct !== 'boolean' ||
      typeof link.manifest !== 'object' ||
      link.manifest === null
    ) {
      return undefined;
    }
    links.push({
      peerId: link.peerId,
      nodeId: link.nodeId,
      manifest: link.manifest as Manifest,
      // Whatever the page says, the network grants `experimental` (F26 comes later).
      trust: 'experimental',
      since: link.since,
      direct: link.direct,
    });
  }
  return links;
}

function isText(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_LINK_TEXT;
}
