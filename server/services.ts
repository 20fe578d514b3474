import './runtime.js';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type AlwaysOnPeer, startAlwaysOnPeer } from './always-on-peer.js';
import type { ServerConfig } from './config.js';
import { loadOrCreateLibp2pKey } from './libp2p-key.js';
import { peersDocument, type PeersDocument } from './peers-json.js';
import { type RelayNode, startRelay } from './relay.js';
import { RUNTIME_POLYFILLS } from './runtime.js';

/**
 * The services `npm start` runs next to the static server: the relay/bootstrap node and
 * the always-on peer (which stays connected to the relay and to any further bootstrap
 * addresses), and the peers.json document describing them. scripts/start.js mounts the
 * document on its HTTP server.
 */
export interface Services {
  readonly relay: RelayNode | undefined;
  readonly peer: AlwaysOnPeer | undefined;
  peersDocument(): PeersDocument;
  /** Stops the peer (closing its ledger cleanly), then the relay. */
  stop(): Promise<void>;
}

export async function startServices(config: ServerConfig, log: (line: string) => void = console.log): Promise<Services> {
  if (RUNTIME_POLYFILLS.length > 0) log(`Node ${process.versions.node}: using ${RUNTIME_POLYFILLS.join(' and ')} for libp2p`);
  let relay: RelayNode | undefined;
  let peer: AlwaysOnPeer | undefined;
  try {
    if (config.relayPort !== undefined) {
      const dir = join(config.dataDir, 'relay');
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const { privateKey } = await loadOrCreateLibp2pKey(join(dir, 'libp2p.key'));
      relay = await startRelay({ host: config.host, port: config.relayPort, privateKey });
      log(`relay ${relay.peerId}`);
      for (const address of relay.multiaddrs()) log(`  ${address}`);
    }
    if (config.peerPort !== undefined) {
      peer = await startAlwaysOnPeer({
        dataDir: join(config.dataDir, 'peer'),
        host: config.host,
        port: config.peerPort,
        relays: [...(relay?.multiaddrs() ?? []), ...config.bootstrap],
      });
      log(`always-on peer: node ${peer.nodeId} (${peer.manifest.types.join(', ')}), data ${peer.node.dataDir}`);
      log(`  peer id ${peer.peerId}`);
      const printed = new Set(peer.multiaddrs());
      for (const address of printed) log(`  ${address}`);
      // Relayed addresses arrive when the reservation is made (and again after the relay
      // comes back): print each new one.
      const started = peer;
      started.libp2p.addEventListener('self:peer:update', () => {
        for (const address of started.multiaddrs()) {
          if (printed.has(address)) continue;
          printed.add(address);
          log(`always-on peer is now also reachable at ${address}`);
        }
      });
    }
  } catch (error) {
    await peer?.stop().catch(() => undefined);
    await relay?.stop().catch(() => undefined);
    throw error;
  }
  const relays = [...(relay ? [relay] : []), ...config.bootstrap.map(bootstrapEntry)];
  let stopped: Promise<void> | undefined;
  return {
    relay,
    peer,
    peersDocument: () => peersDocument({ relays, peers: peer ? [peer] : [], iceServers: config.iceServers }),
    stop() {
      stopped ??= (async () => {
        await peer?.stop();
        await relay?.stop();
      })();
      return stopped;
    },
  };
}

function bootstrapEntry(address: string): { peerId: string; multiaddrs(): string[] } {
  return { peerId: address.slice(address.lastIndexOf('/p2p/') + 5), multiaddrs: () => [address] };
}
