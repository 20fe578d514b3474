import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/**
 * A relay in a child process (server/relay-main.ts), so a test can kill it for real
 * (SIGKILL: no goodbye to anyone) and start it again on the same port with the same key.
 */
export interface RelayProcess {
  readonly peerId: string;
  readonly multiaddrs: readonly string[];
  readonly child: ChildProcess;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export async function startRelayProcess(options: { port?: number; key?: string; unlimited?: boolean } = {}): Promise<RelayProcess> {
  const args = ['--import', 'tsx', 'server/relay-main.ts', '--port', String(options.port ?? 0)];
  if (options.key) args.push('--key', options.key);
  if (options.unlimited) args.push('--unlimited');
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout });
  const first = await Promise.race([
    once(lines, 'line').then(([line]) => line as string),
    once(child, 'exit').then(([code]) => {
      throw new Error(`relay process exited with ${String(code)} before listening: ${stderr}`);
    }),
  ]);
  const { peerId, multiaddrs } = JSON.parse(first) as { peerId: string; multiaddrs: string[] };
  return {
    peerId,
    multiaddrs,
    child,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill(signal);
      await exited;
    },
  };
}
