import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClassicLevel } from 'classic-level';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { levelLayout } from '../../adapters/node/level-store.js';
import { DATA_DIR_FILES } from '../../adapters/node/node-kernel.js';
import { fromBase64, fromHex, toBase64, toHex } from '../../src/bytes.js';
import { openCheckpoint } from '../../src/ledger/checkpoint.js';
import { parseVerifierKey } from '../../src/ledger/note.js';
import { leafHash } from '../../src/merkle/hash.js';
import { verifyConsistency, verifyInclusion } from '../../src/merkle/verify.js';

/** The real `naos` bin, spawned in temp dirs, as a user would run it. */

const BIN = fileURLToPath(new URL('../../bin/naos.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'naos-cli-'));
const data = join(work, 'node');
/** Hooks here spawn the CLI, which can take seconds on a loaded machine. */
const SPAWN_HOOK_TIMEOUT = 60_000;
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function naos(args: readonly string[], input?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: work, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

async function naosJson<T>(args: readonly string[], input?: string): Promise<T> {
  const run = await naos([...args, '--json'], input);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as T;
}

interface Status {
  nodeId: string;
  origin: string;
  size: number | null;
  root: string | null;
  integrity: 'ok' | 'damaged';
  damaged: { origin: string; problems: { where: string; what: string }[] }[];
}

describe('naos ledger, end to end', () => {
  beforeAll(async () => {
    const run = await naos(['ledger', 'init', '--data', data, '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ created: true, integrity: 'ok' });
  }, SPAWN_HOOK_TIMEOUT);

  it('init is idempotent and says so', async () => {
    const run = await naos(['ledger', 'init', '--data', data]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('already initialised');
    expect(existsSync(join(data, DATA_DIR_FILES.key))).toBe(true);
  });

  it('appends from a file and from stdin, one atomic batch each, printing index and id', async () => {
    const file = join(work, 'values.jsonl');
    writeFileSync(file, '{"greeting":"hello"}\n\n[1,2,3]\r\n"third"\n');
    const fromFile = await naosJson<{ index: number; id: string }[]>(['ledger', 'append', '--data', data, '--file', file]);
    expect(fromFile.map((r) => r.index)).toEqual([0, 1, 2]);
    for (const r of fromFile) expect(r.id).toMatch(/^bafyrei[a-z2-7]+$/);

    const fromStdin = await naos(['ledger', 'append', '--data', data, '--kind', 'note'], '42\n{"last":true}\n');
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    expect(fromStdin.stdout).toMatch(/^3\tbafyrei\S+\n4\tbafyrei\S+\nappended 2 entries; log size 5, root [0-9a-f]{64}\n$/);
  });

  it('prove, consistency, checkpoint and key print proofs and notes that verify independently', async () => {
    type Inclusion = { index: number; size: number; leafHash: string; proof: string[]; root: string };
    type Consistency = { size1: number; size2: number; root1: string; root2: string; proof: string[] };
    // One at a time: a data dir admits one process at once.
    const proof = await naosJson<Inclusion>(['ledger', 'prove', '--data', data, '--index', '1']);
    const atThree = await naosJson<Inclusion>(['ledger', 'prove', '--data', data, '--index', '2', '--size', '3']);
    const consistency = await naosJson<Consistency>(['ledger', 'consistency', '--data', data, '--from', '3', '--to', '5']);
    const key = await naos(['ledger', 'key', '--data', data]);
    const note = await naos(['ledger', 'checkpoint', '--data', data]);
    expect(proof).toMatchObject({ index: 1, size: 5 });
    verifyInclusion(
      proof.index,
      proof.size,
      fromHex(proof.leafHash),
      proof.proof.map((h) => fromHex(h)),
      fromHex(proof.root),
    );
    verifyInclusion(
      2,
      3,
      fromHex(atThree.leafHash),
      atThree.proof.map((h) => fromHex(h)),
      fromHex(atThree.root),
    );
    expect(consistency).toMatchObject({ size1: 3, size2: 5, root1: atThree.root, root2: proof.root });
    verifyConsistency(
      3,
      5,
      fromHex(consistency.root1),
      fromHex(consistency.root2),
      consistency.proof.map((h) => fromHex(h)),
    );

    expect(key.code).toBe(0);
    expect(note.code).toBe(0);
    const checkpoint = await openCheckpoint(note.stdout, parseVerifierKey(key.stdout.trim()));
    expect(checkpoint.size).toBe(5);
    expect(toHex(checkpoint.root)).toBe(proof.root);
  });

  describe('export and verify', () => {
    const exportFile = join(work, 'export.json');
    beforeAll(async () => {
      const run = await naos(['ledger', 'export', '--data', data, '--out', exportFile]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain(`exported 5 entries and 3 checkpoints`);
    }, SPAWN_HOOK_TIMEOUT);

    it('an intact export verifies (exit 0), every check printed', async () => {
      const run = await naos(['verify', exportFile]);
      expect(run.code, run.stdout).toBe(0);
      expect(run.stdout).toMatch(/^✓ export: logs/m);
      for (const check of [
        'verifier key',
        'checkpoint signatures',
        'entries',
        'checkpoint roots',
        'inclusion proofs',
        'consistency proofs',
        'seal',
      ]) {
        expect(run.stdout).toMatch(new RegExp(`^✓ naos/[a-z2-7]{32}: ${check} — `, 'm'));
      }
      expect(run.stdout).not.toContain('✗');
      const json = await naosJson<{ ok: boolean; checks: { ok: boolean }[] }>(['verify', exportFile]);
      expect(json.ok).toBe(true);
      expect(json.checks.length).toBe(9);
    });

    it('export to stdout is the same document, and its proofs match the entries', async () => {
      const run = await naos(['ledger', 'export', '--data', data]);
      expect(run.code).toBe(0);
      expect(run.stdout).toBe(readFileSync(exportFile, 'utf8'));
      const log = (JSON.parse(run.stdout) as { logs: { entries: string[] }[] }).logs[0]!;
      const proof = await naosJson<{ leafHash: string }>(['ledger', 'prove', '--data', data, '--index', '4']);
      expect(toHex(leafHash(fromBase64(log.entries[4]!)))).toBe(proof.leafHash);
    });

    it('a corrupted export fails (exit 1) naming the failing checks', async () => {
      const exported = JSON.parse(readFileSync(exportFile, 'utf8')) as { logs: { entries: string[] }[] };
      const bytes = fromBase64(exported.logs[0]!.entries[2]!);
      bytes[bytes.length - 1]! ^= 0x01;
      exported.logs[0]!.entries[2] = toBase64(bytes);
      const corrupted = join(work, 'corrupted.json');
      writeFileSync(corrupted, JSON.stringify(exported));

      const run = await naos(['verify', corrupted]);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/^✗ naos\/[a-z2-7]{32}: checkpoint roots — checkpoint 3: entries give root/m);
      expect(run.stdout).toMatch(/^✗ naos\/[a-z2-7]{32}: inclusion proofs — entry 2: /m);
      expect(run.stdout).toMatch(/^NOT VERIFIED: \d of 9 checks failed$/m);
      const json = await naos(['verify', corrupted, '--json']);
      expect(json.code).toBe(1);
      const report = JSON.parse(json.stdout) as { ok: boolean; checks: { name: string; ok: boolean }[] };
      expect(report.ok).toBe(false);
      expect(report.checks.filter((c) => !c.ok).map((c) => c.name.split(': ')[1])).toEqual(
        expect.arrayContaining(['checkpoint roots', 'inclusion proofs']),
      );
    });

    it('a file that is not JSON is bad input (exit 2); "-" reads stdin', async () => {
      writeFileSync(join(work, 'garbage.json'), '{"format": "naos-ledger-export/1", "logs": [');
      const run = await naos(['verify', 'garbage.json']);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/garbage\.json is not JSON/);
      expect(run.stdout).toBe('');
      const fromStdin = await naos(['verify', '-'], readFileSync(exportFile, 'utf8'));
      expect(fromStdin.code).toBe(0);
      const missing = await naos(['verify', join(work, 'no-such-export.json')]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/cannot read .*no-such-export\.json: ENOENT/);
    });

    it('a file is checked as it is read, and one laid out otherwise (keys reordered) as a whole: the same report', async () => {
      const fromStdin = await naos(['verify', '-', '--json'], readFileSync(exportFile, 'utf8'));
      const streamed = await naos(['verify', exportFile, '--json']);
      expect(streamed.stdout).toBe(fromStdin.stdout);
      const exported = JSON.parse(readFileSync(exportFile, 'utf8')) as { format: string; logs: Record<string, unknown>[] };
      const reordered = join(work, 'reordered.json');
      writeFileSync(
        reordered,
        JSON.stringify({ logs: exported.logs.map((log) => Object.fromEntries(Object.entries(log).reverse())), format: exported.format }),
      );
      const whole = await naos(['verify', reordered, '--json']);
      expect(whole.code, whole.stderr).toBe(0);
      expect(whole.stdout).toBe(fromStdin.stdout);
      // Stdin too: read as a stream, and what the stream check left is still read whole.
      const reorderedStdin = await naos(['verify', '-', '--json'], readFileSync(reordered, 'utf8'));
      expect(reorderedStdin.code, reorderedStdin.stderr).toBe(0);
      expect(reorderedStdin.stdout).toBe(fromStdin.stdout);
      const garbage = await naos(['verify', '-'], '{"format": "naos-ledger-export/1", "logs": [');
      expect(garbage.code).toBe(2);
      expect(garbage.stderr).toMatch(/stdin is not JSON/);
    });
  });

  describe('bad input never writes anything', () => {
    async function size(): Promise<number | null> {
      return (await naosJson<Status>(['ledger', 'status', '--data', data])).size;
    }

    it('a bad JSON line rejects the whole input (exit 2, line number named)', async () => {
      const before = await size();
      const run = await naos(['ledger', 'append', '--data', data], '{"ok":1}\n{"broken":\n"fine"\n');
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/line 2: not valid JSON/);
      expect(await size()).toBe(before);
    });

    it('usage errors exit 2 with a pointer to --help', async () => {
      for (const [args, message] of [
        [['ledger', 'frobnicate'], /unknown ledger command "frobnicate"/],
        [['ledger', 'status', '--data', data, '--frob'], /Unknown option '--frob'/],
      ] as const) {
        const run = await naos(args);
        expect(run.code, args.join(' ')).toBe(2);
        expect(run.stderr).toMatch(message);
        expect(run.stderr).toMatch(/see: naos .*--help/);
      }
    });
  });

  describe('a damaged data dir', () => {
    const damaged = join(work, 'damaged');
    let origin: string;

    beforeAll(async () => {
      origin = (await naosJson<Status>(['ledger', 'status', '--data', data])).origin;
      cpSync(data, damaged, { recursive: true });
      // Flip one byte of entry 2 directly in LevelDB, behind the adapter's back.
      const db = new ClassicLevel<Uint8Array, Uint8Array>(join(damaged, DATA_DIR_FILES.ledger), {
        keyEncoding: 'view',
        valueEncoding: 'view',
      });
      const key = levelLayout.entryKey(origin, 2);
      const bytes = new Uint8Array((await db.get(key))!);
      bytes[bytes.length - 1]! ^= 0x01;
      await db.put(key, bytes);
      await db.close();
    }, SPAWN_HOOK_TIMEOUT);

    it('status reports where and what (exit 1)', async () => {
      const run = await naos(['ledger', 'status', '--data', damaged]);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/integrity +DAMAGED/);
      expect(run.stderr).toContain(`log ${origin} failed verification`);
      // Entry 2 was written in the batch 0..2, so the signed root at size 3 no longer matches.
      expect(run.stderr).toMatch(/entries 0\.\.2: do not match the checkpoint signed at size 3/);
      const json = await naos(['ledger', 'status', '--data', damaged, '--json']);
      expect(json.code).toBe(1);
      const status = JSON.parse(json.stdout) as Status;
      expect(status).toMatchObject({ integrity: 'damaged', size: null });
      expect(status.damaged[0]!.problems.map((p) => p.where)).toContain('entries 0..2');
    });

    it('append and export refuse the damaged log (exit 1), writing nothing', async () => {
      for (const args of [['append'], ['export']]) {
        const run = await naos(['ledger', ...args, '--data', damaged], args[0] === 'append' ? '"more"\n' : undefined);
        expect(run.code, args.join(' ')).toBe(1);
        expect(run.stderr).toMatch(/failed verification/);
      }
      const db = new ClassicLevel<Uint8Array, Uint8Array>(join(damaged, DATA_DIR_FILES.ledger), {
        keyEncoding: 'view',
        valueEncoding: 'view',
      });
      expect(await db.get(levelLayout.entryKey(origin, 5))).toBeUndefined();
      await db.close();
    });

    it('the intact original is unaffected', async () => {
      expect((await naosJson<Status>(['ledger', 'status', '--data', data])).integrity).toBe('ok');
    });
  });
});
