import { describe, expect, it } from 'vitest';
import { SerialInbox } from '../../src/federation/inbox.js';

describe('SerialInbox', () => {
  it('hands messages over one at a time, in arrival order, and carries on past a handler that throws', async () => {
    const log: string[] = [];
    let running = 0;
    const inbox = new SerialInbox(async (bytes, link) => {
      running++;
      expect(running).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 2));
      log.push(`${link}:${bytes[0]}`);
      running--;
      if (bytes[0] === 2) throw new Error('an engine bug');
    });
    for (let i = 1; i <= 4; i++) inbox.push(new Uint8Array([i]), i % 2 ? 'a' : 'b');
    expect(inbox.queued).toBe(4);
    await inbox.close();
    expect(log).toEqual(['a:1', 'b:2', 'a:3', 'b:4']);
    expect(inbox.queued).toBe(0);
  });

  it('drops what arrives beyond its limit, and everything once closed', async () => {
    const seen: number[] = [];
    const inbox = new SerialInbox((bytes) => Promise.resolve(void seen.push(bytes[0]!)), 2);
    for (let i = 1; i <= 5; i++) inbox.push(new Uint8Array([i]), 'x');
    await inbox.close();
    inbox.push(new Uint8Array([9]), 'x');
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(seen).toEqual([1, 2]);
  });
});
