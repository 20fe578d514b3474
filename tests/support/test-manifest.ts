import type { Manifest } from '../../src/federation/messages.js';

/** The manifest test nodes announce (platform-free: browser and Node tests share it). */
export const TEST_MANIFEST: Manifest = {
  region: 'test',
  shard: 'test-0',
  types: ['pod-host'],
  capabilities: [],
  trust: 'experimental',
  started: 0,
  software: 'naos-test',
};
