import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { fromBase64, toBase64 } from '../../src/bytes.js';
import { seedSigner, type Signer } from '../../src/crypto/ed25519.js';
import { logOrigin, nodeIdFromPublicKey } from '../../src/identity/node-id.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { signCheckpoint } from '../../src/ledger/checkpoint.js';
import { encodeEntry } from '../../src/ledger/entry.js';
import {
  buildExport,
  ExportBuildError,
  ExportFormatError,
  type ExportProgress,
  type ExportReport,
  exportText,
  type LedgerExport,
  type LogExport,
  parseExport,
  readLogForExport,
  verifyExport,
} from '../../src/ledger/export.js';
import { formatVerifierKey, makeVerifier } from '../../src/ledger/note.js';
import { MerkleTree } from '../../src/merkle/tree.js';
import { MemoryLedgerStore } from '../../src/storage/memory-store.js';
import { verifyExportStream } from '../../cli/verify-stream.js';
import { pieces } from '../support/pieces.js';

const signer = seedSigner(new Uint8Array(32).fill(1));
const stranger = seedSigner(new Uint8Array(32).fill(2));
const nodeId = nodeIdFromPublicKey(signer.publicKey);
const origin = logOrigin(nodeId);
const verifierKey = formatVerifierKey(makeVerifier(origin, signer.publicKey));

const CATEGORIES = [
  'verifier key',
  'checkpoint signatures',
  'checkpoint sizes',
  'entries',
  'checkpoint roots',
  'inclusion proofs',
  'consistency proofs',
  'seal',
];

/** A log of 6 entries written in batches of 2, 1 and 3: checkpoints at 0, 2, 3, 6. */
async function kernelExport(): Promise<LedgerExport> {
  const kernel = await Kernel.open({ store: new MemoryLedgerStore(), signer, now: () => 1_700_000_000_000 });
  await kernel.appendMany([{ n: 0 }, { n: 1 }]);
  await kernel.append('two');
  await kernel.appendMany([3, [4], { five: 5 }]);
  const exported = buildExport([await readLogForExport(kernel)]);
  await kernel.close();
  return exported;
}

function entryBytes(seq: number, payload: unknown = { seq }, author = nodeId): Uint8Array {
  return encodeEntry({ v: 1, kind: 'data', author, seq, time: { wall: 1_700_000_000_000, count: seq }, payload: payload as never });
}

/** Signs checkpoints at `sizes` over `entries` with `key`, as a node would, and exports them. */
async function sealed(entries: Uint8Array[], sizes: number[], key: Signer = signer): Promise<LedgerExport> {
  const tree = new MerkleTree();
  for (const bytes of entries) tree.appendData(bytes);
  const checkpoints = await Promise.all(
    sizes.map(async (size) => ({ size, note: await signCheckpoint({ origin, size, root: tree.root(size), extensions: [] }, key) })),
  );
  return buildExport([{ origin, verifierKey, entries, checkpoints }]);
}

type Mutable<T> = T extends readonly (infer U)[] ? Mutable<U>[] : T extends object ? { -readonly [K in keyof T]: Mutable<T[K]> } : T;
type EditableExport = Mutable<LedgerExport>;
const copy = (e: LedgerExport): EditableExport => JSON.parse(JSON.stringify(e)) as EditableExport;
const log0 = (e: EditableExport): Mutable<LogExport> => e.logs[0]!;

function failed(report: ExportReport): string[] {
  return report.checks.filter((c) => !c.ok).map((c) => c.name.replace(`${origin}: `, ''));
}

let good: LedgerExport;
beforeAll(async () => {
  good = await kernelExport();
});

describe('buildExport', () => {
  it('exports entries, checkpoints, one inclusion proof per entry and the consistency chain', () => {
    const log = good.logs[0]!;
    expect(good.format).toBe('naos-ledger-export/1');
    expect(log.origin).toBe(origin);
    expect(log.verifierKey).toBe(verifierKey);
    expect(log.entries).toHaveLength(6);
    expect(log.checkpoints.map((c) => c.size)).toEqual([0, 2, 3, 6]);
    expect(log.inclusion.map((p) => [p.index, p.size])).toEqual([0, 1, 2, 3, 4, 5].map((i) => [i, 6]));
    expect(log.consistency.map((p) => [p.size1, p.size2])).toEqual([
      [2, 3],
      [3, 6],
    ]);
    for (const proof of [...log.inclusion, ...log.consistency]) for (const hash of proof.proof) expect(hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses a log whose latest checkpoint does not cover its entries', async () => {
    const input = await readLogForExport(await Kernel.open({ store: new MemoryLedgerStore(), signer, now: () => 0 }));
    expect(() => buildExport([{ ...input, entries: [entryBytes(0)] }])).toThrow(ExportBuildError);
    expect(() => buildExport([{ ...input, checkpoints: [] }])).toThrow(ExportBuildError);
  });
});

describe('exportText (the export as pieces of JSON text)', () => {
  /** Inputs of three logs: the 6-entry log, an empty one (size-0 checkpoint) and a 40-entry one in uneven batches. */
  async function inputs() {
    const kernel = await Kernel.open({ store: new MemoryLedgerStore(), signer, now: () => 1_700_000_000_000 });
    await kernel.appendMany([{ n: 0 }, { n: 1 }]);
    await kernel.append('two');
    await kernel.appendMany([3, [4], { five: 5 }]);
    const empty = await Kernel.open({ store: new MemoryLedgerStore(), signer: stranger, now: () => 0 });
    const long = await Kernel.open({ store: new MemoryLedgerStore(), signer: seedSigner(new Uint8Array(32).fill(3)), now: () => 0 });
    for (let i = 0; i < 40; i += 7) await long.appendMany(Array.from({ length: Math.min(7, 40 - i) }, (_, j) => `entry "${i + j}"\n`));
    return [await readLogForExport(kernel), await readLogForExport(empty), await readLogForExport(long)];
  }

  it('is exactly JSON.stringify(buildExport(logs), null, 2) and a newline, whatever the piece size', async () => {
    const logs = await inputs();
    for (const subset of [[], [logs[0]!], [logs[1]!], logs]) {
      const expected = `${JSON.stringify(buildExport(subset), null, 2)}\n`;
      for (const chunkItems of [1, 3, 2000]) expect([...exportText(subset, { chunkItems })].join('')).toBe(expected);
    }
  });

  it('reports progress after every piece, up to twice the entries', async () => {
    const logs = await inputs();
    const seen: ExportProgress[] = [];
    const pieces = exportText(logs, { chunkItems: 10, onProgress: (p) => seen.push(p) });
    pieces.next();
    expect(seen).toEqual([]);
    for (let piece = pieces.next(); !piece.done; piece = pieces.next());
    const total = 2 * (6 + 0 + 40);
    expect(seen.every((p) => p.total === total)).toBe(true);
    expect(seen.map((p) => p.written)).toEqual([...seen.map((p) => p.written)].sort((a, b) => a - b));
    expect(seen[seen.length - 1]!.written).toBe(total);
    expect(seen.length).toBeGreaterThanOrEqual(total / 10);
  });

  it('refuses a log that is not sealed before yielding anything', async () => {
    const [log] = await inputs();
    const pieces = exportText([{ ...log!, entries: log!.entries.slice(1) }]);
    expect(() => pieces.next()).toThrow(ExportBuildError);
  });
});

describe('verifyExport on an intact export', () => {
  it('passes every check, also after a JSON round trip', async () => {
    for (const value of [good, JSON.parse(JSON.stringify(good)) as unknown]) {
      const report = await verifyExport(value);
      expect(failed(report)).toEqual([]);
      expect(report.ok).toBe(true);
      expect(report.checks.map((c) => c.name)).toEqual(['export: logs', ...CATEGORIES.map((c) => `${origin}: ${c}`)]);
    }
  });

  it('passes an empty log (size-0 checkpoint only)', async () => {
    const report = await verifyExport(await sealed([], [0]));
    expect(failed(report)).toEqual([]);
  });
});

describe('verifyExport on corrupted exports', () => {
  async function failures(edit: (e: EditableExport) => void | Promise<void>): Promise<string[]> {
    const e = copy(good);
    await edit(e);
    const report = await verifyExport(e);
    expect(report.ok).toBe(false);
    // `naos verify` checks a file as it reads it: same report, whatever the pieces it reads.
    expect(await verifyExportStream(pieces(`${JSON.stringify(e, null, 2)}\n`, 7))).toEqual(report);
    return failed(report);
  }

  it('a flipped entry byte breaks the roots and that entry’s inclusion', async () => {
    const failing = await failures((e) => {
      const bytes = fromBase64(log0(e).entries[4]!);
      bytes[bytes.length - 1]! ^= 0x01;
      log0(e).entries[4] = toBase64(bytes);
    });
    expect(failing).toEqual(expect.arrayContaining(['checkpoint roots', 'inclusion proofs']));
  });

  it('an altered checkpoint signature', async () => {
    const failing = await failures((e) => {
      const c = log0(e).checkpoints[2]!;
      log0(e).checkpoints[2] = {
        ...c,
        note: c.note.replace(/ (\S)(\S*)\n$/, (_, first: string, rest: string) => ` ${first === 'A' ? 'B' : 'A'}${rest}\n`),
      };
    });
    expect(failing).toContain('checkpoint signatures');
  });

  it('an altered root line in a note (not re-signed)', async () => {
    const failing = await failures((e) => {
      const c = log0(e).checkpoints[3]!;
      const lines = c.note.split('\n');
      lines[2] = toBase64(new Uint8Array(32).fill(9));
      log0(e).checkpoints[3] = { ...c, note: lines.join('\n') };
    });
    expect(failing).toEqual(expect.arrayContaining(['checkpoint signatures', 'seal']));
  });

  it('a validly signed checkpoint over the wrong root', async () => {
    const entries = [0, 1, 2].map((i) => entryBytes(i));
    const e = copy(await sealed(entries, [0, 1, 3]));
    const wrong = await signCheckpoint({ origin, size: 1, root: new Uint8Array(32).fill(3), extensions: [] }, signer);
    log0(e).checkpoints[1] = { size: 1, note: wrong };
    const report = await verifyExport(e);
    expect(failed(report)).toEqual(['checkpoint roots', 'consistency proofs']);
    expect(report.checks.find((c) => c.name.endsWith('checkpoint roots'))!.detail).toMatch(
      /checkpoint 1: entries give root [0-9a-f]{64}, signed root is 0303/,
    );
  });

  it('a dropped last entry breaks the seal', async () => {
    const failing = await failures((e) => {
      log0(e).entries.pop();
      log0(e).inclusion.pop();
    });
    expect(failing).toEqual(expect.arrayContaining(['seal', 'checkpoint roots']));
  });

  it('a dropped middle entry breaks the sequence and the roots', async () => {
    const failing = await failures((e) => {
      log0(e).entries.splice(1, 1);
    });
    expect(failing).toEqual(expect.arrayContaining(['entries', 'checkpoint roots', 'inclusion proofs', 'seal']));
  });

  it('an extra entry (validly encoded, right author and seq) is outside the seal', async () => {
    const failing = await failures((e) => {
      log0(e).entries.push(toBase64(entryBytes(6)));
    });
    expect(failing).toEqual(['inclusion proofs', 'seal']);
  });

  it('swapped entries', async () => {
    const failing = await failures((e) => {
      const entries = log0(e).entries;
      [entries[3], entries[4]] = [entries[4]!, entries[3]!];
    });
    expect(failing).toEqual(expect.arrayContaining(['entries', 'checkpoint roots', 'inclusion proofs']));
  });

  it('a wrong verifier key (another node’s key under this origin)', async () => {
    const failing = await failures((e) => {
      log0(e).verifierKey = formatVerifierKey(makeVerifier(origin, stranger.publicKey));
    });
    expect(failing).toEqual(expect.arrayContaining(['verifier key', 'checkpoint signatures', 'seal']));
  });

  it('a malformed verifier key', async () => {
    const failing = await failures((e) => {
      log0(e).verifierKey = log0(e).verifierKey.replace(/\+[0-9a-f]{8}\+/, '+00000000+');
    });
    expect(failing).toEqual(expect.arrayContaining(['verifier key', 'checkpoint signatures']));
  });

  it('a log signed entirely by a stranger’s key is refused even though it is self-consistent', async () => {
    const e = copy(await sealed([entryBytes(0)], [0, 1], stranger));
    expect(failed(await verifyExport(e))).toEqual(expect.arrayContaining(['checkpoint signatures', 'seal']));
  });

  it('a truncated inclusion proof', async () => {
    const failing = await failures((e) => {
      log0(e).inclusion[2]!.proof.pop();
    });
    expect(failing).toEqual(['inclusion proofs']);
  });

  it('an inclusion proof that is missing, duplicated or for the wrong size', async () => {
    expect(await failures((e) => void log0(e).inclusion.splice(0, 1))).toEqual(['inclusion proofs']);
    expect(await failures((e) => void log0(e).inclusion.push(log0(e).inclusion[0]!))).toEqual(['inclusion proofs']);
    expect(await failures((e) => void (log0(e).inclusion[1]!.size = 3))).toEqual(['inclusion proofs']);
  });

  it('a tampered, missing or extra consistency proof', async () => {
    const tampered = await failures((e) => {
      const proof = log0(e).consistency[1]!.proof;
      proof[0] = (proof[0]![0] === '0' ? '1' : '0') + proof[0]!.slice(1);
    });
    expect(tampered).toEqual(['consistency proofs']);
    expect(await failures((e) => void log0(e).consistency.pop())).toEqual(['consistency proofs']);
    expect(await failures((e) => void log0(e).consistency.push({ size1: 2, size2: 6, proof: [] }))).toEqual(['consistency proofs']);
    expect(await failures((e) => void (log0(e).consistency[0]!.proof = ['zz']))).toEqual(['consistency proofs']);
  });

  it('an entry by another author, even inside a validly signed log', async () => {
    const otherAuthor = nodeIdFromPublicKey(stranger.publicKey);
    const entries = [entryBytes(0), entryBytes(1, 'forged', otherAuthor), entryBytes(2)];
    const report = await verifyExport(await sealed(entries, [0, 3]));
    expect(failed(report)).toEqual(['entries']);
    expect(report.checks.find((c) => c.name.endsWith(': entries'))!.detail).toContain(`entry 1: author is ${otherAuthor}`);
  });

  it('an entry dated back (or at the same time), even inside a validly signed log', async () => {
    const dated = (seq: number, count: number) =>
      encodeEntry({ v: 1, kind: 'data', author: nodeId, seq, time: { wall: 1_700_000_000_000, count }, payload: { seq } });
    for (const [count, shown] of [
      [0, '1700000000000.0'],
      [1, '1700000000000.1'],
    ] as const) {
      const report = await verifyExport(await sealed([dated(0, 0), dated(1, 1), dated(2, count)], [0, 3]));
      expect(failed(report)).toEqual(['entries']);
      expect(report.checks.find((c) => c.name.endsWith(': entries'))!.detail).toContain(
        `entry 2 is dated ${shown}, not after entry 1 (1700000000000.1)`,
      );
    }
  });

  it('non-canonical entry bytes, even inside a validly signed log', async () => {
    const canonical = entryBytes(0, 'x');
    // seq 0 is the one-byte CBOR integer 0x00; 0x18 0x00 is the same value, non-minimally encoded.
    const seqKey = [0x63, 0x73, 0x65, 0x71];
    const at = canonical.findIndex((_, i) => seqKey.every((b, j) => canonical[i + j] === b)) + seqKey.length;
    expect(canonical[at]).toBe(0x00);
    const loose = new Uint8Array([...canonical.subarray(0, at), 0x18, 0x00, ...canonical.subarray(at + 1)]);
    const report = await verifyExport(await sealed([loose], [0, 1]));
    expect(failed(report)).toEqual(['entries']);
    expect(report.checks.find((c) => c.name.endsWith(': entries'))!.detail).toMatch(/not canonical|more bytes than necessary/);
  });

  it('entries that are not base64', async () => {
    expect(await failures((e) => void (log0(e).entries[0] = 'not base64!'))).toEqual(
      expect.arrayContaining(['entries', 'checkpoint roots', 'inclusion proofs']),
    );
  });

  it('checkpoints out of order, and a note whose size differs from its record', async () => {
    expect(
      await failures((e) => {
        const c = log0(e).checkpoints;
        [c[1], c[2]] = [c[2]!, c[1]!];
      }),
    ).toContain('checkpoint sizes');
    expect(await failures((e) => void (log0(e).checkpoints[1]!.size = 1))).toContain('checkpoint signatures');
  });

  it('absurd sizes and indices fail as checks instead of throwing', async () => {
    const failing = await failures((e) => {
      log0(e).checkpoints.push({ size: Number.MAX_SAFE_INTEGER, note: log0(e).checkpoints[3]!.note });
      log0(e).inclusion[0]!.index = Number.MAX_SAFE_INTEGER;
      log0(e).consistency.push({ size1: 1e15, size2: 2e15, proof: ['00'.repeat(32)] });
    });
    expect(failing).toEqual(expect.arrayContaining(['checkpoint signatures', 'inclusion proofs', 'consistency proofs', 'seal']));
  });

  it('no logs, or the same log twice', async () => {
    expect(failed(await verifyExport({ format: 'naos-ledger-export/1', logs: [] }))).toEqual(['export: logs']);
    const twice = copy(good);
    twice.logs.push(twice.logs[0]!);
    expect(failed(await verifyExport(twice))).toEqual(['export: logs']);
  });

  it('any single changed character in any string fails verification (property)', async () => {
    const strings: { path: (string | number)[]; value: string }[] = [];
    const walk = (value: unknown, path: (string | number)[]): void => {
      if (typeof value === 'string' && path[0] === 'logs') strings.push({ path, value });
      else if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...path, i]));
      else if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
    };
    walk(copy(good), []);
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.nat(), fc.integer({ min: 32, max: 126 }), async (which, position, code) => {
        const target = strings[which % strings.length]!;
        const at = position % target.value.length;
        fc.pre(target.value.charCodeAt(at) !== code);
        const changed = target.value.slice(0, at) + String.fromCharCode(code) + target.value.slice(at + 1);
        const e = copy(good) as unknown as Record<string | number, unknown>;
        let parent = e;
        for (const key of target.path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
        parent[target.path[target.path.length - 1]!] = changed;
        const report = await verifyExport(e);
        expect(report.ok, `${target.path.join('.')}[${at}] → ${JSON.stringify(String.fromCharCode(code))}`).toBe(false);
        expect(await verifyExportStream(pieces(JSON.stringify(e), 1 + (position % 97)))).toEqual(report);
      }),
      { numRuns: 300, seed: 9162 },
    );
  });
});

describe('parseExport refuses what is not an export', () => {
  const cases: [string, unknown][] = [
    ['null', null],
    ['an array', []],
    ['a string', 'naos-ledger-export/1'],
    ['no format', { logs: [] }],
    ['another format', { format: 'naos-ledger-export/2', logs: [] }],
    ['logs not an array', { format: 'naos-ledger-export/1', logs: {} }],
    ['an unknown field', { format: 'naos-ledger-export/1', logs: [], extra: 1 }],
  ];
  it.each(cases)('%s', async (_, value) => {
    expect(() => parseExport(value)).toThrow(ExportFormatError);
    await expect(verifyExport(value)).rejects.toThrow(ExportFormatError);
  });

  it('names the offending field', () => {
    const e = copy(good);
    (log0(e).checkpoints[1] as { size: unknown }).size = '2';
    expect(() => parseExport(e)).toThrow(/\$\.logs\[0\]\.checkpoints\[1\]\.size must be a non-negative integer, got "2"/);
    const f = copy(good);
    (log0(f).entries as unknown[])[0] = 7;
    expect(() => parseExport(f)).toThrow(/\$\.logs\[0\]\.entries\[0\] must be a string/);
    const g = copy(good);
    delete (log0(g) as Partial<Mutable<LogExport>>).inclusion;
    expect(() => parseExport(g)).toThrow(/\$\.logs\[0\]\.inclusion is missing/);
    const h = copy(good);
    (log0(h).consistency[0] as { size1: unknown }).size1 = -1;
    expect(() => parseExport(h)).toThrow(ExportFormatError);
    const i = copy(good);
    (log0(i).inclusion[0] as { proof: unknown }).proof = 'abc';
    expect(() => parseExport(i)).toThrow(/proof must be an array/);
  });
});
