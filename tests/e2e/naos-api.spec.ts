import { expect, test } from '@playwright/test';
import { openNode } from './support.js';

test('globalThis.naos exposes the stable calls with their documented shapes', async ({ page }) => {
  const nodeId = await openNode(page);
  const shape = await page.evaluate(() => ({
    ready: naos.ready instanceof Promise,
    calls: Object.fromEntries(
      [
        'nodeId',
        'append',
        'stateRoot',
        'heads',
        'peers',
        'onChange',
        'status',
        'checkpoint',
        'entries',
        'prove',
        'verifyInclusion',
        'consistency',
      ].map((name) => [name, typeof (naos as unknown as Record<string, unknown>)[name]]),
    ),
  }));
  expect(shape.ready).toBe(true);
  expect(Object.values(shape.calls).every((type) => type === 'function')).toBe(true);

  const appended = await page.evaluate(() => naos.append({ hello: 'world' }));
  expect(appended).toEqual({ index: 0, id: expect.stringMatching(/^b[a-z2-7]+$/) as unknown });
  expect(await page.evaluate(() => naos.stateRoot())).toMatch(/^[0-9a-f]{64}$/);
  expect(await page.evaluate(() => naos.heads())).toEqual([
    { origin: `naos/${nodeId}`, size: 1, root: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown },
  ]);
  expect(await page.evaluate(() => naos.peers())).toEqual([]);
  expect(await page.evaluate(() => naos.status())).toEqual({ state: 'ok', nodeId, damaged: [], repaired: [] });
  const [entry] = await page.evaluate(() => naos.entries(0, 1));
  expect(entry).toMatchObject({ index: 0, id: appended.id, kind: 'data', author: nodeId, payload: { hello: 'world' } });
});

test('onChange returns its unsubscribe function at once and reports every new head', async ({ page }) => {
  await openNode(page);
  const unsubscribeType = await page.evaluate(() => {
    const w = window as unknown as { seenA: number[]; seenB: number[]; offA: () => void };
    w.seenA = [];
    w.seenB = [];
    w.offA = naos.onChange((head) => w.seenA.push(head.size));
    naos.onChange((head) => w.seenB.push(head.size));
    return typeof w.offA;
  });
  expect(unsubscribeType).toBe('function');
  await page.evaluate(() => naos.append(1));
  await page.evaluate(() => naos.append(2));
  await page.waitForFunction(() => (window as unknown as { seenA: number[] }).seenA.length >= 2);
  expect(await page.evaluate(() => (window as unknown as { seenA: number[] }).seenA)).toEqual([1, 2]);

  await page.evaluate(() => (window as unknown as { offA: () => void }).offA());
  await page.evaluate(() => naos.append(3));
  // B is called in the same dispatch A would have been; once B saw size 3, A provably did not.
  await page.waitForFunction(() => (window as unknown as { seenB: number[] }).seenB.includes(3));
  expect(await page.evaluate(() => (window as unknown as { seenA: number[] }).seenA)).toEqual([1, 2]);
});

test('proofs verify with the real verifier, and altered proofs do not', async ({ page }) => {
  await openNode(page);
  await page.evaluate(() => naos.appendMany(Array.from({ length: 11 }, (_, i) => ({ i }))));
  await page.evaluate(() => naos.append('twelfth'));
  const result = await page.evaluate(async () => {
    const proof = await naos.prove(5);
    const older = await naos.prove(5, 8);
    const consistency = await naos.consistency(8, 12);
    const flipped = { ...proof, proof: [...proof.proof] };
    flipped.proof[0] = flipped.proof[0]!.replace(/^./, (c) => (c === 'f' ? 'e' : 'f'));
    return {
      proof,
      valid: await naos.verifyInclusion(proof),
      olderValid: await naos.verifyInclusion(older),
      flipped: await naos.verifyInclusion(flipped),
      wrongIndex: await naos.verifyInclusion({ ...proof, index: 6 }),
      wrongRoot: await naos.verifyInclusion({ ...proof, root: older.root }),
      consistency: await naos.verifyConsistency(consistency),
      badConsistency: await naos.verifyConsistency({ ...consistency, root1: consistency.root2 }),
      notAProof: await naos.verifyInclusion({ index: 0 }).catch((error: unknown) => (error as Error).name),
    };
  });
  expect(result.proof).toMatchObject({ index: 5, size: 12 });
  expect(result.proof.proof).toHaveLength(4); // RFC 9162: index 5 of 12 needs 4 hashes
  expect(result.valid).toEqual({ valid: true });
  expect(result.olderValid).toEqual({ valid: true });
  for (const bad of [result.flipped, result.wrongIndex, result.wrongRoot, result.badConsistency]) {
    expect(bad).toEqual({ valid: false, reason: expect.any(String) as unknown });
  }
  expect(result.consistency).toEqual({ valid: true });
  expect(result.notAProof).toBe('InvalidInputError');
});

test('bad input is refused with named errors and appends nothing', async ({ page }) => {
  await openNode(page);
  await page.evaluate(() => naos.append('kept'));
  const errors = await page.evaluate(async () => {
    const name = (p: Promise<unknown>) =>
      p.then(
        () => 'resolved',
        (error: unknown) => (error as Error).name,
      );
    return {
      nan: await name(naos.append(Number.NaN)),
      undef: await name(naos.append(undefined)),
      fn: await name(naos.append(() => 1)),
      date: await name(naos.append(new Date())),
      manyNotArray: await name(naos.appendMany('x' as unknown as unknown[])),
      manyOneBad: await name(naos.appendMany([1, { bad: Number.POSITIVE_INFINITY }])),
      entriesNegative: await name(naos.entries(-1, 2)),
      entriesHuge: await name(naos.entries(0, 1e6)),
      proveBeyond: await name(naos.prove(7)),
      proveFraction: await name(naos.prove(0.5)),
      onChangeNotFunction: (() => {
        try {
          naos.onChange(42 as unknown as () => void);
          return 'accepted';
        } catch (error) {
          return (error as Error).name;
        }
      })(),
    };
  });
  expect(errors).toEqual({
    nan: 'InvalidValueError',
    undef: 'InvalidValueError',
    fn: 'InvalidValueError',
    date: 'InvalidValueError',
    manyNotArray: 'InvalidInputError',
    manyOneBad: 'InvalidValueError',
    entriesNegative: 'RangeError',
    entriesHuge: 'RangeError',
    proveBeyond: 'TreeRangeError',
    proveFraction: 'RangeError',
    onChangeNotFunction: 'TypeError',
  });
  expect((await page.evaluate(() => naos.entries(0, 10))).map((e) => e.payload)).toEqual(['kept']);
});
