import { describe, expect, it } from 'vitest';
import { parsePeersDocument, PeersDocumentError } from '../../adapters/libp2p/peers-document.js';
import { peersDocument } from '../../server/peers-json.js';

const RELAY = '12D3KooWQbXP7znCDK4NHgWi7GhQGMi2VEpdDujo4EMdgqLnn7EM';
const PEER = '12D3KooWMY6PkCCmzftmqL4ZgPxHbH6kvNzEyciVZjtcWSGXR3GQ';

describe('parsePeersDocument (the bootstrap list a browser reads)', () => {
  it('reads what the server serves', () => {
    const doc = peersDocument({
      relays: [{ peerId: RELAY, multiaddrs: () => [`/ip4/127.0.0.1/tcp/4177/ws/p2p/${RELAY}`] }],
      peers: [
        {
          peerId: PEER,
          nodeId: 'a'.repeat(32),
          manifest: {
            region: 'local',
            shard: 'local-0',
            types: ['pod-host'],
            capabilities: [],
            trust: 'experimental',
            started: 0,
            software: 'x',
          },
          multiaddrs: () => [`/ip4/127.0.0.1/tcp/4178/ws/p2p/${PEER}`],
        },
      ],
      iceServers: [{ urls: 'stun:127.0.0.1:3478' }],
    });
    const list = parsePeersDocument(JSON.parse(JSON.stringify(doc)));
    expect(list.relays).toEqual([{ peerId: RELAY, multiaddrs: [`/ip4/127.0.0.1/tcp/4177/ws/p2p/${RELAY}`] }]);
    expect(list.peers[0]).toMatchObject({ peerId: PEER, nodeId: 'a'.repeat(32), types: ['pod-host'] });
    expect(list.iceServers).toEqual([{ urls: 'stun:127.0.0.1:3478' }]);
  });

  it.each([
    ['not an object', 'nope', /expected an object/],
    ['another version', { v: 2 }, /expected v 1/],
    ['relays not a list', { v: 1, relays: {} }, /relays: expected an array/],
    ['an address of another peer', { v: 1, relays: [{ peerId: RELAY, multiaddrs: [`/ip4/1.2.3.4/tcp/1/ws/p2p/${PEER}`] }] }, /ending in/],
    ['an address that is no multiaddr', { v: 1, relays: [{ peerId: RELAY, multiaddrs: [`http://x/p2p/${RELAY}`] }] }, /ending in/],
    ['a peer without node id', { v: 1, peers: [{ peerId: PEER, multiaddrs: [] }] }, /peers\[0\]\.nodeId/],
    ['ice urls of the wrong type', { v: 1, iceServers: [{ urls: 7 }] }, /iceServers\[0\]\.urls/],
    ['too many relays', { v: 1, relays: Array.from({ length: 300 }, () => ({ peerId: RELAY, multiaddrs: [] })) }, /more than 256/],
  ])('refuses %s, naming the field', (_, value, reason) => {
    expect(() => parsePeersDocument(value)).toThrow(PeersDocumentError);
    expect(() => parsePeersDocument(value)).toThrow(reason);
  });

  it('ignores fields it does not know, and missing lists are empty', () => {
    expect(parsePeersDocument({ v: 1, network: 'naos', future: true })).toEqual({ relays: [], peers: [], iceServers: [] });
  });
});
