import { startRelayProcess } from './relay-process.js';

/**
 * Global setup of the Node test project (the js-libp2p convention): one relay for the
 * tests that need one, its address passed by env (NAOS_TEST_RELAY). It relays without
 * the default data/time limits, so Node peers can sync through it.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const relay = await startRelayProcess({ unlimited: true });
  process.env['NAOS_TEST_RELAY'] = relay.multiaddrs[0]!;
  return () => relay.kill();
}
