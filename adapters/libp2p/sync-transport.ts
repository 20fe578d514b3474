import {
  type AbortOptions,
  type ComponentLogger,
  type Connection,
  type Libp2pEvents,
  type Logger,
  type PeerId,
  serviceDependencies,
  type Startable,
  type Stream,
  type StreamHandler,
  type StreamHandlerOptions,
  type Topology,
  type TypedEventTarget,
} from '@libp2p/interface';
import { lpStream } from '@libp2p/utils';
import type { Signer } from '../../src/crypto/ed25519.js';
import { NaosError } from '../../src/errors.js';
import {
  decodeHandshakeMessage,
  encodeHandshakeMessage,
  HANDSHAKE_PROTOCOL,
  HandshakeError,
  HandshakeInitiator,
  type HandshakeMessage,
  type HandshakeRefusal,
  HandshakeResponder,
  type HandshakeSideOptions,
  MAX_HANDSHAKE_MESSAGE_BYTES,
  NONCE_BYTES,
  NonceRegistry,
  type ProvenNode,
} from '../../src/federation/handshake.js';
import { MAX_MESSAGE_BYTES, type Manifest, type TrustLevel } from '../../src/federation/messages.js';
import { nodeIdFromPublicKey } from '../../src/identity/node-id.js';
import type { Transport } from '../../src/federation/transport.js';
import { FrameStream } from './frames.js';

/**
 * The sync protocol over libp2p (MISSION.md F10): a libp2p service — `naosSync(init)` is
 * a factory over the components record, as js-libp2p services are — that is also a
 * Naos Transport, so a SyncEngine (through a TransportMux) runs over it unchanged.
 * Platform-neutral: the same code runs in Node (the always-on peer, tests) and in the
 * browser page.
 *
 * When a connection opens (and identify shows the peer speaks `/naos/handshake/1.0.0`),
 * the side that dialed runs the handshake (src/federation/handshake.ts): both prove
 * possession of their node key, bound to both peer ids and both nonces, and exchange
 * manifests. Only then does the dialer open the one long-lived `/naos/sync/1.0.0` stream
 * of the connection; the other side accepts it only from a peer whose handshake
 * succeeded. Sync messages travel on it as length-prefixed frames (at most the 4 MiB
 * message limit) with backpressure (frames.ts).
 *
 * A refused handshake (bad signature, replayed nonce, a node id already bound to
 * another live peer id, …) closes the connection; the reason is counted in `stats()`.
 * Every node starts at trust `experimental`, whatever its manifest claims (F26).
 */

export const SYNC_PROTOCOL = '/naos/sync/1.0.0';

export interface NaosSyncInit {
  /** The node key (the same that signs its log): proves the node id in the handshake. */
  readonly signer: Signer;
  readonly manifest: Manifest;
  /** Randomness for handshake nonces (default: crypto.getRandomValues). */
  readonly randomBytes?: (length: number) => Uint8Array;
  /** A handshake (and opening the sync stream) must finish within this long (default 10 s). */
  readonly handshakeTimeoutMs?: number;
  /**
   * Also run on limited connections (circuit-relay hops with data/time limits). Off by
   * default: the relay is for signalling, and sync waits for a direct connection.
   */
  readonly allowLimitedConnections?: boolean;
  /** Bytes queued per peer while its stream applies backpressure; beyond it frames are dropped (default 16 MiB). */
  readonly maxQueuedBytesPerPeer?: number;
  /** Wall clock for `since` in peers() (default Date.now). */
  readonly now?: () => number;
}

/** The parts of a libp2p node the service uses. */
export interface NaosSyncComponents {
  readonly peerId: PeerId;
  readonly registrar: {
    handle(protocol: string, handler: StreamHandler, options?: StreamHandlerOptions): Promise<void>;
    unhandle(protocol: string, options?: AbortOptions): Promise<void>;
    register(protocol: string, topology: Topology, options?: AbortOptions): Promise<string>;
    unregister(id: string): void;
  };
  readonly connectionManager: { getConnections(peerId?: PeerId): Connection[] };
  readonly events: TypedEventTarget<Libp2pEvents>;
  readonly logger: ComponentLogger;
}

/** A peer whose handshake succeeded. */
export interface LinkedPeer {
  readonly peerId: string;
  readonly nodeId: string;
  readonly manifest: Manifest;
  /** The trust granted (F26): `experimental` for every node met this way, whatever it claims. */
  readonly trust: TrustLevel;
  /** When the handshake completed (wall ms). */
  readonly since: number;
  /** Open sync streams with it (normally one). */
  readonly streams: number;
  /** Whether the connection carrying the stream is direct (not a relayed, limited one). */
  readonly direct: boolean;
}

export interface NaosSyncStats {
  readonly linked: number;
  readonly streams: number;
  readonly handshakesInFlight: number;
  readonly handshakes: number;
  /** Refused handshakes by reason (HandshakeRefusal), plus `sync-before-handshake` and `oversized-frame` (stream aborted). */
  readonly refused: Readonly<Record<string, number>>;
  readonly framesIn: number;
  readonly framesOut: number;
  /** Frames not sent: queue full, stream closed, or addressed to a node not linked here. */
  readonly dropped: number;
  readonly queuedBytes: number;
}

interface PeerLink {
  readonly peerId: PeerId;
  readonly node: ProvenNode;
  readonly since: number;
  /** Open sync streams, newest last; sends go on the newest. */
  readonly streams: FrameStream[];
}

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_QUEUED_BYTES = 16 * 1024 * 1024;

/** The other side opened a sync stream before proving who it is. */
export class HandshakeRequiredError extends NaosError {}

/** The transport was closed. */
export class SyncTransportClosedError extends NaosError {}

export class NaosSyncTransport implements Transport, Startable {
  readonly name = 'libp2p';
  /** This node's id (the hash of the signer's key). */
  readonly nodeId: string;
  readonly [Symbol.toStringTag] = '@naos/sync';
  readonly [serviceDependencies] = ['@libp2p/identify'];
  readonly #c: NaosSyncComponents;
  readonly #o: Required<NaosSyncInit>;
  readonly #log: Logger;
  readonly #self: string;
  readonly #nonces = new NonceRegistry();
  readonly #handlers = new Set<(bytes: Uint8Array, link: string) => void>();
  readonly #peerListeners = new Set<(peers: LinkedPeer[]) => void>();
  readonly #links = new Map<string, PeerLink>();
  readonly #byNode = new Map<string, string>();
  /** Connections with a handshake running (by connection id). */
  readonly #handshaking = new Map<string, AbortController>();
  readonly #refused = new Map<string, number>();
  #handshakes = 0;
  #dropped = 0;
  #framesIn = 0;
  #framesOut = 0;
  #topology: string | undefined;
  #started = false;
  #closed = false;
  readonly #onDisconnect = (event: CustomEvent<PeerId>): void => this.#unlink(event.detail.toString());

  constructor(components: NaosSyncComponents, init: NaosSyncInit) {
    this.#c = components;
    this.#o = {
      randomBytes: (length) => crypto.getRandomValues(new Uint8Array(length)),
      handshakeTimeoutMs: DEFAULT_HANDSHAKE_TIMEOUT_MS,
      allowLimitedConnections: false,
      maxQueuedBytesPerPeer: DEFAULT_MAX_QUEUED_BYTES,
      now: Date.now,
      ...init,
    };
    this.#log = components.logger.forComponent('naos:sync');
    this.#self = components.peerId.toString();
    this.nodeId = nodeIdFromPublicKey(init.signer.publicKey);
  }

  // ---- lifecycle (libp2p Startable) -----------------------------------------------------

  async start(): Promise<void> {
    if (this.#started || this.#closed) return;
    this.#started = true;
    const options = { runOnLimitedConnection: this.#o.allowLimitedConnections, maxInboundStreams: 4, maxOutboundStreams: 4 };
    await this.#c.registrar.handle(HANDSHAKE_PROTOCOL, (stream, connection) => void this.#respond(stream, connection), options);
    await this.#c.registrar.handle(SYNC_PROTOCOL, (stream, connection) => this.#acceptSync(stream, connection), options);
    this.#topology = await this.#c.registrar.register(HANDSHAKE_PROTOCOL, {
      notifyOnLimitedConnection: this.#o.allowLimitedConnections,
      onConnect: (_peerId, connection) => this.#onConnect(connection),
    });
    this.#c.events.addEventListener('peer:disconnect', this.#onDisconnect);
  }

  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    this.#c.events.removeEventListener('peer:disconnect', this.#onDisconnect);
    if (this.#topology !== undefined) this.#c.registrar.unregister(this.#topology);
    this.#topology = undefined;
    for (const controller of this.#handshaking.values()) controller.abort(new SyncTransportClosedError('transport stopped'));
    this.#handshaking.clear();
    await Promise.all([this.#c.registrar.unhandle(HANDSHAKE_PROTOCOL), this.#c.registrar.unhandle(SYNC_PROTOCOL)]).catch(() => undefined);
    for (const link of [...this.#links.values()]) {
      for (const stream of [...link.streams]) stream.abort(new SyncTransportClosedError('transport stopped'));
    }
    this.#links.clear();
    this.#byNode.clear();
  }

  // ---- Transport --------------------------------------------------------------------------

  /**
   * Sends to one linked node (`to`) or, without `to`, to every linked peer. A node not
   * linked here is not reachable through this transport: nothing is sent (counted as
   * dropped). Never throws.
   */
  send(bytes: Uint8Array, to?: string): void {
    if (this.#closed) return;
    if (to !== undefined) {
      const peer = this.#byNode.get(to);
      const stream = peer === undefined ? undefined : newest(this.#links.get(peer));
      if (!stream || !stream.write(bytes)) this.#dropped++;
      return;
    }
    for (const link of this.#links.values()) {
      const stream = newest(link);
      if (!stream || !stream.write(bytes)) this.#dropped++;
    }
  }

  /** Frames from linked peers; `link` is the sender's libp2p peer id. */
  onMessage(handler: (bytes: Uint8Array, link: string) => void): () => void {
    this.#handlers.add(handler);
    return () => void this.#handlers.delete(handler);
  }

  /** Stops the service for good (the libp2p node itself is its owner's to stop). */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.stop();
    this.#closed = true;
    this.#handlers.clear();
    this.#peerListeners.clear();
  }

  // ---- what it knows -----------------------------------------------------------------------

  peers(): LinkedPeer[] {
    return [...this.#links.values()]
      .map((link) => {
        const stream = newest(link);
        return {
          peerId: link.peerId.toString(),
          nodeId: link.node.nodeId,
          manifest: link.node.manifest,
          trust: 'experimental' as const,
          since: link.since,
          streams: link.streams.length,
          direct: stream !== undefined && isDirect(this.#connectionOf(link, stream)),
        };
      })
      .sort((a, b) => (a.nodeId < b.nodeId ? -1 : 1));
  }

  /** The libp2p peer id a node id is linked to, if any. */
  peerIdOf(nodeId: string): string | undefined {
    return this.#byNode.get(nodeId);
  }

  /** Calls `listener` with peers() whenever a peer is linked or unlinked, or its sync streams change. Returns the unsubscribe function. */
  onPeersChange(listener: (peers: LinkedPeer[]) => void): () => void {
    this.#peerListeners.add(listener);
    return () => void this.#peerListeners.delete(listener);
  }

  stats(): NaosSyncStats {
    let streams = 0;
    let queuedBytes = 0;
    let framesIn = this.#framesIn;
    let framesOut = this.#framesOut;
    let dropped = this.#dropped;
    for (const link of this.#links.values()) {
      for (const stream of link.streams) {
        streams++;
        queuedBytes += stream.queuedBytes;
        framesIn += stream.framesIn;
        framesOut += stream.framesOut;
        dropped += stream.dropped;
      }
    }
    return {
      linked: this.#links.size,
      streams,
      handshakesInFlight: this.#handshaking.size,
      handshakes: this.#handshakes,
      refused: Object.fromEntries(this.#refused),
      framesIn,
      framesOut,
      dropped,
      queuedBytes,
    };
  }

  // ---- handshake ---------------------------------------------------------------------------

  #eligible(connection: Connection): boolean {
    return connection.status === 'open' && (this.#o.allowLimitedConnections || connection.limits == null);
  }

  #onConnect(connection: Connection): void {
    if (!this.#started || connection.direction !== 'outbound' || !this.#eligible(connection)) return;
    const peer = connection.remotePeer.toString();
    const link = this.#links.get(peer);
    if (link) {
      // Already proven: a further connection only needs a stream if none is open.
      if (link.streams.length === 0) void this.#openSync(link, connection);
      return;
    }
    if (this.#handshaking.has(connection.id)) return;
    void this.#initiate(connection);
  }

  async #initiate(connection: Connection): Promise<void> {
    const remote = connection.remotePeer.toString();
    const { signal, done } = this.#deadline(connection.id);
    let stream: Stream | undefined;
    try {
      stream = await connection.newStream(HANDSHAKE_PROTOCOL, { signal, runOnLimitedConnection: this.#o.allowLimitedConnections });
      const lp = lpStream(stream, { maxDataLength: MAX_HANDSHAKE_MESSAGE_BYTES });
      const side = new HandshakeInitiator(this.#handshakeSide(remote));
      await lp.write(encodeHandshakeMessage(side.challenge()), { signal });
      const { peer, reply } = await side.onResponse(await readMessage(lp, signal));
      this.#checkBinding(peer, remote);
      await lp.write(encodeHandshakeMessage(reply), { signal });
      side.onResult(await readMessage(lp, signal));
      await stream.close({ signal }).catch(() => undefined);
      const link = this.#link(connection.remotePeer, peer);
      done();
      await this.#openSync(link, connection);
    } catch (error) {
      await this.#refuse(connection, stream, error, signal);
    } finally {
      done();
    }
  }

  async #respond(stream: Stream, connection: Connection): Promise<void> {
    if (!this.#started) {
      stream.abort(new SyncTransportClosedError('transport stopped'));
      return;
    }
    const remote = connection.remotePeer.toString();
    const { signal, done } = this.#deadline(`${connection.id}/in/${stream.id}`);
    try {
      const lp = lpStream(stream, { maxDataLength: MAX_HANDSHAKE_MESSAGE_BYTES });
      const side = new HandshakeResponder(this.#handshakeSide(remote));
      await lp.write(encodeHandshakeMessage(await side.onChallenge(await readMessage(lp, signal))), { signal });
      const peer = await side.onProof(await readMessage(lp, signal));
      this.#checkBinding(peer, remote);
      // Linked before saying so: the dialer's sync stream follows at once.
      this.#link(connection.remotePeer, peer);
      await lp.write(encodeHandshakeMessage({ type: 'result', ok: true }), { signal });
      await stream.close({ signal }).catch(() => undefined);
    } catch (error) {
      await this.#refuse(connection, stream, error, signal);
    } finally {
      done();
    }
  }

  /** A node id may be bound to one live peer id at a time (F1: one identity, one node). */
  /** One run's options for either side of the handshake with `remote` (a fresh nonce each). */
  #handshakeSide(remote: string): HandshakeSideOptions {
    return {
      signer: this.#o.signer,
      manifest: this.#o.manifest,
      self: this.#self,
      remote,
      nonce: this.#o.randomBytes(NONCE_BYTES),
      nonces: this.#nonces,
    };
  }

  #checkBinding(peer: ProvenNode, remote: string): void {
    const bound = this.#byNode.get(peer.nodeId);
    if (bound === undefined || bound === remote) return;
    const stillThere = this.#c.connectionManager.getConnections().some((c) => c.remotePeer.toString() === bound && c.status === 'open');
    if (stillThere) {
      throw new HandshakeError('node-id-in-use', `node ${peer.nodeId} is already linked as peer ${bound}, which is still connected`);
    }
    this.#unlink(bound);
  }

  #link(peerId: PeerId, node: ProvenNode): PeerLink {
    const key = peerId.toString();
    let link = this.#links.get(key);
    if (!link) {
      link = { peerId, node, since: this.#o.now(), streams: [] };
      this.#links.set(key, link);
      this.#byNode.set(node.nodeId, key);
      this.#handshakes++;
      this.#log('linked %s as node %s', key, node.nodeId);
      this.#notifyPeers();
    }
    return link;
  }

  #unlink(peer: string): void {
    const link = this.#links.get(peer);
    if (!link) return;
    this.#links.delete(peer);
    if (this.#byNode.get(link.node.nodeId) === peer) this.#byNode.delete(link.node.nodeId);
    for (const stream of [...link.streams]) stream.abort(new Error('peer disconnected'));
    this.#notifyPeers();
  }

  /** Counts a failed handshake, tells the other side why (best effort) and closes the connection. */
  async #refuse(connection: Connection, stream: Stream | undefined, error: unknown, signal: AbortSignal): Promise<void> {
    const reason: HandshakeRefusal | 'failed' = error instanceof HandshakeError ? error.reason : signal.aborted ? 'timeout' : 'failed';
    if (!this.#started) {
      stream?.abort(error as Error);
      return;
    }
    this.#refused.set(reason, (this.#refused.get(reason) ?? 0) + 1);
    this.#log('handshake with %p refused (%s): %s', connection.remotePeer, reason, (error as Error).message);
    if (stream && error instanceof HandshakeError && reason !== 'refused-by-peer' && reason !== 'timeout') {
      try {
        const lp = lpStream(stream, { maxDataLength: MAX_HANDSHAKE_MESSAGE_BYTES });
        await lp.write(encodeHandshakeMessage({ type: 'result', ok: false, reason: `${reason}: ${error.message}` }), {
          signal: AbortSignal.timeout(1000),
        });
      } catch {
        // The other side may be gone already.
      }
    }
    stream?.abort(error instanceof Error ? error : new Error(String(error)));
    // A peer that fails to prove who it is, or proves an identity it may not use here,
    // gets no connection to us. (A slow or vanished peer is only counted.)
    if (reason !== 'failed' && reason !== 'timeout') {
      await connection.close({ signal: AbortSignal.timeout(2000) }).catch((e: unknown) => connection.abort(e as Error));
    }
  }

  /** A signal that aborts after the handshake timeout (or on stop); `done` releases it. */
  #deadline(key: string): { signal: AbortSignal; done: () => void } {
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new HandshakeError('timeout', 'the handshake did not complete in time')),
      this.#o.handshakeTimeoutMs,
    );
    this.#handshaking.set(key, controller);
    return {
      signal: controller.signal,
      done: () => {
        clearTimeout(timer);
        if (this.#handshaking.get(key) === controller) this.#handshaking.delete(key);
      },
    };
  }

  // ---- sync streams -------------------------------------------------------------------------

  async #openSync(link: PeerLink, connection: Connection, signal?: AbortSignal): Promise<void> {
    try {
      const stream = await connection.newStream(SYNC_PROTOCOL, {
        signal: signal ?? AbortSignal.timeout(this.#o.handshakeTimeoutMs),
        runOnLimitedConnection: this.#o.allowLimitedConnections,
      });
      this.#attach(link, stream);
    } catch (error) {
      this.#log('could not open a sync stream to %p: %s', link.peerId, (error as Error).message);
    }
  }

  #acceptSync(stream: Stream, connection: Connection): void {
    const link = this.#started ? this.#links.get(connection.remotePeer.toString()) : undefined;
    if (!link) {
      this.#refused.set('sync-before-handshake', (this.#refused.get('sync-before-handshake') ?? 0) + 1);
      stream.abort(new HandshakeRequiredError(`peer ${connection.remotePeer.toString()} opened ${SYNC_PROTOCOL} without a handshake`));
      return;
    }
    this.#attach(link, stream);
  }

  #attach(link: PeerLink, stream: Stream): void {
    if (!this.#started || this.#links.get(link.peerId.toString()) !== link) {
      stream.abort(new SyncTransportClosedError('not linked'));
      return;
    }
    const peer = link.peerId.toString();
    const frames: FrameStream = new FrameStream(stream, {
      maxFrameBytes: MAX_MESSAGE_BYTES,
      maxQueuedBytes: this.#o.maxQueuedBytesPerPeer,
      onFrame: (bytes) => {
        if (this.#closed) return;
        for (const handler of this.#handlers) {
          try {
            handler(bytes, peer);
          } catch {
            // A failing handler must not stop delivery to the others.
          }
        }
      },
      onClose: (error) => {
        if (error?.name === 'FrameTooLargeError') this.#refused.set('oversized-frame', (this.#refused.get('oversized-frame') ?? 0) + 1);
        const at = link.streams.indexOf(frames);
        if (at >= 0) link.streams.splice(at, 1);
        this.#framesIn += frames.framesIn;
        this.#framesOut += frames.framesOut;
        this.#dropped += frames.dropped;
        // Still connected (e.g. another connection remains): the dialing side reopens.
        if (this.#started && link.streams.length === 0 && this.#links.get(peer) === link) {
          const next = this.#c.connectionManager.getConnections(link.peerId).find((c) => c.direction === 'outbound' && this.#eligible(c));
          if (next) void this.#openSync(link, next);
        }
        if (this.#links.get(peer) === link) this.#notifyPeers();
      },
    });
    if (frames.open) {
      link.streams.push(frames);
      // Listeners learn which connection carries the link (direct or not) once it has a stream.
      this.#notifyPeers();
    }
  }

  #connectionOf(link: PeerLink, stream: FrameStream): Connection | undefined {
    return this.#c.connectionManager.getConnections(link.peerId).find((c) => c.streams.includes(stream.stream));
  }

  #notifyPeers(): void {
    if (this.#peerListeners.size === 0) return;
    const peers = this.peers();
    for (const listener of this.#peerListeners) {
      try {
        listener(peers);
      } catch {
        // A failing listener stops nothing.
      }
    }
  }
}

/**
 * The service factory: `services: { naos: naosSync({ signer, manifest }) }` in a libp2p
 * config; `node.services.naos` is then the Transport to hand to a TransportMux.
 */
export function naosSync(init: NaosSyncInit): (components: NaosSyncComponents) => NaosSyncTransport {
  return (components) => new NaosSyncTransport(components, init);
}

function newest(link: PeerLink | undefined): FrameStream | undefined {
  if (!link) return undefined;
  for (let i = link.streams.length - 1; i >= 0; i--) if (link.streams[i]!.open) return link.streams[i];
  return undefined;
}

/** A direct connection is recognised by having no limits, not by its address (a WebRTC one still names the relay). */
function isDirect(connection: Connection | undefined): boolean {
  return connection !== undefined && connection.limits == null;
}

async function readMessage(lp: ReturnType<typeof lpStream>, signal: AbortSignal): Promise<HandshakeMessage> {
  let frame;
  try {
    frame = await lp.read({ signal });
  } catch (error) {
    if (signal.aborted) throw new HandshakeError('timeout', 'the handshake did not complete in time', { cause: error });
    throw new HandshakeError('timeout', `the stream ended during the handshake: ${(error as Error).message}`, { cause: error });
  }
  return decodeHandshakeMessage(frame.subarray());
}
