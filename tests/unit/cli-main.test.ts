import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import type { CliIo } from '../../cli/io.js';

/**
 * The CLI's argument handling and input checks, driven in-process through main() — the
 * function bin/naos.js calls — so the whole matrix runs without a process per case.
 * tests/unit/cli.test.ts spawns the real bin for the end-to-end flows.
 */

const work = mkdtempSync(join(tmpdir(), 'naos-cli-main-'));
const data = join(work, 'node');
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function naos(args: readonly string[], stdin = '', stderrIsTerminal = false): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    readStdin: () => Promise.resolve(new TextEncoder().encode(stdin)),
    stdinIsTerminal: false,
    stderrIsTerminal,
  };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

async function size(): Promise<number> {
  const run = await naos(['ledger', 'status', '--data', data, '--json']);
  expect(run.code, run.stderr).toBe(0);
  return (JSON.parse(run.stdout) as { size: number }).size;
}

beforeAll(async () => {
  expect((await naos(['ledger', 'init', '--data', data])).code).toBe(0);
  const run = await naos(['ledger', 'append', '--data', data], '1\n2\n3\n4\n5\n');
  expect(run.code, run.stderr).toBe(0);
});

describe('naos ledger export progress', () => {
  it('shows the percentage on a watched stderr while writing a file, then clears the line; nothing otherwise', async () => {
    const watched = await naos(['ledger', 'export', '--data', data, '--out', join(work, 'watched.json')], '', true);
    expect(watched.code, watched.stderr).toBe(0);
    expect(watched.stderr).toMatch(/^\rexporting to .*watched\.json: \d+%/);
    expect(watched.stderr).toContain('watched.json: 100%');
    expect(watched.stderr.endsWith('\r\u001b[K')).toBe(true);
    const quiet = await naos(['ledger', 'export', '--data', data, '--out', join(work, 'quiet.json')]);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe('');
    // To stdout, the document alone: no progress even on a terminal.
    const piped = await naos(['ledger', 'export', '--data', data], '', true);
    expect(piped.stderr).toBe('');
    expect(JSON.parse(piped.stdout)).toMatchObject({ format: 'naos-ledger-export/1' });
  });
});

describe('naos usage errors (exit 2, with a pointer to --help)', () => {
  const cases: [string[], RegExp][] = [
    [[], /Usage:/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['ledger'], /missing ledger command/],
    [['ledger', 'toString'], /unknown ledger command "toString"/],
    [['ledger', 'status', '--data', data, '--frob'], /Unknown option '--frob'/],
    [['ledger', 'prove', '--data', data], /--index is required/],
    [['ledger', 'prove', '--data', data, '--index'], /--index/],
    [['ledger', 'prove', '--data', data, '--index', '-1'], /--index/],
    [['ledger', 'prove', '--data', data, '--index', '1.5'], /--index must be a non-negative integer, got "1.5"/],
    [['ledger', 'prove', '--data', data, '--index', '01'], /--index must be a non-negative integer, got "01"/],
    [['ledger', 'prove', '--data', data, '--index', '1e3'], /--index must be a non-negative integer/],
    [['ledger', 'prove', '--data', data, '--index', '9'], /index 9 is not within 0\.\.4/],
    [['ledger', 'prove', '--data', data, '--index', '0', '--size', '6'], /size 6 is not within 1\.\.5/],
    [['ledger', 'prove', '--data', data, '--index', '3', '--size', '2'], /index 3 is not within 0\.\.1/],
    [['ledger', 'consistency', '--data', data], /--from is required/],
    [['ledger', 'consistency', '--data', data, '--from', '0'], /--from must be at least 1/],
    [['ledger', 'consistency', '--data', data, '--from', '4', '--to', '2'], /--to 2 is smaller than --from 4/],
    [['ledger', 'consistency', '--data', data, '--from', '2', '--to', '9'], /size 9 is beyond/],
    [['ledger', 'status', '--data', data, 'extra'], /unexpected argument "extra"/],
    [['ledger', 'status', '--data='], /--data needs a value/],
    [['ledger', 'export', '--data', data, '--out='], /--out needs a value/],
    [['verify'], /missing EXPORT/],
    [['verify', 'a.json', 'b.json'], /unexpected argument "b.json"/],
    [['verify', '--data', data, 'x.json'], /Unknown option '--data'/],
    [['help', 'frobnicate'], /no help for "frobnicate"/],
  ];
  it.each(cases)('naos %j', async (args, message) => {
    const run = await naos(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
  });

  it('names the command whose help to read', async () => {
    expect((await naos(['ledger', 'prove', '--data', data])).stderr).toContain('see: naos ledger prove --help');
  });
});

describe('naos environment errors (exit 2)', () => {
  it('a dir with no node', async () => {
    const run = await naos(['ledger', 'status', '--data', join(work, 'nobody')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/no Naos node in .*nobody.*create one with: naos ledger init --data/);
  });

  it('a data dir that is a file', async () => {
    const file = join(work, 'a-file');
    writeFileSync(file, 'x');
    const run = await naos(['ledger', 'init', '--data', file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^naos: /);
  });

  it('an export file that cannot be read, or is not an export', async () => {
    writeFileSync(join(work, 'other.json'), '{"format": "something-else", "logs": []}');
    writeFileSync(join(work, 'array.json'), '[]');
    for (const [file, message] of [
      [join(work, 'missing.json'), /cannot read .*missing\.json/],
      [join(work, 'other.json'), /\$\.format must be "naos-ledger-export\/1", got "something-else"/],
      [join(work, 'array.json'), /\$ must be an object, got an array/],
      [work, /cannot read/],
    ] as const) {
      const run = await naos(['verify', file]);
      expect(run.code, file).toBe(2);
      expect(run.stderr).toMatch(message);
    }
  });
});

describe('naos ledger append input checks (exit 2, nothing written)', () => {
  const cases: [string, string, string[], RegExp][] = [
    ['a bad JSON line', '1\n{"a":\n3\n', [], /line 2: not valid JSON/],
    ['a trailing comma', '[1,2,]\n', [], /line 1: not valid JSON/],
    ['two values on one line', '1 2\n', [], /line 1: not valid JSON/],
    ['a number JSON.parse turns into Infinity', '1\n1e999\n', [], /line 2: .*Infinity is not a JSON value/],
    ['only blank lines', '\n  \n\r\n', [], /no JSON values to append/],
    [
      'a value too large for an entry',
      `"${'x'.repeat(300_000)}"\n`,
      [],
      /line 1: entry is \d+ bytes encoded, more than the 262144-byte limit/,
    ],
    ['a malformed kind', '1\n', ['--kind', 'Not A Kind'], /--kind: entry kind must match/],
  ];
  it.each(cases)('%s', async (_, input, extra, message) => {
    const before = await size();
    const run = await naos(['ledger', 'append', '--data', data, ...extra], input);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(await size()).toBe(before);
  });

  it('input that is not UTF-8', async () => {
    const file = join(work, 'latin1.jsonl');
    writeFileSync(file, Buffer.from([0x22, 0xe9, 0x22, 0x0a]));
    const before = await size();
    const run = await naos(['ledger', 'append', '--data', data, '--file', file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('is not valid UTF-8');
    expect(await size()).toBe(before);
  });

  it('accepts CRLF line ends, a BOM and blank lines', async () => {
    const before = await size();
    const run = await naos(['ledger', 'append', '--data', data, '--json'], '\uFEFF{"a":1}\r\n\r\n[2]\r\n');
    expect(run.code, run.stderr).toBe(0);
    expect((JSON.parse(run.stdout) as { index: number }[]).map((r) => r.index)).toEqual([before, before + 1]);
  });
});

describe('naos output', () => {
  it('help for every command, exit 0', async () => {
    for (const args of [
      ['--help'],
      ['-h'],
      ['help'],
      ['ledger', '--help'],
      ['help', 'verify'],
      ['verify', '-h'],
      ...['init', 'append', 'checkpoint', 'key', 'prove', 'consistency', 'export', 'status'].map((c) => ['ledger', c, '--help']),
    ]) {
      const run = await naos(args);
      expect(run.code, args.join(' ')).toBe(0);
      expect(run.stdout, args.join(' ')).toMatch(/Usage/);
    }
    expect((await naos(['--version'])).stdout).toMatch(/^naos \d+\.\d+\.\d+\n$/);
  });

  it('--json errors are also one JSON document on stdout', async () => {
    const run = await naos(['ledger', 'prove', '--data', data, '--index', 'x', '--json']);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toMatchObject({ error: { name: 'UsageError', exitCode: 2 } });
  });

  it('human prove and consistency output', async () => {
    const prove = await naos(['ledger', 'prove', '--data', data, '--index', '0', '--size', '5']);
    expect(prove.code).toBe(0);
    expect(prove.stdout).toMatch(
      /^origin +naos\/[a-z2-7]{32}\nindex +0\nsize +5\nleaf hash +[0-9a-f]{64}\nroot +[0-9a-f]{64}\nproof +3 hashes, leaf side first\n( {2}[0-9a-f]{64}\n){3}$/,
    );
    const consistency = await naos(['ledger', 'consistency', '--data', data, '--from', '5']);
    expect(consistency.code).toBe(0);
    expect(consistency.stdout).toMatch(/size1 +5\nsize2 +\d+\n/);
  });
});
