import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChangeScheduler, oneAtATime, UI_REFRESH_MS } from '../../web/controllers/change-scheduler.js';

/** Just enough of a Document: its visibility and the visibilitychange event. */
class FakeDocument extends EventTarget {
  visibilityState: 'visible' | 'hidden' = 'visible';
  show(state: 'visible' | 'hidden'): void {
    this.visibilityState = state;
    this.dispatchEvent(new Event('visibilitychange'));
  }
}

describe('ChangeScheduler', () => {
  let doc: FakeDocument;
  let refreshes: number;
  let scheduler: ChangeScheduler;
  beforeEach(() => {
    vi.useFakeTimers();
    doc = new FakeDocument();
    refreshes = 0;
    scheduler = new ChangeScheduler(() => refreshes++, doc as unknown as Document);
  });
  afterEach(() => {
    scheduler.stop();
    vi.useRealTimers();
  });

  it('collapses a burst of changes into one refresh UI_REFRESH_MS after the first', () => {
    for (let i = 0; i < 50; i++) scheduler.changed();
    vi.advanceTimersByTime(UI_REFRESH_MS - 1);
    expect(refreshes).toBe(0);
    vi.advanceTimersByTime(1);
    expect(refreshes).toBe(1);
    scheduler.changed();
    vi.advanceTimersByTime(UI_REFRESH_MS);
    expect(refreshes).toBe(2);
  });

  it('refreshes nothing while the page is hidden, then once when it is shown', () => {
    doc.show('hidden');
    for (let i = 0; i < 10; i++) scheduler.changed();
    scheduler.tick();
    vi.advanceTimersByTime(10 * UI_REFRESH_MS);
    expect(refreshes).toBe(0);
    doc.show('visible');
    expect(refreshes).toBe(1);
    doc.show('hidden');
    doc.show('visible');
    expect(refreshes).toBe(1); // nothing changed meanwhile
  });

  it('a change pending when the page is hidden waits for it to be shown', () => {
    scheduler.changed();
    doc.show('hidden');
    vi.advanceTimersByTime(UI_REFRESH_MS);
    expect(refreshes).toBe(0);
    doc.show('visible');
    expect(refreshes).toBe(1);
  });

  it('ticks refresh at once when visible', () => {
    scheduler.tick();
    expect(refreshes).toBe(1);
  });

  it('does nothing after stop', () => {
    scheduler.changed();
    scheduler.stop();
    vi.advanceTimersByTime(UI_REFRESH_MS);
    doc.show('hidden');
    scheduler.changed();
    doc.show('visible');
    expect(refreshes).toBe(0);
  });
});

describe('oneAtATime', () => {
  it('runs one at a time; calls made meanwhile collapse into one more run with the latest arguments', async () => {
    const started: string[] = [];
    const finish: (() => void)[] = [];
    const read = oneAtATime(async (what: string) => {
      started.push(what);
      await new Promise<void>((resolve) => finish.push(resolve));
    });
    const first = read('a');
    await read('b');
    await read('c');
    expect(started).toEqual(['a']);
    finish.shift()!();
    await vi.waitFor(() => expect(started).toEqual(['a', 'c']));
    finish.shift()!();
    await first;
    expect(started).toEqual(['a', 'c']);
    // Idle again: the next call runs at once, and a run that throws lets the following ones run.
    const failing = oneAtATime((n: number) => {
      started.push(`fail ${n}`);
      return Promise.reject(new Error('read failed'));
    });
    await expect(failing(1)).rejects.toThrow('read failed');
    await expect(failing(2)).rejects.toThrow('read failed');
    expect(started.slice(-2)).toEqual(['fail 1', 'fail 2']);
  });
});
