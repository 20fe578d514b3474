import { NaosError } from '../../src/errors.js';

/**
 * Reading `/.well-known/peers.json` (docs/SYNC.md; served by server/peers-json.ts) on the
 * client side: what a node takes its bootstrap list from. Checked strictly, because it
 * comes over the network: a wrong shape is a PeersDocumentError naming the field, never
 * a half-read list. Unknown fields are ignored; `v` must be 1.
 */
export interface BootstrapList {
  /** Circuit-relay-v2 servers: reserve a slot there, signal WebRTC through them. */
  readonly relays: readonly { readonly peerId: string; readonly multiaddrs: readonly string[] }[];
  /** Always-on nodes to dial directly; `nodeId` is a hint the handshake must prove. */
  readonly peers: readonly {
    readonly peerId: string;
    readonly nodeId: string;
    readonly types: readonly string[];
    readonly multiaddrs: readonly string[];
  }[];
  /** RTCIceServer objects; empty unless the server was configured with STUN/TURN. */
  readonly iceServers: readonly { readonly urls: string | readonly string[]; readonly username?: string; readonly credential?: string }[];
}

export class PeersDocumentError extends NaosError {}

const MAX_ENTRIES = 256;
const MAX_TEXT = 1024;

export function parsePeersDocument(value: unknown): BootstrapList {
  const doc = object(value, 'peers.json');
  if (doc['v'] !== 1) throw new PeersDocumentError(`peers.json: expected v 1, got ${JSON.stringify(doc['v'])}`);
  const relays = list(doc['relays'] ?? [], 'relays').map((item, i) => {
    const relay = object(item, `relays[${i}]`);
    const peerId = text(relay['peerId'], `relays[${i}].peerId`);
    return { peerId, multiaddrs: addresses(relay['multiaddrs'], `relays[${i}].multiaddrs`, peerId) };
  });
  const peers = list(doc['peers'] ?? [], 'peers').map((item, i) => {
    const peer = object(item, `peers[${i}]`);
    const peerId = text(peer['peerId'], `peers[${i}].peerId`);
    return {
      peerId,
      nodeId: text(peer['nodeId'], `peers[${i}].nodeId`),
      types: list(peer['types'] ?? [], `peers[${i}].types`).map((t, j) => text(t, `peers[${i}].types[${j}]`)),
      multiaddrs: addresses(peer['multiaddrs'], `peers[${i}].multiaddrs`, peerId),
    };
  });
  const iceServers = list(doc['iceServers'] ?? [], 'iceServers').map((item, i) => {
    const server = object(item, `iceServers[${i}]`);
    const urls = server['urls'];
    const checked =
      typeof urls === 'string'
        ? text(urls, `iceServers[${i}].urls`)
        : list(urls, `iceServers[${i}].urls`).map((u, j) => text(u, `iceServers[${i}].urls[${j}]`));
    return {
      urls: checked,
      ...(server['username'] === undefined ? {} : { username: text(server['username'], `iceServers[${i}].username`) }),
      ...(server['credential'] === undefined ? {} : { credential: text(server['credential'], `iceServers[${i}].credential`) }),
    };
  });
  return { relays, peers, iceServers };
}

/** Fetches and parses the bootstrap list (`url` is normally `/.well-known/peers.json` of the app's origin). */
export async function fetchBootstrapList(url: string | URL, options: { signal?: AbortSignal } = {}): Promise<BootstrapList> {
  let response: Response;
  try {
    response = await fetch(url, { cache: 'no-store', ...(options.signal ? { signal: options.signal } : {}) });
  } catch (error) {
    throw new PeersDocumentError(`could not fetch ${String(url)}: ${(error as Error).message}`, { cause: error });
  }
  if (!response.ok) throw new PeersDocumentError(`${String(url)} answered ${response.status}`);
  let body: unknown;
  try {
    body = await response.json();
  } catch (error) {
    throw new PeersDocumentError(`${String(url)} is not JSON: ${(error as Error).message}`, { cause: error });
  }
  return parsePeersDocument(body);
}

function object(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new PeersDocumentError(`${where}: expected an object`);
  return value as Record<string, unknown>;
}

function list(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new PeersDocumentError(`${where}: expected an array`);
  if (value.length > MAX_ENTRIES) throw new PeersDocumentError(`${where}: more than ${MAX_ENTRIES} entries`);
  return value;
}

function text(value: unknown, where: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_TEXT) {
    throw new PeersDocumentError(`${where}: expected a string of 1–${MAX_TEXT} characters`);
  }
  return value;
}

/** Multiaddrs (strings starting with `/`) that end in `/p2p/<peerId>`. */
function addresses(value: unknown, where: string, peerId: string): string[] {
  return list(value, where).map((item, i) => {
    const address = text(item, `${where}[${i}]`);
    if (!address.startsWith('/') || !address.endsWith(`/p2p/${peerId}`)) {
      throw new PeersDocumentError(`${where}[${i}]: expected a multiaddr ending in /p2p/${peerId}, got ${address}`);
    }
    return address;
  });
}
