import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type RelayProcess, startRelayProcess } from '../support/relay-process.js';

/**
 * `npm start` of its own for the cross-browser tests: the app, peers.json and an
 * always-on peer (own data dir), with the relay in a separate process
 * (`--no-relay --bootstrap <relay>`) so a test can kill the relay and start it again on
 * the same port with the same key. The relay is listed in peers.json either way.
 */
export interface FederationServer {
  readonly url: string;
  readonly relayAddress: string;
  /** SIGKILLs the relay (no goodbye to anyone). */
  killRelay(): Promise<void>;
  /** Starts the relay again: same port, same key, so the same address. */
  restartRelay(): Promise<void>;
  peerStatus(): Promise<PeerStatusJson>;
  stop(): Promise<void>;
}

export interface PeerStatusJson {
  readonly nodeId: string;
  readonly peerId: string;
  readonly stateRoot: string;
  readonly heads: { origin: string; size: number }[];
  readonly flagged: { origin: string; author: string }[];
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startFederationServer(port: number): Promise<FederationServer> {
  const dir = await mkdtemp(join(tmpdir(), 'naos-e2e-federation-'));
  const relayKey = join(dir, 'relay.key');
  const relayPort = await freePort();
  let relay: RelayProcess = await startRelayProcess({ port: relayPort, key: relayKey });
  const relayAddress = relay.multiaddrs[0]!;
  const app: ChildProcess = spawn(
    process.execPath,
    [
      'scripts/start.js',
      '--port',
      String(port),
      '--no-relay',
      '--bootstrap',
      relayAddress,
      '--peer-port',
      '0',
      '--data',
      join(dir, 'server'),
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  app.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const lines = createInterface({ input: app.stdout! });
  lines.on('line', (line) => (output += line + '\n'));
  const url = `http://127.0.0.1:${port}`;
  await Promise.race([
    new Promise<void>((resolve) => lines.on('line', (line) => line.startsWith('Naos is served at') && resolve())),
    once(app, 'exit').then(([code]) => {
      throw new Error(`npm start exited with ${String(code)}:\n${output}`);
    }),
  ]);
  return {
    url,
    relayAddress,
    killRelay: () => relay.kill('SIGKILL'),
    async restartRelay() {
      relay = await startRelayProcess({ port: relayPort, key: relayKey });
      if (relay.multiaddrs[0] !== relayAddress) throw new Error(`the relay came back as ${relay.multiaddrs[0]}, not ${relayAddress}`);
    },
    async peerStatus() {
      const response = await fetch(`${url}/.well-known/naos/peer.json`);
      if (!response.ok) throw new Error(`peer.json answered ${response.status}`);
      return (await response.json()) as PeerStatusJson;
    },
    async stop() {
      if (app.exitCode === null && app.signalCode === null) {
        const exited = once(app, 'exit');
        app.kill('SIGTERM');
        await exited;
      }
      await relay.kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The equivocating twins (tests/support/equivocator.ts) against the always-on peer. */
export async function startEquivocator(peerAddress: string): Promise<{ origin: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'tests/support/equivocator.ts', '--peer', peerAddress], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout });
  const steps: { step: string; origin?: string }[] = [];
  await Promise.race([
    new Promise<void>((resolve) =>
      lines.on('line', (line) => {
        steps.push(JSON.parse(line) as { step: string });
        if (steps.some((s) => s.step === 'b-linked')) resolve();
      }),
    ),
    once(child, 'exit').then(([code]) => {
      throw new Error(`the equivocator exited with ${String(code)}: ${stderr}`);
    }),
  ]);
  const origin = steps.find((s) => s.step === 'a-synced')?.origin;
  if (!origin) throw new Error(`the equivocator reported no origin: ${JSON.stringify(steps)}`);
  return {
    origin,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}
