import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { afterAll } from 'vitest';
import { LevelLedgerStore, levelLayout } from '../../adapters/node/level-store.js';
import { ledgerStoreContract } from './ledger-store-contract.js';

const root = mkdtempSync(join(tmpdir(), 'naos-level-contract-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let harnesses = 0;

/** Opens the database directly, bypassing the adapter, the way a disk editor would. */
async function raw<T>(dir: string, edit: (db: ClassicLevel<Uint8Array, Uint8Array>) => Promise<T>): Promise<T> {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  try {
    return await edit(db);
  } finally {
    await db.close();
  }
}

ledgerStoreContract('LevelDB (classic-level)', () => {
  const dir = join(root, `db-${harnesses++}`);
  return {
    open: () => LevelLedgerStore.open(dir),
    corruptEntry: (origin, index, edit) =>
      raw(dir, async (db) => {
        const key = levelLayout.entryKey(origin, index);
        const value = await db.get(key);
        if (value === undefined) throw new Error(`no entry ${index} of ${origin}`);
        await db.put(key, edit(new Uint8Array(value)));
      }),
    corruptCheckpoint: (origin, size, edit) =>
      raw(dir, async (db) => {
        const key = levelLayout.checkpointKey(origin, size);
        const value = await db.get(key);
        if (value === undefined) throw new Error(`no checkpoint ${size} of ${origin}`);
        await db.put(key, new TextEncoder().encode(edit(new TextDecoder().decode(value))));
      }),
    setHeadSize: (origin, size) =>
      raw(dir, async (db) => {
        const value = await db.get(levelLayout.headKey(origin));
        if (value === undefined) throw new Error(`no head of ${origin}`);
        await db.put(levelLayout.headKey(origin), levelLayout.encodeHead({ ...levelLayout.decodeHead(origin, value), size }));
      }),
    deleteEntry: (origin, index) => raw(dir, (db) => db.del(levelLayout.entryKey(origin, index))),
    destroy: () => {
      rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    },
  };
});
