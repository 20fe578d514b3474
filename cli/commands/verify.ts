import { InvalidInputError } from '../../src/errors.js';
import { verifyExport } from '../../src/ledger/export.js';
import type { ParsedArgs } from '../args.js';
import { EXIT } from '../errors.js';
import { type CliIo, printJson, readTextInput } from '../io.js';

/** `naos verify EXPORT`: checks an export offline and prints every check. */
export async function runVerify(args: ParsedArgs, io: CliIo): Promise<number> {
  const path = args.positionals[0]!;
  const label = path === '-' ? 'stdin' : path;
  const text = await readTextInput(io, path, label);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new InvalidInputError(`${label} is not JSON (${(cause as Error).message}), so it is not a ledger export`, { cause });
  }
  // A wrong shape throws ExportFormatError (exit 2); a tampered export yields failed checks.
  const report = await verifyExport(value);
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
