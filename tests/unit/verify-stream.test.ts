import { beforeAll, describe, expect, it } from 'vitest';
import { verifyExportStream } from '../../cli/verify-stream.js';
import { seedSigner } from '../../src/crypto/ed25519.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { exportText, type LogExportInput, readLogForExport, verifyExport } from '../../src/ledger/export.js';
import { MemoryLedgerStore } from '../../src/storage/memory-store.js';
import { pieces } from '../support/pieces.js';

/** Two nodes' logs, as `naos ledger export` writes them (the second holds a replica of the first). */
let text: string;
beforeAll(async () => {
  const a = await Kernel.open({ store: new MemoryLedgerStore(), signer: seedSigner(new Uint8Array(32).fill(1)), now: () => 1 });
  const b = await Kernel.open({ store: new MemoryLedgerStore(), signer: seedSigner(new Uint8Array(32).fill(2)), now: () => 1 });
  for (let i = 0; i < 40; i++) await a.appendMany([{ i }, `and ${i}`]);
  await b.append('b');
  await b.applyBatch((await a.readBatch(a.origin, 0, 1 << 20))!);
  const logs: LogExportInput[] = [await readLogForExport(b), await readLogForExport(b, a.origin)];
  text = [...exportText(logs, { chunkItems: 7 })].join('');
});

const whole = (t: string) => verifyExport(JSON.parse(t));

describe('verifyExportStream (naos verify reading a file as it goes)', () => {
  it('gives the report of the whole-text check, whatever the pieces the file arrives in', async () => {
    const expected = await whole(text);
    expect(expected.ok).toBe(true);
    expect(expected.checks).toHaveLength(1 + 2 * 8);
    for (const size of [1, 5, 64, 4096, 1 << 20]) expect(await verifyExportStream(pieces(text, size))).toEqual(expected);
  });

  it('reports a tampered export as the whole-text check does', async () => {
    // An inclusion proof hash changed, a proof given twice, a checkpoint note altered.
    const proof = text.indexOf('"proof": [', text.lastIndexOf('"inclusion"'));
    const hash = text.indexOf('"', proof + 12) + 1;
    const cases = [
      text.slice(0, hash) + (text[hash] === '0' ? '1' : '0') + text.slice(hash + 1),
      text.replace(/("inclusion": \[)(\s*\{[^}]*\})/, '$1$2,$2'),
      text.replace(/\\n1\\n/, '\\n2\\n'),
    ];
    for (const tampered of cases) {
      const expected = await whole(tampered);
      expect(expected.ok).toBe(false);
      expect(await verifyExportStream(pieces(tampered, 333))).toEqual(expected);
    }
  });

  it('leaves to the whole-text check what is not laid out as an export is written', async () => {
    const value = JSON.parse(text) as { format: string; logs: Record<string, unknown>[] };
    const reordered = { logs: value.logs, format: value.format };
    const keysReordered = { ...value, logs: value.logs.map(({ entries, ...rest }) => ({ entries, ...rest })) };
    const notStreamable = [
      JSON.stringify(reordered),
      JSON.stringify(keysReordered),
      JSON.stringify({ ...value, extra: 1 }),
      JSON.stringify({
        ...value,
        logs: value.logs.map((log) => Object.fromEntries(Object.entries(log).filter(([key]) => key !== 'consistency'))),
      }),
      JSON.stringify({ ...value, logs: [{ ...value.logs[0], entries: 'not a list' }] }),
      JSON.stringify({ ...value, logs: [{ ...value.logs[0], entries: [1] }] }),
      JSON.stringify({ ...value, logs: [{ ...value.logs[0], checkpoints: [{ size: 1 }] }] }),
      JSON.stringify({ ...value, format: 'naos-ledger-export/2' }),
      JSON.stringify([value]),
      text.slice(0, -10),
      `${text} {}`,
      text.replace('"format"', 'format'),
      text.replace('"note":', '"__proto__": {}, "note":'),
    ];
    for (const odd of notStreamable) expect(await verifyExportStream(pieces(odd, 1000)), odd.slice(0, 80)).toBe('not-streamable');
    const badUtf8 = new TextEncoder().encode(text);
    badUtf8[text.indexOf('"origin"') + 3] = 0xff;
    expect(await verifyExportStream(pieces(badUtf8, 1000))).toBe('not-streamable');
  });
});
