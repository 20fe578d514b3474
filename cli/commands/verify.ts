import { InvalidInputError } from '../../src/errors.js';
import { open, type FileHandle } from 'node:fs/promises';
import { type ExportReport, verifyExport } from '../../src/ledger/export.js';
import type { ParsedArgs } from '../args.js';
import { EXIT } from '../errors.js';
import { type CliIo, InputFileError, InputTooLargeError, printJson, readTextInput } from '../io.js';
import { verifyExportStream } from '../verify-stream.js';

/** `naos verify EXPORT`: checks an export offline and prints every check. */
export async function runVerify(args: ParsedArgs, io: CliIo): Promise<number> {
  const path = args.positionals[0]!;
  const label = path === '-' ? 'stdin' : path;
  // A file laid out as `naos ledger export` writes it is checked as it is read, in little
  // memory; anything else (stdin, another layout, a bad file) is read whole, and checked
  // or refused with the reason.
  const streamed = path === '-' ? 'not-streamable' : await verifyExportStream(await readChunks(path, label));
  const report = streamed === 'not-streamable' ? await verifyWhole(io, path, label) : streamed;
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

async function verifyWhole(io: CliIo, path: string, label: string): Promise<ExportReport> {
  let text: string;
  try {
    text = await readTextInput(io, path, label);
  } catch (error) {
    if (!(error instanceof InputTooLargeError)) throw error;
    throw new InputTooLargeError(
      `${error.message}; only an export laid out as \`naos ledger export\` writes it can be checked as it is read, and this one is not`,
      { cause: error },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new InvalidInputError(`${label} is not JSON (${(cause as Error).message}), so it is not a ledger export`, { cause });
  }
  // A wrong shape throws ExportFormatError (exit 2); a tampered export yields failed checks.
  return verifyExport(value);
}

/** The file's bytes in chunks of 1 MiB; a file that cannot be opened or read is an InputFileError. */
async function readChunks(path: string, label: string): Promise<AsyncIterable<Uint8Array>> {
  let file: FileHandle;
  try {
    file = await open(path);
  } catch (cause) {
    throw new InputFileError(`cannot read ${label}: ${(cause as Error).message}`, { cause });
  }
  return (async function* () {
    try {
      for await (const chunk of file.createReadStream({ highWaterMark: 1 << 20 })) yield chunk as Uint8Array;
    } catch (cause) {
      throw new InputFileError(`cannot read ${label}: ${(cause as Error).message}`, { cause });
    } finally {
      await file.close().catch(() => undefined);
    }
  })();
}
