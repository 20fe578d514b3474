import { DataDirLockedError } from '../adapters/node/data-dir-lock.js';
import { KeyFileFormatError, KeyFileMissingError, KeyFilePermissionError } from '../adapters/node/key-file.js';
import { DataDirNotInitialisedError } from '../adapters/node/node-kernel.js';
import { InvalidInputError, NaosError } from '../src/errors.js';
import { UnknownLogError } from '../src/kernel/kernel.js';
import { ExportBuildError } from '../src/ledger/export.js';
import { LedgerIntegrityError } from '../src/ledger/integrity.js';
import { TreeRangeError } from '../src/merkle/errors.js';
import { StoreConflictError, StoreUnavailableError } from '../src/storage/ledger-store.js';

/** Exit codes (docs/CLI.md). */
export const EXIT = {
  ok: 0,
  /** Verification failed: an export, or the node's own stored state, is not trustworthy. */
  verificationFailed: 1,
  /** Bad input or usage, or the command cannot run here (no node, dir locked, key file unsafe). */
  badInput: 2,
  /** A bug in naos: an error nobody anticipated. */
  internal: 3,
} as const;

/** The command line is wrong: unknown command or flag, missing or malformed value. */
export class UsageError extends NaosError {
  constructor(
    message: string,
    /** The command whose --help explains the right usage, e.g. `ledger prove`. */
    readonly command?: string,
  ) {
    super(message);
  }
}

/** File-system failures that mean "this path cannot be used", not "naos is broken". */
const FS_CODES = new Set(['ENOENT', 'EACCES', 'EPERM', 'EISDIR', 'ENOTDIR', 'EEXIST', 'EROFS', 'ENOSPC', 'ELOOP', 'ENAMETOOLONG']);

export function exitCodeFor(error: unknown): number {
  if (error instanceof LedgerIntegrityError || error instanceof StoreConflictError) return EXIT.verificationFailed;
  if (
    error instanceof UsageError ||
    error instanceof InvalidInputError ||
    error instanceof TreeRangeError ||
    error instanceof RangeError ||
    error instanceof UnknownLogError ||
    error instanceof DataDirNotInitialisedError ||
    error instanceof DataDirLockedError ||
    error instanceof KeyFilePermissionError ||
    error instanceof KeyFileFormatError ||
    error instanceof KeyFileMissingError ||
    error instanceof StoreUnavailableError ||
    error instanceof ExportBuildError
  ) {
    return EXIT.badInput;
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && FS_CODES.has(code)) return EXIT.badInput;
  return EXIT.internal;
}
