import { describe, expect, it } from 'vitest';
import { BroadcastTransport, syncChannelName } from '../../adapters/browser/broadcast-transport.js';
import { transportContract } from './transport-contract.js';

let counter = 0;
const freshChannel = () => syncChannelName(`naos-test-bc-${Date.now()}-${counter++}`);

// Every BroadcastChannel object of one name reaches every other one, also within one
// context, so the transports of a harness can live side by side in this page.
transportContract('BroadcastChannel', () => ({
  addressed: false,
  connect: (nodeIds) => {
    const channel = freshChannel();
    return Promise.resolve(nodeIds.map(() => new BroadcastTransport(channel)));
  },
}));

describe('BroadcastTransport specifics', () => {
  const until = async (condition: () => boolean) => expect.poll(condition).toBe(true);

  it('names the channel as the link and sends only the bytes of a view', async () => {
    const channel = freshChannel();
    const [a, b] = [new BroadcastTransport(channel), new BroadcastTransport(channel)];
    const got: { bytes: Uint8Array; link: string }[] = [];
    b.onMessage((bytes, link) => got.push({ bytes, link }));
    const backing = new Uint8Array([9, 9, 1, 2, 3, 9]);
    a.send(backing.subarray(2, 5));
    await until(() => got.length === 1);
    expect([...got[0]!.bytes]).toEqual([1, 2, 3]);
    expect(got[0]!.bytes.buffer.byteLength).toBe(3);
    expect(got[0]!.link).toBe(channel);
    await Promise.all([a.close(), b.close()]);
  });

  it('drops what is not bytes, counts it, and keeps going', async () => {
    const channel = freshChannel();
    const receiver = new BroadcastTransport(channel);
    const got: number[][] = [];
    receiver.onMessage((bytes) => got.push([...bytes]));
    const hostile = new BroadcastChannel(channel);
    for (const junk of ['text', { a: 1 }, null, 42, [1, 2], new Uint16Array([1])]) hostile.postMessage(junk);
    hostile.postMessage(new Uint8Array([7]).buffer);
    hostile.postMessage(new Uint8Array([8]));
    await until(() => got.length === 2);
    expect(got).toEqual([[7], [8]]);
    expect(receiver.stats).toMatchObject({ received: 2, dropped: 6 });
    hostile.close();
    await receiver.close();
  });

  it('a throwing handler does not stop the others; sends that cannot be cloned are counted, not thrown', async () => {
    const channel = freshChannel();
    const [a, b] = [new BroadcastTransport(channel), new BroadcastTransport(channel)];
    const got: number[] = [];
    b.onMessage(() => {
      throw new Error('bad handler');
    });
    b.onMessage((bytes) => got.push(bytes[0]!));
    a.send(new Uint8Array([5]));
    await until(() => got.length === 1);
    const detached = new Uint8Array(new ArrayBuffer(4));
    structuredClone(detached.buffer, { transfer: [detached.buffer] });
    expect(() => a.send(detached)).not.toThrow();
    await Promise.all([a.close(), b.close()]);
    expect(() => a.send(new Uint8Array([1]))).not.toThrow();
  });
});
