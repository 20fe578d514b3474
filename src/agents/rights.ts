import { InvalidInputError } from '../errors.js';

/**
 * Rights (F16) are capabilities named in the PolicyLedger; every effect an agent asks
 * for needs one. `health.report` is the meta-agents' right: it writes health reports
 * and alerts and is not a task right — an agent holding only it executes no tasks (F23).
 */
export const RIGHTS = ['ledger.append', 'agent.send', 'council.propose', 'agent.spawn', 'module.import', 'health.report'] as const;
export type Right = (typeof RIGHTS)[number];

export const TASK_RIGHTS: readonly Right[] = ['ledger.append', 'agent.send', 'council.propose', 'agent.spawn', 'module.import'];

/** Rights of an agent spawned through naos.agents.spawn without a rights list. */
export const DEFAULT_RIGHTS: readonly Right[] = ['ledger.append', 'agent.send'];

export const EFFECT_TYPES = ['append', 'send', 'propose', 'spawn', 'import', 'report', 'alert'] as const;
export type EffectType = (typeof EFFECT_TYPES)[number];

export const RIGHT_FOR_EFFECT: Readonly<Record<EffectType, Right>> = {
  append: 'ledger.append',
  send: 'agent.send',
  propose: 'council.propose',
  spawn: 'agent.spawn',
  import: 'module.import',
  report: 'health.report',
  alert: 'health.report',
};

const DUTY = /^[a-z][a-z0-9-]{0,62}$/;

export function isRight(value: unknown): value is Right {
  return typeof value === 'string' && (RIGHTS as readonly string[]).includes(value);
}

/** A sorted, duplicate-free list of known rights; refuses unknown ones with InvalidInputError. */
export function parseRights(value: unknown, what = 'rights'): Right[] {
  if (!Array.isArray(value)) throw new InvalidInputError(`${what} must be an array of rights (${RIGHTS.join(', ')})`);
  for (const right of value) {
    if (!isRight(right)) throw new InvalidInputError(`${what}: unknown right ${JSON.stringify(right)}; known: ${RIGHTS.join(', ')}`);
  }
  return [...new Set(value as Right[])].sort();
}

/** Duties are free-form obligations (e.g. `monitor-federation`), recorded with the rights. */
export function parseDuties(value: unknown, what = 'duties'): string[] {
  if (!Array.isArray(value)) throw new InvalidInputError(`${what} must be an array of duty names`);
  for (const duty of value) {
    if (typeof duty !== 'string' || !DUTY.test(duty)) throw new InvalidInputError(`${what}: bad duty name ${JSON.stringify(duty)}`);
  }
  return [...new Set(value as string[])].sort();
}
