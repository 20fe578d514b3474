import { InvalidInputError } from '../errors.js';

/**
 * Hybrid logical clock (Kulkarni et al.): wall-clock milliseconds plus a counter that
 * keeps timestamps strictly increasing when the wall clock stalls or runs behind a peer.
 * Pure: the wall clock reading is always passed in.
 */
export interface Hlc {
  readonly wall: number;
  readonly count: number;
}

export const HLC_ZERO: Hlc = { wall: 0, count: 0 };

/** The next local timestamp after `last`, given the wall clock reads `now`. */
export function hlcTick(last: Hlc, now: number): Hlc {
  const wall = Math.max(last.wall, Math.floor(now));
  return { wall, count: wall === last.wall ? last.count + 1 : 0 };
}

/** The local clock after seeing a peer's timestamp `remote`. */
export function hlcReceive(last: Hlc, remote: Hlc, now: number): Hlc {
  const wall = Math.max(last.wall, remote.wall, Math.floor(now));
  let count = 0;
  if (wall === last.wall && wall === remote.wall) count = Math.max(last.count, remote.count) + 1;
  else if (wall === last.wall) count = last.count + 1;
  else if (wall === remote.wall) count = remote.count + 1;
  return { wall, count };
}

export function hlcCompare(a: Hlc, b: Hlc): number {
  return a.wall - b.wall || a.count - b.count;
}

/** `wall.count`, for messages. */
function hlcText(time: Hlc): string {
  return `${time.wall}.${time.count}`;
}

/** Why `time` may not follow `previous` in one author's log (its times must rise), or undefined if it may. */
export function timeRegression(index: number, time: Hlc, previous: Hlc | undefined): string | undefined {
  if (previous === undefined || hlcCompare(time, previous) > 0) return undefined;
  return `entry ${index} is dated ${hlcText(time)}, not after entry ${index - 1} (${hlcText(previous)})`;
}

export function assertHlc(value: unknown, what: string): asserts value is Hlc {
  const v = value as Partial<Hlc> | null;
  if (
    typeof v !== 'object' ||
    v === null ||
    !Number.isSafeInteger(v.wall) ||
    !Number.isSafeInteger(v.count) ||
    v.wall! < 0 ||
    v.count! < 0
  ) {
    throw new InvalidInputError(`${what} must be {wall, count} with non-negative integers`);
  }
}
