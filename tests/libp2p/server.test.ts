import '../../server/runtime.js';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { Kernel } from '../../src/kernel/kernel.js';
import { MemoryLedgerStore } from '../../src/storage/memory-store.js';
import { DEFAULTS, parseServerConfig, type ServerConfig, ServerConfigError } from '../../server/config.js';
import { NodeFederation } from '../../server/node-federation.js';
import { PEERS_JSON_PATH, peersJsonMiddleware } from '../../server/peers-json.js';
import { startServices } from '../../server/services.js';
import { createTestNode, dial, TEST_MANIFEST, type TestNode, until } from '../support/libp2p-nodes.js';

/**
 * What `npm start` runs besides the static server: the relay, the always-on peer over its
 * durable store, and /.well-known/peers.json — started here on free ports and a
 * temporary data dir, and used by real libp2p nodes.
 */

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'naos-server-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function config(dataDir: string): ServerConfig {
  return { host: '127.0.0.1', port: 4173, relayPort: 0, peerPort: 0, dataDir, bootstrap: [], iceServers: [] };
}

async function browserLike(): Promise<{ node: TestNode; kernel: Kernel }> {
  const node = await createTestNode();
  const kernel = await Kernel.open({ store: new MemoryLedgerStore(), signer: node.signer, now: Date.now });
  const federation = await NodeFederation.start({
    kernel,
    signer: node.signer,
    manifest: TEST_MANIFEST,
    transports: [node.transport],
    tickMs: 50,
  });
  cleanups.push(async () => {
    await federation.close();
    await node.stop();
  });
  return { node, kernel };
}

describe('npm start services', () => {
  it('the always-on peer replicates every log, bridges nodes that never meet, and keeps it all across a restart', async () => {
    const dataDir = await tempDir();
    const logs: string[] = [];
    const services = await startServices(config(dataDir), (line) => logs.push(line));
    cleanups.push(() => services.stop());
    const document = services.peersDocument();
    expect(document).toMatchObject({
      v: 1,
      network: 'naos',
      protocols: { handshake: '/naos/handshake/1.0.0', sync: '/naos/sync/1.0.0' },
      relays: [{ peerId: services.relay!.peerId }],
      peers: [{ peerId: services.peer!.peerId, nodeId: services.peer!.nodeId, types: ['pod-host', 'bridge'], region: 'local' }],
      iceServers: [],
    });
    for (const address of [...document.relays[0]!.multiaddrs, ...document.peers[0]!.multiaddrs])
      expect(address).toMatch(/\/p2p\/12D3Koo\w+$/);
    // Every address is printed.
    for (const address of [...services.relay!.multiaddrs(), ...services.peer!.multiaddrs()]) expect(logs.join('\n')).toContain(address);

    // Two nodes that only ever connect to the always-on peer still get each other's logs.
    const [x, y] = [await browserLike(), await browserLike()];
    const peerAddress = document.peers[0]!.multiaddrs.find((a) => !a.includes('p2p-circuit'))!;
    await dial(x.node, peerAddress);
    await dial(y.node, peerAddress);
    await x.kernel.appendMany(['x1', 'x2']);
    await y.kernel.append('y1');
    const always = services.peer!.node.kernel;
    await until(
      () => always.stateRoot() === x.kernel.stateRoot() && x.kernel.stateRoot() === y.kernel.stateRoot() && always.heads().length >= 3,
      'all three to converge',
    );
    const held = always.heads();
    await services.stop();

    const again = await startServices(config(dataDir), () => undefined);
    cleanups.push(() => again.stop());
    expect(again.peer!.nodeId).toBe(services.peer!.nodeId);
    expect(again.peer!.peerId).toBe(services.peer!.peerId);
    expect(again.relay!.peerId).toBe(services.relay!.peerId);
    expect(again.peer!.node.kernel.heads()).toEqual(held);
    expect(again.peer!.node.kernel.status().state).toBe('ok');
  });

  it('serves /.well-known/peers.json over HTTP: fresh, uncached, readable from any origin', async () => {
    const document = {
      v: 1 as const,
      network: 'naos' as const,
      protocols: { handshake: 'h', sync: 's' },
      relays: [],
      peers: [],
      iceServers: [],
      generated: 'now',
    };
    const middleware = peersJsonMiddleware(() => document);
    const server = createServer((request, response) => middleware(request, response, () => response.writeHead(404).end()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const response = await fetch(`${base}${PEERS_JSON_PATH}?x=1`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(await response.json()).toEqual(document);
    expect((await fetch(`${base}${PEERS_JSON_PATH}`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${base}/.well-known/other.json`)).status).toBe(404);
  });
});

describe('npm start configuration', () => {
  const parse = (argv: string[], env: Record<string, string> = {}) => parseServerConfig(argv, env, '/repo');
  const config = (argv: string[], env: Record<string, string> = {}): ServerConfig => {
    const parsed = parse(argv, env);
    if (parsed === 'help') throw new Error('unexpected help');
    return parsed;
  };

  it('has local defaults that need no internet', () => {
    expect(parse([])).toEqual({
      host: '127.0.0.1',
      port: DEFAULTS.port,
      relayPort: DEFAULTS.relayPort,
      peerPort: DEFAULTS.peerPort,
      dataDir: '/repo/.naos/server',
      bootstrap: [],
      iceServers: [],
    });
  });

  it('takes flags over the environment', () => {
    const env = { PORT: '8000', RELAY_PORT: '8001', PEER_PORT: '8002', NAOS_DATA: 'd', NAOS_HOST: '::1' };
    expect(parse([], env)).toMatchObject({ host: '::1', port: 8000, relayPort: 8001, peerPort: 8002, dataDir: '/repo/d' });
    expect(parse(['--port', '9000', '--relay-port', '0', '--peer-port', '0', '--data', '/abs'], env)).toMatchObject({
      port: 9000,
      relayPort: 0,
      peerPort: 0,
      dataDir: '/abs',
    });
    expect(parse(['--no-relay'], { NAOS_PEER: 'off' })).toMatchObject({ relayPort: undefined, peerPort: undefined });
    expect(parse(['--help'])).toBe('help');
  });

  it('parses bootstrap addresses and STUN/TURN servers, and refuses nonsense', () => {
    const relay = '/ip4/10.0.0.1/tcp/4177/ws/p2p/12D3KooWLMa3xjvJjW3q7iWzvwTk1WvPnSY4Kqv5qM9XfKdjKDiZ';
    expect(config(['--bootstrap', relay], { NAOS_BOOTSTRAP: `${relay}, ${relay}` }).bootstrap).toEqual([relay, relay, relay]);
    expect(config([], { NAOS_ICE_SERVERS: 'stun:stun.example:3478' }).iceServers).toEqual([{ urls: 'stun:stun.example:3478' }]);
    expect(config(['--ice-servers', '[{"urls":["turn:t.example"],"username":"u","credential":"c"}]']).iceServers).toEqual([
      { urls: ['turn:t.example'], username: 'u', credential: 'c' },
    ]);
    for (const [argv, env] of [
      [['--port', '0'], {}],
      [['--port', '70000'], {}],
      [[], { RELAY_PORT: 'x' }],
      [['--bootstrap', '/ip4/1.2.3.4/tcp/1/ws'], {}],
      [['--ice-servers', 'http://nope'], {}],
      [['--ice-servers', '[{"url":"stun:x"}]'], {}],
      [['--unknown'], {}],
      [['--host', 'a b'], {}],
    ] as [string[], Record<string, string>][]) {
      expect(() => parse(argv, env), argv.join(' ') + JSON.stringify(env)).toThrow(ServerConfigError);
    }
  });

  it('scripts/start.js prints its usage, and refuses a bad flag with exit code 2', async () => {
    const run = promisify(execFile);
    const { stdout } = await run(process.execPath, ['scripts/start.js', '--help']);
    expect(stdout).toContain('--relay-port');
    const failed = (await run(process.execPath, ['scripts/start.js', '--relay-port', 'x']).then(
      () => ({ code: 0, stderr: '' }),
      (error: unknown) => error,
    )) as { code: number; stderr: string };
    expect(failed.code).toBe(2);
    expect(failed.stderr).toContain('RELAY_PORT / --relay-port must be an integer');
  });
});
