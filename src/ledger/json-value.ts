import { InvalidInputError } from '../errors.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A value given to append() or sent by a peer is not a plain JSON value. */
export class InvalidValueError extends InvalidInputError {}

const MAX_DEPTH = 64;

/**
 * Requires a plain JSON value: null, booleans, finite numbers, strings, arrays and plain
 * objects, at most 64 levels deep, no cycles. Everything else (undefined, NaN, bigint,
 * Date, Map, byte arrays, class instances, functions) is refused with the path of the
 * first offending part, e.g. `$.a[2]: NaN is not a JSON value`.
 */
export function assertJsonValue(value: unknown, path = '$'): asserts value is JsonValue {
  check(value, path, 0, new Set());
}

function check(value: unknown, path: string, depth: number, seen: Set<object>): void {
  const refuse = (why: string): never => {
    throw new InvalidValueError(`${path}: ${why}`);
  };
  if (depth > MAX_DEPTH) refuse(`nested deeper than ${MAX_DEPTH} levels`);
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) refuse(`${value} is not a JSON value`);
      return;
    case 'object': {
      if (value === null) return;
      if (seen.has(value)) refuse('cycle');
      seen.add(value);
      if (Array.isArray(value)) {
        value.forEach((item, i) => check(item, `${path}[${i}]`, depth + 1, seen));
      } else {
        const proto = Object.getPrototypeOf(value) as unknown;
        if (proto !== Object.prototype && proto !== null) {
          refuse(`${value.constructor?.name ?? 'object'} is not a plain object`);
        }
        for (const [key, item] of Object.entries(value)) check(item, `${path}.${key}`, depth + 1, seen);
      }
      seen.delete(value);
      return;
    }
    default:
      refuse(`${typeof value} is not a JSON value`);
  }
}
