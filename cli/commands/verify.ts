import { InvalidInputError } from '../../src/errors.js';
import { open, type FileHandle } from 'node:fs/promises';
import { type ExportReport, verifyExport } from '../../src/ledger/export.js';
import type { ParsedArgs } from '../args.js';
import { EXIT } from '../errors.js';
import { type CliIo, decodeText, InputFileError, InputTooLargeError, printJson, readTextInput } from '../io.js';
import { verifyExportStream } from '../verify-stream.js';

/** `naos verify EXPORT`: checks an export offline and prints every check. */
export async function runVerify(args: ParsedArgs, io: CliIo): Promise<number> {
  const path = args.positionals[0]!;
  const report = path === '-' ? await verifyStdin(io) : await verifyFile(io, path);
  if (args.values['json'] === true) printJson(io, report);
  else {
    for (const check of report.checks) io.stdout(`${check.ok ? '✓' : '✗'} ${check.name} — ${check.detail}\n`);
    const failed = report.checks.filter((check) => !check.ok).length;
    io.stdout(
      failed === 0
        ? `verified: all ${report.checks.length} checks passed\n`
        : `NOT VERIFIED: ${failed} of ${report.checks.length} checks failed\n`,
    );
  }
  return report.ok ? EXIT.ok : EXIT.verificationFailed;
}

// An export laid out as `naos ledger export` writes it is checked as it is read, in little
// memory; anything else (another layout, a bad file) is read whole, and checked or refused
// with the reason.

async function verifyFile(io: CliIo, path: string): Promise<ExportReport> {
  const streamed = await verifyExportStream(await readChunks(path));
  if (streamed !== 'not-streamable') return streamed;
  return verifyText(await notStreamable(readTextInput(io, path, path)), path);
}

async function verifyStdin(io: CliIo): Promise<ExportReport> {
  if (!io.stdinChunks) return verifyText(await readTextInput(io, '-', 'stdin'), 'stdin');
  const input = new KeptInput(io.stdinChunks());
  const streamed = await verifyExportStream(input);
  if (streamed !== 'not-streamable') return streamed;
  return verifyText(await notStreamable(input.whole().then((bytes) => decodeText(bytes, 'stdin'))), 'stdin');
}

/** Input that cannot be streamed and is too large to read whole: say both. */
async function notStreamable<T>(read: Promise<T>): Promise<T> {
  try {
    return await read;
  } catch (error) {
    if (!(error instanceof InputTooLargeError)) throw error;
    throw new InputTooLargeError(
      `${error.message}; only an export laid out as \`naos ledger export\` writes it can be checked as it is read, and this one is not`,
      { cause: error },
    );
  }
}

function verifyText(text: string, label: string): Promise<ExportReport> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new InvalidInputError(`${label} is not JSON (${(cause as Error).message}), so it is not a ledger export`, { cause });
  }
  // A wrong shape throws ExportFormatError (exit 2); a tampered export yields failed checks.
  return verifyExport(value);
}

/** Beyond this many bytes, text cannot be one JavaScript string (V8's limit), so is not kept for a whole read. */
const MAX_WHOLE_BYTES = 2 ** 29 - 24;

/**
 * Stdin, passed on to the stream check and kept (up to what one string can hold), so that
 * it can still be read whole if the stream check gives up; stopping early does not end it.
 */
class KeptInput implements AsyncIterable<Uint8Array> {
  readonly #source: AsyncIterator<Uint8Array>;
  #kept: Uint8Array[] | undefined = [];
  #bytes = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#source = source[Symbol.asyncIterator]();
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    // No return(): a consumer that stops early leaves the rest of stdin to whole().
    return { next: () => this.#next() };
  }

  /** Everything stdin held; InputTooLargeError if that is more than one string can hold. */
  async whole(): Promise<Uint8Array> {
    while (!(await this.#next()).done);
    if (!this.#kept) {
      throw new InputTooLargeError(`stdin is too large to read as one text (${this.#bytes.toLocaleString('en')} bytes)`);
    }
    return Buffer.concat(this.#kept);
  }

  async #next(): Promise<IteratorResult<Uint8Array>> {
    const result = await this.#source.next();
    if (!result.done) {
      this.#bytes += result.value.length;
      if (this.#bytes > MAX_WHOLE_BYTES) this.#kept = undefined;
      this.#kept?.push(result.value);
    }
    return result;
  }
}

/** The file's bytes in chunks of 1 MiB; a file that cannot be opened or read is an InputFileError. */
async function readChunks(path: string): Promise<AsyncIterable<Uint8Array>> {
  let file: FileHandle;
  try {
    file = await open(path);
  } catch (cause) {
    throw new InputFileError(`cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
  return (async function* () {
    try {
      for await (const chunk of file.createReadStream({ highWaterMark: 1 << 20 })) yield chunk as Uint8Array;
    } catch (cause) {
      throw new InputFileError(`cannot read ${path}: ${(cause as Error).message}`, { cause });
    } finally {
      await file.close().catch(() => undefined);
    }
  })();
}
