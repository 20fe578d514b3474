import { WebrtcProvider } from 'y-webrtc';
import * as Y from 'yjs';

/**
 * The comparison in bench/tabs.bench.ts: a Yjs document replicated between the same tabs
 * by y-webrtc over its BroadcastChannel path (no signalling servers: the machine is
 * offline, and tabs of one browser need none). Injected into the app's tabs by the
 * benchmark; not part of the app.
 */
const doc = new Y.Doc();
const provider = new WebrtcProvider(`naos-bench-${location.port}`, doc, { signaling: [] });
const log = doc.getArray<number>('log');
const arrivals = new Map<number, number>();
const now = (): number => performance.timeOrigin + performance.now();

log.observe((event) => {
  for (const delta of event.changes.delta) {
    for (const item of (delta.insert as number[] | undefined) ?? []) if (!arrivals.has(item)) arrivals.set(item, now());
  }
});

(globalThis as unknown as { yjsProbe: unknown }).yjsProbe = {
  push(value: number): number {
    const t0 = now();
    log.push([value]);
    return t0;
  },
  arrival: (value: number): number | undefined => arrivals.get(value),
  length: (): number => log.length,
  destroy: (): void => provider.destroy(),
};
