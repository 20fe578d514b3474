import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { InvalidInputError } from '../src/errors.js';

/** Where the CLI reads and writes; the real process streams unless a test passes others. */
export interface CliIo {
  stdout(text: string): void;
  /** Resolves once stdout has taken what was written (a slow pipe reader holds long output back here, not in memory). */
  stdoutDrained?(): Promise<void>;
  stderr(text: string): void;
  readStdin(): Promise<Uint8Array>;
  /** Stdin in pieces as they arrive, for input read as a stream (absent: read it whole). */
  stdinChunks?(): AsyncIterable<Uint8Array>;
  readonly stdinIsTerminal: boolean;
  /** Progress lines for long work go to stderr only when a person is watching it. */
  readonly stderrIsTerminal?: boolean;
}

export function processIo(): CliIo {
  return {
    stdout: (text) => void process.stdout.write(text),
    stdoutDrained: () => (process.stdout.writableNeedDrain ? once(process.stdout, 'drain').then(() => undefined) : Promise.resolve()),
    stderr: (text) => void process.stderr.write(text),
    async readStdin() {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return new Uint8Array(Buffer.concat(chunks));
    },
    stdinChunks: () => process.stdin,
    stdinIsTerminal: process.stdin.isTTY,
    stderrIsTerminal: process.stderr.isTTY,
  };
}

/** Prints a value as one JSON document. */
export function printJson(io: CliIo, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}

/** Rows of `label  value`, labels padded to one column. */
export function printRows(io: CliIo, rows: readonly (readonly [string, string | number])[]): void {
  const width = Math.max(...rows.map(([label]) => label.length));
  io.stdout(rows.map(([label, value]) => `${label.padEnd(width)}  ${value}\n`).join(''));
}

/** An input file named on the command line cannot be read. */
export class InputFileError extends InvalidInputError {}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads a text file, or stdin for "-" (or no path), refusing invalid UTF-8. */
export async function readTextInput(io: CliIo, path: string | undefined, what: string): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = path === undefined || path === '-' ? await io.readStdin() : await readFile(path);
  } catch (cause) {
    throw new InputFileError(`cannot read ${what}: ${(cause as Error).message}`, { cause });
  }
  return decodeText(bytes, what);
}

/** UTF-8 bytes as text (a leading BOM dropped), refusing invalid UTF-8 and text too long for one string. */
export function decodeText(bytes: Uint8Array, what: string): string {
  try {
    return strictUtf8.decode(bytes).replace(/^\uFEFF/, '');
  } catch (cause) {
    if (cause instanceof RangeError) {
      throw new InputTooLargeError(`${what} is too large to read as one text (${bytes.length.toLocaleString('en')} bytes)`, { cause });
    }
    throw new InvalidInputError(`${what} is not valid UTF-8`, { cause });
  }
}

/** A file is larger than one JavaScript string can hold (about 512 MiB of text). */
export class InputTooLargeError extends InvalidInputError {}
