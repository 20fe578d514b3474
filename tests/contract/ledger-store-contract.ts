import { beforeEach, describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../../src/bytes.js';
import { seedSigner } from '../../src/crypto/ed25519.js';
import { Kernel } from '../../src/kernel/kernel.js';
import {
  type LedgerStore,
  type LogReplacement,
  StoreConflictError,
  StoreUnavailableError,
  type StoredCheckpoint,
} from '../../src/storage/ledger-store.js';

/**
 * The one acceptance suite every LedgerStore adapter passes (memory and LevelDB in Node,
 * IndexedDB in Chromium). A harness opens the adapter over one underlying database and
 * can edit stored bytes behind the store's back, the way an attacker with disk access
 * would, so tamper detection is proven on every adapter.
 */
export interface StoreHarness {
  /** Opens (or reopens) the store over the same underlying data. */
  open(): Promise<LedgerStore>;
  /** Raw edits that bypass the adapter's checks. Each opens and closes what it needs. */
  corruptEntry(origin: string, index: number, edit: (bytes: Uint8Array) => Uint8Array): Promise<void>;
  corruptCheckpoint(origin: string, size: number, edit: (note: string) => string): Promise<void>;
  setHeadSize(origin: string, size: number): Promise<void>;
  deleteEntry(origin: string, index: number): Promise<void>;
  /** Removes everything; the next open() starts empty. */
  destroy(): Promise<void>;
}

const ORIGIN_A = 'naos/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const ORIGIN_B = 'naos/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
const head = (origin: string) => ({ origin, verifierKey: `${origin}+00000000+AQ==`, size: 0 });
const cp = (size: number): StoredCheckpoint => ({ size, note: `note for size ${size}\n` });
const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);
/** A replacement of `origin` by entries `values` (one byte each), with checkpoints at `sizes` (default: the end). */
const replacementOf = (origin: string, values: number[], sizes = [values.length]): LogReplacement => ({
  head: { ...head(origin), verifierKey: `${origin}+11111111+Ag==`, size: values.length },
  entries: values.map((value) => bytes(value)),
  checkpoints: sizes.map((size) => ({ size, note: `repaired note for size ${size}\n` })),
});

export function ledgerStoreContract(adapter: string, makeHarness: () => StoreHarness): void {
  describe(`LedgerStore contract: ${adapter}`, () => {
    let harness: StoreHarness;
    let store: LedgerStore;

    beforeEach(async () => {
      harness = makeHarness();
      await harness.destroy();
      store = await harness.open();
      return async () => {
        await store.close().catch(() => undefined);
        await harness.destroy();
      };
    });

    async function reopen(): Promise<LedgerStore> {
      await store.close();
      store = await harness.open();
      return store;
    }

    /** What contents() of a log must be once `replacement` is stored, and nothing else. */
    const holding = (replacement: LogReplacement, entries: string[]) => ({
      heads: [replacement.head],
      entries,
      count: entries.length,
      checkpoints: replacement.checkpoints,
    });

    /** Everything the store reports about one log, raw (no verification). */
    async function contents(origin: string) {
      return {
        heads: (await store.listLogs()).filter((log) => log.origin === origin),
        entries: (await store.readEntries(origin, 0, 1000)).map(toHex),
        count: await store.countEntries(origin),
        checkpoints: await store.readCheckpoints(origin),
      };
    }

    it('starts empty', async () => {
      expect(await store.listLogs()).toEqual([]);
      expect(await store.countEntries(ORIGIN_A)).toBe(0);
      expect(await store.readEntries(ORIGIN_A, 0, 10)).toEqual([]);
      expect(await store.readCheckpoints(ORIGIN_A)).toEqual([]);
    });

    it('creates a log with its size-0 checkpoint, once', async () => {
      await store.createLog(head(ORIGIN_A), cp(0));
      expect(await store.listLogs()).toEqual([head(ORIGIN_A)]);
      expect(await store.readCheckpoints(ORIGIN_A)).toEqual([cp(0)]);
      await expect(store.createLog(head(ORIGIN_A), cp(0))).rejects.toThrow(StoreConflictError);
    });

    it('creates a replica log without a checkpoint, then appends to it', async () => {
      await store.createLog(head(ORIGIN_B));
      expect(await store.listLogs()).toEqual([head(ORIGIN_B)]);
      expect(await store.readCheckpoints(ORIGIN_B)).toEqual([]);
      await store.append({ origin: ORIGIN_B, start: 0, entries: [bytes(1)], checkpoint: cp(1) });
      expect(await store.readCheckpoints(ORIGIN_B)).toEqual([cp(1)]);
      await expect(store.createLog(head(ORIGIN_B))).rejects.toThrow(StoreConflictError);
    });

    it('appends batches in order and reads any range back', async () => {
      await store.createLog(head(ORIGIN_A), cp(0));
      await store.append({ origin: ORIGIN_A, start: 0, entries: [bytes(1), bytes(2, 2)], checkpoint: cp(2) });
      await store.append({ origin: ORIGIN_A, start: 2, entries: [bytes(3, 3, 3)], checkpoint: cp(3) });
      expect((await store.listLogs())[0]!.size).toBe(3);
      expect((await store.readEntries(ORIGIN_A, 0, 3)).map(toHex)).toEqual(['01', '0202', '030303']);
      expect((await store.readEntries(ORIGIN_A, 1, 2)).map(toHex)).toEqual(['0202']);
      expect((await store.readEntries(ORIGIN_A, 2, 99)).map(toHex)).toEqual(['030303']);
      expect(await store.readEntries(ORIGIN_A, 3, 5)).toEqual([]);
      expect(await store.countEntries(ORIGIN_A)).toBe(3);
      expect(await store.readCheckpoints(ORIGIN_A)).toEqual([cp(0), cp(2), cp(3)]);
    });

    it('keeps numeric order past 9, 99 and 255 (no lexicographic keys)', async () => {
      await store.createLog(head(ORIGIN_A), cp(0));
      const entries = Array.from({ length: 300 }, (_, i) => utf8(String(i)));
      await store.append({ origin: ORIGIN_A, start: 0, entries: entries.slice(0, 150), checkpoint: cp(150) });
      await store.append({ origin: ORIGIN_A, start: 150, entries: entries.slice(150), checkpoint: cp(300) });
      const back = await store.readEntries(ORIGIN_A, 0, 300);
      expect(back.map((b) => new TextDecoder().decode(b))).toEqual(entries.map((_, i) => String(i)));
      expect((await store.readCheckpoints(ORIGIN_A)).map((c) => c.size)).toEqual([0, 150, 300]);
    });

    it('refuses gaps, overwrites, mismatched checkpoints and unknown logs, writing nothing', async () => {
      await store.createLog(head(ORIGIN_A), cp(0));
      await store.append({ origin: ORIGIN_A, start: 0, entries: [bytes(1)], checkpoint: cp(1) });
      await expect(store.append({ origin: ORIGIN_A, start: 2, entries: [bytes(9)], checkpoint: cp(3) })).rejects.toThrow(
        StoreConflictError,
      );
      await expect(store.append({ origin: ORIGIN_A, start: 0, entries: [bytes(9)], checkpoint: cp(1) })).rejects.toThrow(
        StoreConflictError,
      );
      await expect(store.append({ origin: ORIGIN_A, start: 1, entries: [bytes(9)], checkpoint: cp(5) })).rejects.toThrow(
        StoreConflictError,
      );
      await expect(store.append({ origin: ORIGIN_B, start: 0, entries: [bytes(9)], checkpoint: cp(1) })).rejects.toThrow(
        StoreConflictError,
      );
      expect((await store.readEntries(ORIGIN_A, 0, 9)).map(toHex)).toEqual(['01']);
      expect((await store.readCheckpoints(ORIGIN_A)).map((c) => c.size)).toEqual([0, 1]);
      expect(await store.listLogs()).toEqual([{ ...head(ORIGIN_A), size: 1 }]);
    });

    it('stores the earlier checkpoints a batch carries, in one write, and refuses misplaced ones', async () => {
      await store.createLog(head(ORIGIN_A), cp(0));
      const entries = [bytes(1), bytes(2), bytes(3), bytes(4)];
      await store.append({ origin: ORIGIN_A, start: 0, entries, checkpoint: cp(4), earlierCheckpoints: [cp(1), cp(3)] });
      expect(await store.readCheckpoints(ORIGIN_A)).toEqual([cp(0), cp(1), cp(3), cp(4)]);
      expect((await store.readEntries(ORIGIN_A, 0, 9)).map(toHex)).toEqual(['01', '02', '03', '04']);
      const more = [bytes(5), bytes(6), bytes(7)];
      for (const earlierCheckpoints of [[cp(4)], [cp(7)], [cp(6), cp(5)], [cp(5), cp(5)], [cp(2)], [{ size: 5.5, note: 'x\n' }]]) {
        await expect(store.append({ origin: ORIGIN_A, start: 4, entries: more, checkpoint: cp(7), earlierCheckpoints })).rejects.toThrow(
          StoreConflictError,
        );
      }
      expect(await store.countEntries(ORIGIN_A)).toBe(4);
      expect((await store.readCheckpoints(ORIGIN_A)).map((c) => c.size)).toEqual([0, 1, 3, 4]);
      expect(await store.listLogs()).toEqual([{ ...head(ORIGIN_A), size: 4 }]);
      await reopen();
      expect((await store.readCheckpoints(ORIGIN_A)).map((c) => c.size)).toEqual([0, 1, 3, 4]);
    });

    it('keeps logs apart', async () => {
      await store.createLog(head(ORIGIN_A), cp(0));
      await store.createLog(head(ORIGIN_B), cp(0));
      await store.append({ origin: ORIGIN_B, start: 0, entries: [bytes(7)], checkpoint: cp(1) });
      expect(await store.countEntries(ORIGIN_A)).toBe(0);
      expect((await store.readEntries(ORIGIN_B, 0, 1)).map(toHex)).toEqual(['07']);
      const logs = await store.listLogs();
      expect(logs.map((l) => [l.origin, l.size]).sort()).toEqual([
        [ORIGIN_A, 0],
        [ORIGIN_B, 1],
      ]);
    });

    it('does not alias caller buffers', async () => {
      await store.createLog(head(ORIGIN_A), cp(0));
      const entry = bytes(1, 2, 3);
      await store.append({ origin: ORIGIN_A, start: 0, entries: [entry], checkpoint: cp(1) });
      entry.fill(0);
      const [read] = await store.readEntries(ORIGIN_A, 0, 1);
      read!.fill(9);
      expect(toHex((await store.readEntries(ORIGIN_A, 0, 1))[0]!)).toBe('010203');
    });

    it('is durable across close and reopen', async () => {
      await store.createLog(head(ORIGIN_A), cp(0));
      await store.append({ origin: ORIGIN_A, start: 0, entries: [bytes(5), bytes(6)], checkpoint: cp(2) });
      await reopen();
      expect(await store.listLogs()).toEqual([{ ...head(ORIGIN_A), size: 2 }]);
      expect((await store.readEntries(ORIGIN_A, 0, 2)).map(toHex)).toEqual(['05', '06']);
      expect(await store.readCheckpoints(ORIGIN_A)).toEqual([cp(0), cp(2)]);
    });

    it('replaceLog replaces every record of a log, also past its head and under a tampered one', async () => {
      await store.createLog(head(ORIGIN_A), cp(0));
      await store.append({ origin: ORIGIN_A, start: 0, entries: [bytes(1), bytes(2)], checkpoint: cp(2) });
      await store.append({ origin: ORIGIN_A, start: 2, entries: [bytes(3), bytes(4), bytes(5)], checkpoint: cp(5) });
      await store.close();
      await harness.corruptEntry(ORIGIN_A, 1, () => bytes(0xee, 0xee));
      await harness.corruptCheckpoint(ORIGIN_A, 2, (note) => `${note}tampered\n`);
      await harness.setHeadSize(ORIGIN_A, 4); // entry 4 now lies past the head
      store = await harness.open();
      // Sizes 0 and 3 land on keys the old log used (0 a checkpoint, 0–2 entries), with other bytes.
      const replacement = replacementOf(ORIGIN_A, [0xa0, 0xa1, 0xa2], [0, 3]);
      await store.replaceLog(replacement);
      expect(await contents(ORIGIN_A)).toEqual(holding(replacement, ['a0', 'a1', 'a2']));
      expect(await store.listLogs()).toEqual([replacement.head]);
    });

    it('replaceLog creates the log when it does not exist', async () => {
      const replacement = replacementOf(ORIGIN_A, [7, 8], [1, 2]);
      await store.replaceLog(replacement);
      expect(await store.listLogs()).toEqual([replacement.head]);
      expect(await contents(ORIGIN_A)).toEqual(holding(replacement, ['07', '08']));
    });

    it('replaceLog leaves other logs untouched, also one whose origin extends the replaced one', async () => {
      const longer = `${ORIGIN_A}a`;
      for (const origin of [ORIGIN_A, ORIGIN_B, longer]) {
        await store.createLog(head(origin), cp(0));
        await store.append({ origin, start: 0, entries: [bytes(1), bytes(2), bytes(3)], checkpoint: cp(3) });
      }
      const before = { b: await contents(ORIGIN_B), longer: await contents(longer) };
      await store.replaceLog(replacementOf(ORIGIN_A, [9]));
      expect({ b: await contents(ORIGIN_B), longer: await contents(longer) }).toEqual(before);
      expect(before.b.count).toBe(3);
      expect((await store.listLogs()).map((log) => [log.origin, log.size]).sort()).toEqual([
        [ORIGIN_A, 1],
        [longer, 3],
        [ORIGIN_B, 3],
      ]);
    });

    it('replaceLog refuses a replacement that is not a consistent log, writing nothing', async () => {
      await store.createLog(head(ORIGIN_A), cp(0));
      await store.append({ origin: ORIGIN_A, start: 0, entries: [bytes(1), bytes(2)], checkpoint: cp(2) });
      const before = await contents(ORIGIN_A);
      const valid = replacementOf(ORIGIN_A, [4, 5, 6], [1, 3]);
      const invalid: Record<string, LogReplacement> = {
        'fewer entries than the head': { ...valid, entries: valid.entries.slice(0, 2) },
        'more entries than the head': { ...valid, entries: [...valid.entries, bytes(7)] },
        'size 0': { head: { ...valid.head, size: 0 }, entries: [], checkpoints: [cp(0)] },
        'checkpoints out of order': { ...valid, checkpoints: [cp(2), cp(1), cp(3)] },
        'a repeated checkpoint': { ...valid, checkpoints: [cp(1), cp(1), cp(3)] },
        'no checkpoint at the head': { ...valid, checkpoints: [cp(1), cp(2)] },
        'no checkpoints': { ...valid, checkpoints: [] },
        'an entry that is not bytes': { ...valid, entries: [bytes(4), 'five' as unknown as Uint8Array, bytes(6)] },
      };
      for (const [what, replacement] of Object.entries(invalid)) {
        await expect(store.replaceLog(replacement), what).rejects.toThrow(StoreConflictError);
        await expect(store.replaceLog({ ...replacement, head: { ...replacement.head, origin: ORIGIN_B } }), what).rejects.toThrow(
          StoreConflictError,
        );
      }
      expect(await contents(ORIGIN_A)).toEqual(before);
      expect(await store.listLogs()).toEqual([{ ...head(ORIGIN_A), size: 2 }]);
      expect(await contents(ORIGIN_B)).toEqual({ heads: [], entries: [], count: 0, checkpoints: [] });
    });

    it('appends after replaceLog at the new size, not the old one', async () => {
      await store.createLog(head(ORIGIN_A), cp(0));
      await store.append({ origin: ORIGIN_A, start: 0, entries: [bytes(1), bytes(2), bytes(3), bytes(4)], checkpoint: cp(4) });
      const replacement = replacementOf(ORIGIN_A, [0xa0, 0xa1]);
      await store.replaceLog(replacement);
      await expect(store.append({ origin: ORIGIN_A, start: 4, entries: [bytes(5)], checkpoint: cp(5) })).rejects.toThrow(
        StoreConflictError,
      );
      await store.append({ origin: ORIGIN_A, start: 2, entries: [bytes(0xa2)], checkpoint: cp(3) });
      expect(await contents(ORIGIN_A)).toEqual({
        heads: [{ ...replacement.head, size: 3 }],
        entries: ['a0', 'a1', 'a2'],
        count: 3,
        checkpoints: [...replacement.checkpoints, cp(3)],
      });
    });

    it('replaceLog is durable across close and reopen', async () => {
      await store.createLog(head(ORIGIN_A), cp(0));
      await store.append({ origin: ORIGIN_A, start: 0, entries: [bytes(5), bytes(6), bytes(7)], checkpoint: cp(3) });
      const replacement = replacementOf(ORIGIN_A, [0xb0, 0xb1], [1, 2]);
      await store.replaceLog(replacement);
      await reopen();
      expect(await store.listLogs()).toEqual([replacement.head]);
      expect(await contents(ORIGIN_A)).toEqual(holding(replacement, ['b0', 'b1']));
    });

    it('replaceLog copies the caller buffers when called and does not alias them', async () => {
      const entry = bytes(1, 2, 3);
      const replacement: LogReplacement = { head: { ...head(ORIGIN_A), size: 1 }, entries: [entry], checkpoints: [cp(1)] };
      const replacing = store.replaceLog(replacement);
      entry.fill(0); // before the write has resolved: the store must already hold its own copy
      await replacing;
      const [read] = await store.readEntries(ORIGIN_A, 0, 1);
      read!.fill(9);
      expect(toHex((await store.readEntries(ORIGIN_A, 0, 1))[0]!)).toBe('010203');
    });

    it('rejects calls after close with StoreUnavailableError', async () => {
      await store.close();
      await expect(store.listLogs()).rejects.toThrow(StoreUnavailableError);
    });

    describe('with a kernel on top', () => {
      const signer = seedSigner(new Uint8Array(32).fill(7));

      async function kernelWithEntries(n: number): Promise<Kernel> {
        const kernel = await Kernel.open({ store, signer, now: () => 1_700_000_000_000 });
        for (let i = 0; i < n; i++) await kernel.append({ i });
        return kernel;
      }

      async function reopenKernel(): Promise<Kernel> {
        await reopen();
        return Kernel.open({ store, signer, now: () => 1_700_000_000_000 });
      }

      it('reopens with the same entries, root and checkpoint', async () => {
        const kernel = await kernelWithEntries(5);
        const before = { heads: kernel.heads(), root: kernel.stateRoot(), note: kernel.checkpoint() };
        const again = await reopenKernel();
        expect(again.status().state).toBe('ok');
        expect({ heads: again.heads(), root: again.stateRoot(), note: again.checkpoint() }).toEqual(before);
        expect((await again.entries(0, 5)).map((e) => e.payload)).toEqual([0, 1, 2, 3, 4].map((i) => ({ i })));
      });

      it('detects a flipped byte in an entry and names it', async () => {
        const kernel = await kernelWithEntries(4);
        await store.close();
        await harness.corruptEntry(kernel.origin, 2, (b) => {
          const copy = b.slice();
          copy[copy.length - 1]! ^= 0x01;
          return copy;
        });
        const again = await reopenKernel();
        const status = again.status();
        expect(status.state).toBe('damaged');
        expect(status.damaged[0]!.problems.some((p) => p.where === 'entry 2')).toBe(true);
        await expect(again.append({ refused: true })).rejects.toThrow(/failed verification/);
        expect(again.heads()).toEqual([]);
      });

      it('detects an altered checkpoint signature', async () => {
        const kernel = await kernelWithEntries(2);
        await store.close();
        await harness.corruptCheckpoint(kernel.origin, 1, (note) =>
          note.replace(/\n— (\S+) (.)/, (_, n: string, c: string) => `\n— ${n} ${c === 'A' ? 'B' : 'A'}`),
        );
        const again = await reopenKernel();
        expect(again.status().damaged[0]!.problems.some((p) => p.where === 'checkpoint 1')).toBe(true);
      });

      it('detects a head that claims fewer entries than stored, and a deleted entry', async () => {
        const kernel = await kernelWithEntries(3);
        await store.close();
        await harness.setHeadSize(kernel.origin, 2);
        let again = await reopenKernel();
        expect(again.status().damaged[0]!.problems.some((p) => p.where === 'head')).toBe(true);
        await store.close();
        await harness.setHeadSize(kernel.origin, 3);
        await harness.deleteEntry(kernel.origin, 1);
        again = await reopenKernel();
        expect(again.status().state).toBe('damaged');
      });

      it('leaves damaged bytes untouched (nothing is repaired or overwritten silently)', async () => {
        const kernel = await kernelWithEntries(2);
        await store.close();
        await harness.corruptEntry(kernel.origin, 0, () => utf8('garbage'));
        await reopenKernel();
        expect(new TextDecoder().decode((await store.readEntries(kernel.origin, 0, 1))[0])).toBe('garbage');
        expect(await store.countEntries(kernel.origin)).toBe(2);
      });
    });
  });
}
