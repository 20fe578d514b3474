import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AlwaysOnPeer } from './always-on-peer.js';

/**
 * `/.well-known/naos/peer.json`: what the always-on peer holds — its node id, state root,
 * heads and flagged authors — so a person, a script or an end-to-end test can compare it
 * with the browsers' `naos.stateRoot()` without opening its data dir (which the running
 * peer locks). Everything in it is public: peers gossip the same roots and heads.
 * 404 when `npm start` runs no peer (`--no-peer`).
 */
export const PEER_STATUS_PATH = '/.well-known/naos/peer.json';

export interface PeerStatus {
  readonly nodeId: string;
  readonly peerId: string;
  readonly stateRoot: string;
  readonly heads: readonly { readonly origin: string; readonly size: number; readonly root: string }[];
  readonly flagged: readonly { readonly origin: string; readonly author: string; readonly forkSize: number; readonly evidenceId: string }[];
  /** Nodes it currently hears (all transports). */
  readonly peers: number;
}

export function peerStatus(peer: AlwaysOnPeer): PeerStatus {
  const kernel = peer.node.kernel;
  return {
    nodeId: peer.nodeId,
    peerId: peer.peerId,
    stateRoot: kernel.stateRoot(),
    heads: kernel.heads().map(({ origin, size, root }) => ({ origin, size, root })),
    flagged: kernel.flagged().map(({ origin, author, forkSize, evidenceId }) => ({ origin, author, forkSize, evidenceId })),
    peers: peer.federation.engine.peers().length,
  };
}

/** Connect-style middleware serving peerStatus (fresh on every request, never cached). */
export function peerStatusMiddleware(source: () => AlwaysOnPeer | undefined) {
  return (request: IncomingMessage, response: ServerResponse, next: () => void): void => {
    if ((request.url ?? '').split('?')[0] !== PEER_STATUS_PATH) {
      next();
      return;
    }
    const peer = source();
    if (!peer) {
      response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('no always-on peer runs here\n');
      return;
    }
    const body = JSON.stringify(peerStatus(peer), null, 2) + '\n';
    response.writeHead(200, {
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'no-store',
      'Access-Control-Allow-Origin': '*',
    });
    response.end(request.method === 'HEAD' ? undefined : body);
  };
}
