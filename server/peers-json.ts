import type { IncomingMessage, ServerResponse } from 'node:http';
import { HANDSHAKE_PROTOCOL } from '../src/federation/handshake.js';
import type { Manifest } from '../src/federation/messages.js';
import { SYNC_PROTOCOL } from '../adapters/libp2p/sync-transport.js';

/**
 * `/.well-known/peers.json` (seed 003, "well-known endpoint"): where a browser node finds
 * its bootstrap list. Served by the same HTTP server as the app. Format (version 1):
 *
 *   {
 *     "v": 1,
 *     "network": "naos",
 *     "protocols": { "handshake": "/naos/handshake/1.0.0", "sync": "/naos/sync/1.0.0" },
 *     "relays": [ { "peerId": "12D3Koo…", "multiaddrs": ["/ip4/127.0.0.1/tcp/4174/ws/p2p/12D3Koo…"] } ],
 *     "peers":  [ { "peerId": "12D3Koo…", "nodeId": "<32 base32>", "types": ["pod-host", "bridge"],
 *                   "region": "local", "multiaddrs": ["/ip4/127.0.0.1/tcp/4175/ws/p2p/12D3Koo…", "…/p2p-circuit/p2p/12D3Koo…"] } ],
 *     "iceServers": [],
 *     "generated": "2026-01-01T00:00:00.000Z"
 *   }
 *
 * Nothing in it is trusted on its own: a relay only carries bytes, and a peer's `nodeId`
 * is a hint that the handshake proves (or refuses) when the browser connects. Addresses
 * are the listening ones, each ending in /p2p/<peer id>; `iceServers` are
 * RTCIceServer-shaped and empty unless STUN/TURN servers were configured.
 */

export interface IceServer {
  readonly urls: string | readonly string[];
  readonly username?: string;
  readonly credential?: string;
}

export interface PeersDocument {
  readonly v: 1;
  readonly network: 'naos';
  readonly protocols: { readonly handshake: string; readonly sync: string };
  readonly relays: readonly { readonly peerId: string; readonly multiaddrs: readonly string[] }[];
  readonly peers: readonly {
    readonly peerId: string;
    readonly nodeId: string;
    readonly types: readonly string[];
    readonly region: string;
    readonly multiaddrs: readonly string[];
  }[];
  readonly iceServers: readonly IceServer[];
  readonly generated: string;
}

export interface PeersSource {
  readonly relays: readonly { peerId: string; multiaddrs(): string[] }[];
  readonly peers: readonly { peerId: string; nodeId: string; manifest: Manifest; multiaddrs(): string[] }[];
  readonly iceServers: readonly IceServer[];
}

export function peersDocument(source: PeersSource, now: () => number = Date.now): PeersDocument {
  return {
    v: 1,
    network: 'naos',
    protocols: { handshake: HANDSHAKE_PROTOCOL, sync: SYNC_PROTOCOL },
    relays: source.relays.map((relay) => ({ peerId: relay.peerId, multiaddrs: relay.multiaddrs() })),
    peers: source.peers.map((peer) => ({
      peerId: peer.peerId,
      nodeId: peer.nodeId,
      types: [...peer.manifest.types],
      region: peer.manifest.region,
      multiaddrs: peer.multiaddrs(),
    })),
    iceServers: source.iceServers,
    generated: new Date(now()).toISOString(),
  };
}

export const PEERS_JSON_PATH = '/.well-known/peers.json';

/**
 * Connect-style middleware serving the document (fresh on every request: relayed
 * addresses come and go). Any origin may read it (other deployments discover peers this
 * way, seed 003); it is never cached.
 */
export function peersJsonMiddleware(source: () => PeersDocument) {
  return (request: IncomingMessage, response: ServerResponse, next: () => void): void => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== PEERS_JSON_PATH) {
      next();
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    const body = JSON.stringify(source(), null, 2) + '\n';
    response.writeHead(200, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      'Cache-Control': 'no-store',
      'Access-Control-Allow-Origin': '*',
    });
    response.end(request.method === 'HEAD' ? undefined : body);
  };
}
