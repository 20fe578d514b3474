import { InvalidInputError } from '../src/errors.js';
import { assertJsonValue, type JsonValue } from '../src/ledger/json-value.js';

/** A line of `naos ledger append` input is not one JSON value. */
export class JsonLineError extends InvalidInputError {
  constructor(
    readonly line: number,
    why: string,
    options?: { cause?: unknown },
  ) {
    super(`line ${line}: ${why}`, options);
  }
}

export interface JsonLine {
  readonly line: number;
  readonly value: JsonValue;
}

/**
 * One JSON value per line (JSON Lines); blank lines are skipped. Every line is parsed
 * before any is returned, so one bad line rejects the whole input. Values JSON.parse
 * accepts but a ledger cannot hold (1e999 → Infinity) are refused too.
 */
export function parseJsonLines(text: string): JsonLine[] {
  const out: JsonLine[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (cause) {
      throw new JsonLineError(i + 1, `not valid JSON (${(cause as Error).message}): ${preview(raw)}`, { cause });
    }
    try {
      assertJsonValue(value);
    } catch (cause) {
      throw new JsonLineError(i + 1, (cause as Error).message, { cause });
    }
    out.push({ line: i + 1, value });
  });
  return out;
}

function preview(line: string): string {
  return JSON.stringify(line.length > 60 ? `${line.slice(0, 60)}…` : line);
}
