import { describe, expect, it } from 'vitest';
import { CHROMIUM_FLAGS, chromiumFlags, sharedMemoryFlags } from '../../scripts/chromium.js';

/** Chromium with many tabs needs shared memory: on a host short of it, it is told to use /tmp. */
describe('sharedMemoryFlags', () => {
  const free = (bytes: number) => () => ({ bavail: bytes / 4096, bsize: 4096 });

  it('adds --disable-dev-shm-usage when /dev/shm has less than 3.8 GB free (a container’s 64 MB)', () => {
    expect(sharedMemoryFlags(free(64 * 1024 * 1024))).toEqual(['--disable-dev-shm-usage']);
  });

  it('adds nothing when there is room', () => {
    expect(sharedMemoryFlags(free(24e9))).toEqual([]);
  });

  it('adds it when /dev/shm cannot be read at all', () => {
    expect(
      sharedMemoryFlags(() => {
        throw new Error('ENOENT');
      }),
    ).toEqual(['--disable-dev-shm-usage']);
  });

  it('chromiumFlags keeps every fixed flag', () => {
    expect(chromiumFlags().slice(0, CHROMIUM_FLAGS.length)).toEqual(CHROMIUM_FLAGS);
  });
});
