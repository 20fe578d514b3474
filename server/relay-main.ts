/**
 * A relay on its own, as a process: `node --import tsx server/relay-main.ts [--host H]
 * [--port N] [--key FILE] [--unlimited]`. Prints one JSON line `{"peerId", "multiaddrs"}`
 * when it listens, then runs until SIGINT/SIGTERM. Tests start it (global setup; the
 * resilience tests kill and restart it); `npm start` runs the same relay in-process.
 */
import './runtime.js';
import { parseArgs } from 'node:util';
import { loadOrCreateLibp2pKey } from './libp2p-key.js';
import { startRelay } from './relay.js';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '0' },
    key: { type: 'string' },
    unlimited: { type: 'boolean', default: false },
  },
});
const privateKey = values.key === undefined ? undefined : (await loadOrCreateLibp2pKey(values.key)).privateKey;
const relay = await startRelay({
  host: values.host,
  port: Number(values.port),
  unlimited: values.unlimited,
  ...(privateKey ? { privateKey } : {}),
});
process.stdout.write(JSON.stringify({ peerId: relay.peerId, multiaddrs: relay.multiaddrs() }) + '\n');
const stop = (): void => {
  void relay.stop().finally(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
