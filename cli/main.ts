import { readFileSync } from 'node:fs';
import { LedgerIntegrityError } from '../src/ledger/integrity.js';
import { parseCommandArgs } from './args.js';
import { LEDGER_COMMANDS } from './commands/ledger.js';
import { runVerify } from './commands/verify.js';
import { EXIT, exitCodeFor, UsageError } from './errors.js';
import { COMMAND_HELP, MAIN_HELP } from './help.js';
import { type CliIo, printJson, processIo } from './io.js';

/**
 * The `naos` command line (docs/CLI.md). Returns the exit code instead of exiting, so
 * the process ends only after every stream is flushed and the data dir is unlocked.
 */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (error) {
    return reportError(error, io, flagGiven(argv, '--json'));
  }
}

async function dispatch(argv: readonly string[], io: CliIo): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    io.stderr(MAIN_HELP);
    return EXIT.badInput;
  }
  if (first === '--help' || first === '-h') return help([], io);
  if (first === 'help') return help(rest, io);
  if (first === '--version') {
    io.stdout(`naos ${version()}\n`);
    return EXIT.ok;
  }
  if (first === 'ledger') {
    const [sub, ...args] = rest;
    if (sub === '--help' || sub === '-h') return help([], io);
    if (sub === undefined) throw new UsageError(`missing ledger command (one of: ${Object.keys(LEDGER_COMMANDS).join(', ')})`);
    const command = LEDGER_COMMANDS[sub];
    if (!command || !Object.hasOwn(LEDGER_COMMANDS, sub)) {
      throw new UsageError(`unknown ledger command ${JSON.stringify(sub)} (one of: ${Object.keys(LEDGER_COMMANDS).join(', ')})`);
    }
    if (wantsHelp(args)) return help(['ledger', sub], io);
    return command.run(parseCommandArgs(`ledger ${sub}`, args, command.options), io);
  }
  if (first === 'verify') {
    if (wantsHelp(rest)) return help(['verify'], io);
    return runVerify(parseCommandArgs('verify', rest, {}, ['EXPORT']), io);
  }
  throw new UsageError(`unknown command ${JSON.stringify(first)} (commands: ledger, verify, help)`);
}

function help(topic: readonly string[], io: CliIo): number {
  const key = topic.join(' ');
  if (key === '' || key === 'ledger') {
    io.stdout(MAIN_HELP);
    return EXIT.ok;
  }
  const text = COMMAND_HELP[key];
  if (text === undefined) throw new UsageError(`no help for ${JSON.stringify(key)}: no such command`);
  io.stdout(text);
  return EXIT.ok;
}

/** True if `flag` appears before any `--` terminator. */
function flagGiven(argv: readonly string[], ...flags: string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((arg) => flags.includes(arg));
}

function wantsHelp(argv: readonly string[]): boolean {
  return flagGiven(argv, '--help', '-h');
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

function reportError(error: unknown, io: CliIo, json: boolean): number {
  const code = exitCodeFor(error);
  const err = error instanceof Error ? error : new Error(String(error));
  if (code === EXIT.internal) {
    io.stderr(`naos: internal error — this is a bug in naos, please report it:\n${err.stack ?? err.message}\n`);
  } else {
    io.stderr(`naos: ${err.message}\n`);
    if (error instanceof LedgerIntegrityError) {
      for (const problem of error.problems) io.stderr(`  ${problem.where}: ${problem.what}\n`);
      io.stderr('the stored bytes were left untouched; restore the data dir from a backup or a peer\n');
    }
    if (error instanceof UsageError) io.stderr(`see: naos ${error.command ?? ''}${error.command ? ' ' : ''}--help\n`);
  }
  if (json) {
    printJson(io, {
      error: {
        name: err.name,
        message: err.message,
        exitCode: code,
        ...(error instanceof LedgerIntegrityError ? { origin: error.origin, problems: error.problems } : {}),
      },
    });
  }
  return code;
}
