import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { NaosError } from '../src/errors.js';
import type { IceServer } from './peers-json.js';

/**
 * What `npm start` serves, from flags (`npm start -- --relay-port 0`) or the environment;
 * a flag wins over its variable. Every default is local and needs no internet.
 */
export interface ServerConfig {
  /** Interface every listener binds to. */
  readonly host: string;
  /** HTTP port of the app and /.well-known/peers.json. */
  readonly port: number;
  /** WebSockets port of the relay; undefined: no relay is started. */
  readonly relayPort: number | undefined;
  /** WebSockets port of the always-on peer; undefined: no peer is started. */
  readonly peerPort: number | undefined;
  /** Data dir: `relay/` (its libp2p key) and `peer/` (the always-on node). */
  readonly dataDir: string;
  /** Further relay/bootstrap multiaddrs (each ending in /p2p/<id>) for the peer and for browsers. */
  readonly bootstrap: readonly string[];
  /** STUN/TURN servers handed to browsers in peers.json (none by default). */
  readonly iceServers: readonly IceServer[];
}

export class ServerConfigError extends NaosError {}

export const DEFAULTS = { host: '127.0.0.1', port: 4173, relayPort: 4177, peerPort: 4178, dataDir: '.naos/server' } as const;

export const USAGE = `npm start [-- options]   serve the app, a relay and an always-on peer on ${DEFAULTS.host}

  --host HOST          interface to bind (NAOS_HOST; default ${DEFAULTS.host})
  --port N             app and /.well-known/peers.json (PORT; default ${DEFAULTS.port})
  --relay-port N       relay WebSockets port, 0 = any free (RELAY_PORT; default ${DEFAULTS.relayPort})
  --peer-port N        always-on peer WebSockets port, 0 = any free (PEER_PORT; default ${DEFAULTS.peerPort})
  --data DIR           data dir of the relay key and the always-on node (NAOS_DATA; default ${DEFAULTS.dataDir})
  --no-relay           start no relay (NAOS_RELAY=off)
  --no-peer            start no always-on peer (NAOS_PEER=off)
  --bootstrap ADDR     another relay/bootstrap multiaddr, repeatable (NAOS_BOOTSTRAP, comma-separated)
  --ice-servers LIST   STUN/TURN for browsers: comma-separated URLs, or a JSON array of
                       RTCIceServer objects (NAOS_ICE_SERVERS; default none)
  -h, --help           this text`;

export function parseServerConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): ServerConfig | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        'relay-port': { type: 'string' },
        'peer-port': { type: 'string' },
        data: { type: 'string' },
        'no-relay': { type: 'boolean' },
        'no-peer': { type: 'boolean' },
        bootstrap: { type: 'string', multiple: true },
        'ice-servers': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new ServerConfigError(`${(error as Error).message}\n\n${USAGE}`);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  const off = (name: string): boolean => ['off', '0', 'false', 'no'].includes((env[name] ?? '').toLowerCase());
  const host = v.host ?? env['NAOS_HOST'] ?? DEFAULTS.host;
  if (host.length === 0 || /[\s/]/.test(host)) throw new ServerConfigError(`host must be an address or name, got ${JSON.stringify(host)}`);
  const port = parsePort(v.port ?? env['PORT'], DEFAULTS.port, 'PORT / --port', false);
  const relayPort =
    v['no-relay'] || off('NAOS_RELAY')
      ? undefined
      : parsePort(v['relay-port'] ?? env['RELAY_PORT'], DEFAULTS.relayPort, 'RELAY_PORT / --relay-port', true);
  const peerPort =
    v['no-peer'] || off('NAOS_PEER')
      ? undefined
      : parsePort(v['peer-port'] ?? env['PEER_PORT'], DEFAULTS.peerPort, 'PEER_PORT / --peer-port', true);
  const bootstrap = [...(v.bootstrap ?? []), ...splitList(env['NAOS_BOOTSTRAP'])];
  for (const address of bootstrap) {
    if (!address.startsWith('/') || !/\/p2p\/[^/]+$/.test(address)) {
      throw new ServerConfigError(`bootstrap address must be a multiaddr ending in /p2p/<peer id>, got ${JSON.stringify(address)}`);
    }
  }
  return {
    host,
    port,
    relayPort,
    peerPort,
    dataDir: resolve(cwd, v.data ?? env['NAOS_DATA'] ?? DEFAULTS.dataDir),
    bootstrap,
    iceServers: parseIceServers(v['ice-servers'] ?? env['NAOS_ICE_SERVERS']),
  };
}

function parsePort(text: string | undefined, fallback: number, what: string, zeroAllowed: boolean): number {
  if (text === undefined || text === '') return fallback;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535 || (port === 0 && !zeroAllowed)) {
    throw new ServerConfigError(`${what} must be an integer from ${zeroAllowed ? 0 : 1} to 65535, got ${JSON.stringify(text)}`);
  }
  return port;
}

function splitList(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function parseIceServers(text: string | undefined): IceServer[] {
  if (text === undefined || text.trim() === '') return [];
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (error) {
      throw new ServerConfigError(`ice servers are not valid JSON: ${(error as Error).message}`);
    }
    if (!Array.isArray(value)) throw new ServerConfigError('ice servers JSON must be an array of {urls, username?, credential?}');
    return value.map((server: unknown, i) => {
      const s = server as Partial<Record<string, unknown>>;
      const urls = s['urls'];
      const okUrls = typeof urls === 'string' || (Array.isArray(urls) && urls.every((u) => typeof u === 'string'));
      if (typeof server !== 'object' || server === null || !okUrls)
        throw new ServerConfigError(`ice server ${i} needs urls (a string or strings)`);
      return {
        urls: urls,
        ...(typeof s['username'] === 'string' ? { username: s['username'] } : {}),
        ...(typeof s['credential'] === 'string' ? { credential: s['credential'] } : {}),
      };
    });
  }
  return splitList(trimmed).map((url) => {
    if (!/^(stun|stuns|turn|turns):/.test(url))
      throw new ServerConfigError(`ice server URL must start with stun:, stuns:, turn: or turns:, got ${JSON.stringify(url)}`);
    return { urls: url };
  });
}
