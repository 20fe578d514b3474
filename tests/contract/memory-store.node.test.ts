import { MemoryLedgerStore, type MemoryLog } from '../../src/storage/memory-store.js';
import { ledgerStoreContract } from './ledger-store-contract.js';

ledgerStoreContract('memory', () => {
  const data = new Map<string, MemoryLog>();
  const log = (origin: string): MemoryLog => {
    const found = data.get(origin);
    if (!found) throw new Error(`no log ${origin}`);
    return found;
  };
  return {
    open: () => Promise.resolve(new MemoryLedgerStore(data)),
    corruptEntry: (origin, index, edit) => {
      log(origin).entries[index] = edit(log(origin).entries[index]!);
      return Promise.resolve();
    },
    corruptCheckpoint: (origin, size, edit) => {
      const checkpoint = log(origin).checkpoints.find((c) => c.size === size)!;
      log(origin).checkpoints[log(origin).checkpoints.indexOf(checkpoint)] = { size, note: edit(checkpoint.note) };
      return Promise.resolve();
    },
    setHeadSize: (origin, size) => {
      log(origin).head = { ...log(origin).head, size };
      return Promise.resolve();
    },
    deleteEntry: (origin, index) => {
      log(origin).entries.splice(index, 1);
      return Promise.resolve();
    },
    destroy: () => {
      data.clear();
      return Promise.resolve();
    },
  };
});
