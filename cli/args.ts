import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';

/** Flags of one command, in node:util parseArgs form. */
export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;

export interface ParsedArgs {
  readonly command: string;
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
}

/** Flags every command takes. */
export const COMMON_OPTIONS: OptionSpec = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

export const DATA_OPTION: OptionSpec = { data: { type: 'string', short: 'd' } };

/** The data dir when --data is not given. */
export const DEFAULT_DATA_DIR = '.naos';

/**
 * Parses a command's arguments strictly: unknown flags, flags missing their value and
 * positionals beyond `positionals.length` are usage errors naming the command.
 */
export function parseCommandArgs(
  command: string,
  args: readonly string[],
  options: OptionSpec,
  positionals: readonly string[] = [],
): ParsedArgs {
  let parsed: { values: Record<string, string | boolean | (string | boolean)[] | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...args], options: { ...COMMON_OPTIONS, ...options }, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError((error as Error).message, command);
  }
  const extra = parsed.positionals[positionals.length];
  if (extra !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(extra)}`, command);
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (!values['help']) {
    const missing = positionals.find((_, i) => parsed.positionals[i] === undefined);
    if (missing !== undefined) throw new UsageError(`missing ${missing}`, command);
  }
  return { command, values, positionals: parsed.positionals };
}

/** A string flag's value; refuses an empty one (`--out=`). */
export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) throw new UsageError(`--${name} needs a value`, args.command);
  return value;
}

export function dataDir(args: ParsedArgs): string {
  return stringOption(args, 'data') ?? DEFAULT_DATA_DIR;
}

/** A non-negative decimal integer flag (no sign, no leading zeros, no exponent). */
export function integerOption(args: ParsedArgs, name: string, required: true): number;
export function integerOption(args: ParsedArgs, name: string, required?: false): number | undefined;
export function integerOption(args: ParsedArgs, name: string, required = false): number | undefined {
  const text = stringOption(args, name);
  if (text === undefined) {
    if (required) throw new UsageError(`--${name} is required`, args.command);
    return undefined;
  }
  const value = Number(text);
  if (!/^(0|[1-9][0-9]*)$/.test(text) || !Number.isSafeInteger(value)) {
    throw new UsageError(`--${name} must be a non-negative integer, got ${JSON.stringify(text)}`, args.command);
  }
  return value;
}
