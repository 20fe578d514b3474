import { expect, type Page, test } from '@playwright/test';
import { seedSigner } from '../../src/crypto/ed25519.js';
import { type Body, decodeEnvelope, encodeEnvelope, signingBytes, type UnsignedEnvelope } from '../../src/federation/messages.js';
import { nodeIdFromPublicKey } from '../../src/identity/node-id.js';
import { openCheckpoint, signCheckpoint } from '../../src/ledger/checkpoint.js';
import { parseVerifierKey } from '../../src/ledger/note.js';
import { expectConverged, expectMesh, openTabs, syncState } from './tabs.js';

// A hostile tab: a page of the same origin that is not a Naos node, only a script on
// the namespace's BroadcastChannel (anything in the origin can post there). It forges
// messages here in Node with the project's own encoders and posts them.

const CHANNEL = 'naos-sync';
const HOSTILE_PAGE = `<!doctype html><title>hostile</title><script>
  const channel = new BroadcastChannel(${JSON.stringify(CHANNEL)});
  window.captured = [];
  channel.onmessage = (event) => { if (event.data instanceof Uint8Array) window.captured.push(Array.from(event.data)); };
  window.post = (messages) => { for (const m of messages) channel.postMessage(m.bytes ? new Uint8Array(m.bytes) : m.text); };
</script>`;

// page.route cannot see requests a service worker answers; this file needs none.
test.use({ serviceWorkers: 'block' });

type Posted = { bytes: number[] } | { text: string };

async function hostileTab(page: Page): Promise<{ captured: () => Promise<Uint8Array[]>; post: (messages: Posted[]) => Promise<void> }> {
  await page.route('**/hostile.html', (route) => route.fulfill({ contentType: 'text/html', body: HOSTILE_PAGE }));
  await page.goto('/hostile.html');
  return {
    captured: async () =>
      (await page.evaluate(() => (window as unknown as { captured: number[][] }).captured)).map((b) => new Uint8Array(b)),
    post: (messages) => page.evaluate((m) => (window as unknown as { post: (m: Posted[]) => void }).post(m), messages),
  };
}

test('a hostile tab posting forged messages changes nothing in the others, and every forgery is refused and counted', async ({
  context,
}) => {
  const pages = await openTabs(context, 3);
  await expectMesh(pages);
  await Promise.all(pages.map((page, i) => page.evaluate((i) => naos.appendMany([`honest ${i}`, { i }]), i)));
  await expectConverged(pages, { logs: 3 });

  const hostile = await hostileTab(await context.newPage());
  // Capture a genuine REPLICATE: the next append of tab 0, pushed to every tab.
  const victimOrigin = await pages[0]!.evaluate(async () => {
    await naos.append('captured by the hostile tab');
    return (await naos.info()).origin;
  });
  await expectConverged(pages, { logs: 3 });
  let replicate: Uint8Array | undefined;
  await expect
    .poll(async () => {
      replicate = (await hostile.captured()).find((bytes) => decodeEnvelope(bytes).body.type === 'REPLICATE');
      return replicate !== undefined;
    })
    .toBe(true);
  const genuine = decodeEnvelope(replicate!);
  if (genuine.body.type !== 'REPLICATE') throw new Error('unreachable');
  const batch = genuine.body.batch;
  expect(batch.origin).toBe(victimOrigin);

  const before = await Promise.all(pages.map(syncState));

  // The forger signs with its own key (a node anyone can make up).
  const signer = seedSigner(new Uint8Array(32).fill(66));
  const forger = nodeIdFromPublicKey(signer.publicKey);
  const session = new Uint8Array(8).fill(7);
  const envelope = async (seq: number, body: Body, lie: Partial<UnsignedEnvelope> = {}): Promise<Uint8Array> => {
    const unsigned: UnsignedEnvelope = { v: 1, from: forger, key: signer.publicKey, session, seq, body, ...lie };
    return encodeEnvelope({ ...unsigned, sig: await signer.sign(signingBytes(unsigned)) });
  };
  const tampered = batch.entries.map((bytes, i) => (i === 0 ? bytes.map((b, j) => (j === bytes.length - 1 ? b ^ 1 : b)) : bytes));
  const signed = await openCheckpoint(batch.checkpoint, parseVerifierKey(batch.verifierKey));
  const wrongKeyNote = await signCheckpoint({ ...signed, extensions: [] }, signer);
  const heartbeat: Body = { type: 'HEARTBEAT', root: new Uint8Array(32), logs: 1 };
  const badSignature = await envelope(3, heartbeat);
  badSignature[badSignature.length - 1]! ^= 1;

  const forgeries: Uint8Array[] = [
    // garbage bytes
    new Uint8Array([0xde, 0xad, 0xbe, 0xef, 1, 2, 3]),
    // a REPLICATE of the victim's log with one entry altered under its genuine checkpoint
    await envelope(0, { type: 'REPLICATE', batch: { ...batch, entries: tampered } }),
    // the victim's entries under a checkpoint signed by the wrong key
    await envelope(1, { type: 'REPLICATE', batch: { ...batch, checkpoint: wrongKeyNote } }),
    // a replayed sequence number (same session, seq 0 again)
    await envelope(0, heartbeat),
    // claims to be tab 0 while signing with another key
    await envelope(2, heartbeat, { from: victimOrigin.slice('naos/'.length) }),
    // a signature that does not verify
    badSignature,
    // an honest tab's message replayed byte for byte (dropped as a duplicate, before any work)
    replicate!,
  ];
  await hostile.post([...forgeries.map((bytes) => ({ bytes: [...bytes] })), { text: 'not even bytes' }]);

  const expected = [
    { sender: forger, reason: 'batch:root-mismatch' },
    { sender: forger, reason: 'batch:bad-checkpoint' },
    { sender: forger, reason: 'replay' },
    { sender: `link:broadcast-channel:${CHANNEL}`, reason: expect.stringMatching(/^malformed:/) },
    { sender: `link:broadcast-channel:${CHANNEL}`, reason: 'bad-identity' },
    { sender: `link:broadcast-channel:${CHANNEL}`, reason: 'bad-signature' },
  ];
  for (const page of pages) {
    await expect
      .poll(async () => (await page.evaluate(() => naos.rejections())).map(({ sender, reason }) => ({ sender, reason })))
      .toEqual(expect.arrayContaining(expected.map((e) => expect.objectContaining(e))));
    // The forger is a peer now (it signed valid envelopes), with its refusals held against it.
    const record = (await page.evaluate(() => naos.peers())).find((p) => p.nodeId === forger);
    expect(record?.rejected).toBeGreaterThanOrEqual(2);
    expect(await page.evaluate(() => naos.forks())).toEqual([]);
  }
  // Nothing changed: same roots, same heads, same derived state; and the tabs still federate.
  expect(await Promise.all(pages.map(syncState))).toEqual(before);
  await pages[1]!.evaluate(() => naos.append('still working'));
  await expectConverged(pages, { logs: 3 });

  // The Peers panel lists the refusals.
  await pages[2]!.getByRole('link', { name: 'Peers' }).click();
  await expect(pages[2]!.getByTestId('rejections')).toContainText('batch:root-mismatch');
});
