import { InvalidAgentIdError } from './errors.js';

/**
 * Agent ids are `agent:<name>::<shard-region>` (seed 000 §II), e.g.
 * `agent:nemotron::eu-central`. Both parts are lower-case letters, digits and dashes,
 * 1–63 characters, starting with a letter or digit.
 */
const PART = '[a-z0-9][a-z0-9-]{0,62}';
const AGENT_ID = new RegExp(`^agent:(${PART})::(${PART})$`);
const NAME = new RegExp(`^${PART}$`);

export interface AgentIdParts {
  readonly name: string;
  readonly shard: string;
}

export function isAgentId(value: unknown): value is string {
  return typeof value === 'string' && AGENT_ID.test(value);
}

export function parseAgentId(id: unknown): AgentIdParts {
  const match = typeof id === 'string' ? AGENT_ID.exec(id) : null;
  if (!match)
    throw new InvalidAgentIdError(`agent id must look like agent:<name>::<shard-region>, got ${JSON.stringify(id) ?? String(id)}`);
  return { name: match[1]!, shard: match[2]! };
}

export function formatAgentId(name: string, shard: string): string {
  if (!NAME.test(name)) throw new InvalidAgentIdError(`agent name must be 1–63 of a-z, 0-9 and '-', got ${JSON.stringify(name)}`);
  if (!NAME.test(shard)) throw new InvalidAgentIdError(`shard-region must be 1–63 of a-z, 0-9 and '-', got ${JSON.stringify(shard)}`);
  return `agent:${name}::${shard}`;
}

/** The per-node shard of a node's own meta-agents: `node-` and the first 12 characters of its id. */
export function nodeShard(nodeId: string): string {
  return `node-${nodeId.slice(0, 12)}`;
}
