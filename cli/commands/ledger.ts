import { open, rename, rm } from 'node:fs/promises';
import { type NodeKernel, openNodeKernel } from '../../adapters/node/node-kernel.js';
import { InvalidInputError } from '../../src/errors.js';
import type { KernelStatus } from '../../src/kernel/api.js';
import type { Kernel } from '../../src/kernel/kernel.js';
import { encodeEntry } from '../../src/ledger/entry.js';
import { EXPORT_FORMAT, type ExportProgress, exportText, readLogForExport } from '../../src/ledger/export.js';
import type { JsonValue } from '../../src/ledger/json-value.js';
import { dataDir, DATA_OPTION, integerOption, type OptionSpec, type ParsedArgs, stringOption } from '../args.js';
import { EXIT, UsageError } from '../errors.js';
import { type CliIo, printJson, printRows, readTextInput } from '../io.js';
import { parseJsonLines } from '../json-lines.js';

export interface LedgerCommand {
  readonly options: OptionSpec;
  run(args: ParsedArgs, io: CliIo): Promise<number>;
}

/** Opens the node in --data, runs `action`, and always closes it (releasing the lock). */
async function withNode<T>(args: ParsedArgs, action: (node: NodeKernel) => Promise<T>, create = false): Promise<T> {
  const node = await openNodeKernel(dataDir(args), { create });
  try {
    return await action(node);
  } finally {
    await node.close();
  }
}

function json(args: ParsedArgs): boolean {
  return args.values['json'] === true;
}

/** Damage summary lines for stderr; the stored bytes stay untouched. */
function reportDamage(io: CliIo, status: KernelStatus): void {
  for (const log of status.damaged) {
    io.stderr(`naos: log ${log.origin} failed verification and is refused:\n`);
    for (const problem of log.problems) io.stderr(`  ${problem.where}: ${problem.what}\n`);
  }
}

function ownHead(kernel: Kernel): { size: number; root: string } | undefined {
  return kernel.heads().find((head) => head.origin === kernel.origin);
}

const init: LedgerCommand = {
  options: DATA_OPTION,
  run: (args, io) =>
    withNode(
      args,
      ({ kernel, dataDir: dir, created }) => {
        const status = kernel.status();
        const summary = { dataDir: dir, created, nodeId: kernel.nodeId, origin: kernel.origin, verifierKey: kernel.verifierKey };
        if (json(args)) printJson(io, { ...summary, integrity: status.state, damaged: status.damaged });
        else {
          io.stdout(created ? `initialised a new node in ${dir}\n` : `already initialised: ${dir} (nothing changed)\n`);
          printRows(io, [
            ['node id', kernel.nodeId],
            ['origin', kernel.origin],
            ['verifier key', kernel.verifierKey],
          ]);
        }
        reportDamage(io, status);
        return Promise.resolve(status.state === 'ok' ? EXIT.ok : EXIT.verificationFailed);
      },
      true,
    ),
};

const append: LedgerCommand = {
  options: { ...DATA_OPTION, file: { type: 'string', short: 'f' }, kind: { type: 'string' } },
  async run(args, io) {
    const file = stringOption(args, 'file');
    const kind = stringOption(args, 'kind') ?? 'data';
    if ((file === undefined || file === '-') && io.stdinIsTerminal)
      io.stderr('reading JSON values from stdin, one per line (end with Ctrl-D)\n');
    const lines = parseJsonLines(await readTextInput(io, file, file === undefined || file === '-' ? 'stdin' : file));
    if (lines.length === 0) throw new InvalidInputError('no JSON values to append: the input has no non-blank line');
    checkEncodable(lines, kind);
    return withNode(args, async ({ kernel }) => {
      const results = await kernel.appendMany(
        lines.map((l) => l.value),
        { kind },
      );
      if (json(args)) printJson(io, results);
      else {
        const head = ownHead(kernel);
        io.stdout(results.map((r) => `${r.index}\t${r.id}\n`).join(''));
        io.stdout(`appended ${results.length} entr${results.length === 1 ? 'y' : 'ies'}; log size ${head?.size}, root ${head?.root}\n`);
      }
      return EXIT.ok;
    });
  },
};

/**
 * Encodes every value as an entry before anything is written, so a value too large for
 * an entry is reported with its line number. Header fields take their largest encodings,
 * so a value that passes here also fits when the kernel encodes it for real.
 */
function checkEncodable(lines: ReturnType<typeof parseJsonLines>, kind: string): void {
  const widest = Number.MAX_SAFE_INTEGER;
  const encode = (payload: JsonValue): Uint8Array =>
    encodeEntry({ v: 1, kind, author: 'a'.repeat(32), seq: widest, time: { wall: widest, count: widest }, payload });
  try {
    encode(null);
  } catch (error) {
    throw new UsageError(`--kind: ${(error as Error).message}`, 'ledger append');
  }
  for (const { line, value } of lines) {
    try {
      encode(value);
    } catch (error) {
      if (error instanceof TypeError || error instanceof RangeError)
        throw new InvalidInputError(`line ${line}: ${error.message}`, { cause: error });
      throw error;
    }
  }
}

const checkpoint: LedgerCommand = {
  options: DATA_OPTION,
  run: (args, io) =>
    withNode(args, ({ kernel }) => {
      const latest = kernel.checkpoints().at(-1)!;
      if (json(args)) printJson(io, { origin: kernel.origin, size: latest.size, note: latest.note });
      else io.stdout(latest.note);
      return Promise.resolve(EXIT.ok);
    }),
};

const key: LedgerCommand = {
  options: DATA_OPTION,
  run: (args, io) =>
    withNode(args, ({ kernel }) => {
      if (json(args)) printJson(io, { nodeId: kernel.nodeId, origin: kernel.origin, verifierKey: kernel.verifierKey });
      else io.stdout(`${kernel.verifierKey}\n`);
      return Promise.resolve(EXIT.ok);
    }),
};

const prove: LedgerCommand = {
  options: { ...DATA_OPTION, index: { type: 'string' }, size: { type: 'string' } },
  run(args, io) {
    const index = integerOption(args, 'index', true);
    const size = integerOption(args, 'size');
    return withNode(args, ({ kernel }) => {
      const proof = kernel.proveInclusion(index, size);
      if (json(args)) printJson(io, proof);
      else {
        printRows(io, [
          ['origin', proof.origin],
          ['index', proof.index],
          ['size', proof.size],
          ['leaf hash', proof.leafHash],
          ['root', proof.root],
          ['proof', `${proof.proof.length} hash${proof.proof.length === 1 ? '' : 'es'}, leaf side first`],
        ]);
        io.stdout(proof.proof.map((hash) => `  ${hash}\n`).join(''));
      }
      return Promise.resolve(EXIT.ok);
    });
  },
};

const consistency: LedgerCommand = {
  options: { ...DATA_OPTION, from: { type: 'string' }, to: { type: 'string' } },
  run(args, io) {
    const from = integerOption(args, 'from', true);
    const to = integerOption(args, 'to');
    if (from === 0) throw new UsageError('--from must be at least 1: a consistency proof from the empty tree proves nothing', args.command);
    if (to !== undefined && to < from) throw new UsageError(`--to ${to} is smaller than --from ${from}`, args.command);
    return withNode(args, ({ kernel }) => {
      const proof = kernel.proveConsistency(from, to);
      if (json(args)) printJson(io, proof);
      else {
        printRows(io, [
          ['origin', proof.origin],
          ['size1', proof.size1],
          ['size2', proof.size2],
          ['root1', proof.root1],
          ['root2', proof.root2],
          ['proof', `${proof.proof.length} hash${proof.proof.length === 1 ? '' : 'es'}`],
        ]);
        io.stdout(proof.proof.map((hash) => `  ${hash}\n`).join(''));
      }
      return Promise.resolve(EXIT.ok);
    });
  },
};

const exportCommand: LedgerCommand = {
  options: { ...DATA_OPTION, out: { type: 'string', short: 'o' } },
  run(args, io) {
    const out = stringOption(args, 'out');
    return withNode(args, async ({ kernel }) => {
      const log = await readLogForExport(kernel);
      // Written piece by piece: proofs are made as they are written, never all held at once.
      const pieces = exportText([log], { onProgress: exportProgress(io, out) });
      if (out === undefined || out === '-') {
        for (const piece of pieces) {
          io.stdout(piece);
          await io.stdoutDrained?.();
        }
        return EXIT.ok;
      }
      // Written beside the target and renamed, so a reader never sees half an export.
      const temporary = `${out}.${process.pid}.tmp`;
      const file = await open(temporary, 'wx');
      try {
        for (const piece of pieces) await file.write(piece);
        await file.close();
        await rename(temporary, out);
      } catch (error) {
        await file.close().catch(() => undefined);
        await rm(temporary, { force: true });
        throw error;
      } finally {
        // The progress line goes before anything else is printed, a summary or an error.
        if (io.stderrIsTerminal) io.stderr('\r\u001b[K');
      }
      const logs = [{ origin: log.origin, entries: log.entries.length, checkpoints: log.checkpoints.length }];
      if (json(args)) printJson(io, { out, format: EXPORT_FORMAT, logs });
      else
        for (const exported of logs)
          io.stdout(`exported ${exported.entries} entries and ${exported.checkpoints} checkpoints of ${exported.origin} to ${out}\n`);
      return EXIT.ok;
    });
  },
};

/** `exporting … n%` on a watched stderr while an export goes to a file (nothing otherwise). */
function exportProgress(io: CliIo, out: string | undefined): ((progress: ExportProgress) => void) | undefined {
  if (!io.stderrIsTerminal || out === undefined || out === '-') return undefined;
  let shown = -1;
  return ({ written, total }) => {
    const percent = total === 0 ? 100 : Math.floor((100 * written) / total);
    if (percent === shown) return;
    shown = percent;
    io.stderr(`\rexporting to ${out}: ${percent}%`);
  };
}

const status: LedgerCommand = {
  options: DATA_OPTION,
  run: (args, io) =>
    withNode(args, ({ kernel, dataDir: dir }) => {
      const state = kernel.status();
      const head = ownHead(kernel);
      const latest = head ? kernel.checkpoints().at(-1) : undefined;
      if (json(args)) {
        printJson(io, {
          dataDir: dir,
          nodeId: kernel.nodeId,
          origin: kernel.origin,
          verifierKey: kernel.verifierKey,
          size: head?.size ?? null,
          root: head?.root ?? null,
          checkpointSize: latest?.size ?? null,
          stateRoot: kernel.stateRoot(),
          integrity: state.state,
          damaged: state.damaged,
        });
      } else {
        printRows(io, [
          ['node id', kernel.nodeId],
          ['origin', kernel.origin],
          ['data dir', dir],
          ['size', head?.size ?? 'unknown (log refused)'],
          ['root', head?.root ?? 'unknown (log refused)'],
          ['checkpoint', latest ? `signed at size ${latest.size}` : 'none'],
          ['state root', kernel.stateRoot()],
          ['integrity', state.state === 'ok' ? 'ok: every stored log re-verified' : 'DAMAGED'],
        ]);
      }
      reportDamage(io, state);
      return Promise.resolve(state.state === 'ok' ? EXIT.ok : EXIT.verificationFailed);
    }),
};

export const LEDGER_COMMANDS: Readonly<Record<string, LedgerCommand>> = {
  init,
  append,
  checkpoint,
  key,
  prove,
  consistency,
  export: exportCommand,
  status,
};
