import { InvalidInputError } from '../src/errors.js';
import { type Manifest, MAX_CAPABILITIES, NODE_TYPES, type NodeType, SYNC_BROADCAST_CHANNEL } from '../src/federation/messages.js';
import { version } from '../package.json';
import type { ManifestParams } from './protocol.js';

export const DEFAULT_REGION = 'local';
export const DEFAULT_TYPES: readonly NodeType[] = ['pod-host', 'compute'];
/** At boot; `sync/libp2p` is added when the page attaches a libp2p network (workers/federation.ts). */
export const DEFAULT_CAPABILITIES: readonly string[] = ['ledger', SYNC_BROADCAST_CHANNEL];
export const SOFTWARE = `naos/${version}`;

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const CAPABILITY = /^[A-Za-z0-9][A-Za-z0-9._/:-]{0,127}$/;

/**
 * The node's manifest: defaults, overridden by the page's params. A param that is not
 * acceptable fails with InvalidInputError naming it (the boot then fails and says so),
 * rather than starting a node that announces something other than what was asked.
 */
export function buildManifest(params: ManifestParams, started: number): Manifest {
  const region = params.region === undefined ? DEFAULT_REGION : checked('region', params.region, NAME);
  const shard = params.shard === undefined ? `${region}-0` : checked('shard', params.shard, NAME);
  const types = params.types === undefined ? DEFAULT_TYPES : list('types', params.types, NODE_TYPES.length).map(nodeType);
  const capabilities =
    params.capabilities === undefined
      ? DEFAULT_CAPABILITIES
      : list('capabilities', params.capabilities, MAX_CAPABILITIES).map((c) => checked('capabilities', c, CAPABILITY));
  return {
    region,
    shard,
    types: [...new Set(types)],
    capabilities: [...new Set(capabilities)],
    trust: 'experimental',
    started,
    software: SOFTWARE,
  };
}

function checked(what: string, value: unknown, pattern: RegExp): string {
  if (typeof value !== 'string') throw new InvalidInputError(`manifest ${what} must be a string, got ${typeof value}`);
  if (!pattern.test(value)) throw new InvalidInputError(`manifest ${what} ${JSON.stringify(value)} does not match ${String(pattern)}`);
  return value;
}

function list(what: string, value: unknown, max: number): string[] {
  if (typeof value !== 'string') throw new InvalidInputError(`manifest ${what} must be a comma-separated string, got ${typeof value}`);
  const items = value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (items.length > max) throw new InvalidInputError(`manifest ${what} lists ${items.length} items, at most ${max}`);
  return items;
}

function nodeType(value: string): NodeType {
  if (!(NODE_TYPES as readonly string[]).includes(value)) {
    throw new InvalidInputError(`manifest type ${JSON.stringify(value)} is not one of ${NODE_TYPES.join(', ')}`);
  }
  return value as NodeType;
}
