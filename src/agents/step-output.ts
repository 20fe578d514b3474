import { NaosError } from '../errors.js';
import { assertJsonValue, type JsonValue } from '../ledger/json-value.js';
import { EFFECT_TYPES, type EffectType } from './rights.js';

/** Limits on what one step may hand back; over them the step is a fault and rolls back. */
export interface OutputLimits {
  /** JSON text of the new state, in characters. */
  readonly stateChars: number;
  /** JSON text of all effects together. */
  readonly effectsChars: number;
  /** Effects per step (an "effect flood" beyond it). */
  readonly effects: number;
}

export const DEFAULT_OUTPUT_LIMITS: OutputLimits = { stateChars: 64 * 1024, effectsChars: 96 * 1024, effects: 64 };

/** The guest's output is not `{state, effects?}` within the limits. */
export class StepOutputError extends NaosError {}

export interface Effect {
  /** Any string: unknown types are refused (and recorded), not dropped. */
  readonly type: string;
  readonly body: { readonly [key: string]: JsonValue };
}

export interface StepOutput {
  readonly state: JsonValue;
  readonly effects: readonly Effect[];
  /** The effects exactly as the guest returned them (recorded in agent.step, compared on replay). */
  readonly rawEffects: readonly JsonValue[];
}

/**
 * Parses the guest's JSON text. Everything in it is untrusted: JSON.parse gives plain
 * data (a "__proto__" key becomes an own property, never a prototype), and it is then
 * checked to be plain JSON of bounded size.
 */
export function parseStepOutput(text: string, limits: OutputLimits = DEFAULT_OUTPUT_LIMITS): StepOutput {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new StepOutputError('step output is not JSON', { cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new StepOutputError('step must return an object {state, effects?}');
  }
  const record = value as Record<string, unknown>;
  const extra = Object.keys(record).filter((k) => k !== 'state' && k !== 'effects');
  if (extra.length > 0) throw new StepOutputError(`step returned unknown fields: ${extra.slice(0, 5).join(', ')}`);
  if (!Object.hasOwn(record, 'state') || record['state'] === undefined) throw new StepOutputError('step returned no state');
  try {
    assertJsonValue(record['state'], '$.state');
  } catch (cause) {
    throw new StepOutputError(`step state is not plain JSON: ${(cause as Error).message}`, { cause });
  }
  const state = record['state'];
  const stateChars = JSON.stringify(state).length;
  if (stateChars > limits.stateChars)
    throw new StepOutputError(`state is ${stateChars} characters of JSON, more than ${limits.stateChars}`);
  const rawEffects = record['effects'] ?? [];
  if (!Array.isArray(rawEffects)) throw new StepOutputError('effects must be an array');
  if (rawEffects.length > limits.effects) {
    throw new StepOutputError(`effect flood: ${rawEffects.length} effects in one step, at most ${limits.effects}`);
  }
  const effectsChars = JSON.stringify(rawEffects).length;
  if (effectsChars > limits.effectsChars)
    throw new StepOutputError(`effects are ${effectsChars} characters of JSON, more than ${limits.effectsChars}`);
  const effects = rawEffects.map((raw: unknown, i): Effect => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw new StepOutputError(`effects[${i}] must be an object {type, …}`);
    const { type, ...body } = raw as Record<string, JsonValue>;
    if (typeof type !== 'string') throw new StepOutputError(`effects[${i}].type must be a string`);
    return { type, body };
  });
  return { state, effects, rawEffects: rawEffects as JsonValue[] };
}

export function isEffectType(type: string): type is EffectType {
  return (EFFECT_TYPES as readonly string[]).includes(type);
}
