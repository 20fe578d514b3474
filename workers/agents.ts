import { WorkerSandbox } from '../adapters/browser/worker-sandbox.js';
import { AgentHost } from '../src/agents/agent-host.js';
import type { Kernel } from '../src/kernel/kernel.js';
import type { SandboxLimits } from '../src/sandbox/sandbox.js';
import { AgentService } from './agent-service.js';
import type { FederationPort } from './federation.js';

export interface AgentsOptions {
  /** Shard-region of agents spawned here (the node manifest's region). */
  readonly shard?: string;
  readonly limits?: Partial<SandboxLimits>;
  /** How often the health monitor gets federation metrics; 0 turns the periodic report off. */
  readonly healthIntervalMs?: number;
}

/** Default period of health reports: once a minute keeps the ledger from filling with them. */
export const HEALTH_INTERVAL_MS = 60_000;

/**
 * Starts the node's agent runtime in the kernel worker: a Web Worker sandbox (created
 * here, by URL), the AgentHost over the kernel, and the federation health monitor, fed
 * every `healthIntervalMs` with metrics from the federation. With no peers and no
 * refusals there is nothing to watch and nothing is written.
 */
export function startAgents(
  kernel: Kernel,
  federation: FederationPort | undefined,
  options: AgentsOptions = {},
): { service: AgentService; stop: () => Promise<void> } {
  const sandbox = new WorkerSandbox(
    () => new Worker(new URL('./sandbox.worker.ts', import.meta.url), { type: 'module', name: 'naos-sandbox' }),
    options.limits,
  );
  const host = new AgentHost({ kernel, sandbox, ...(options.shard === undefined ? {} : { shard: agentShard(options.shard) }) });
  const agreedAt = new Map<string, number>();
  let lastRefusals = 0;
  const reportHealth = async () => {
    const now = Date.now();
    const root = kernel.stateRoot();
    const peers = federation?.peers() ?? [];
    let lag = 0;
    for (const peer of peers) {
      if (peer.stateRoot === root) agreedAt.set(peer.nodeId, now);
      else lag = Math.max(lag, now - (agreedAt.get(peer.nodeId) ?? peer.health.lastSeen));
    }
    const total = host.refusalCount + (federation?.rejections() ?? []).reduce((sum, r) => sum + r.count, 0);
    const refusals = total - lastRefusals;
    lastRefusals = total;
    if (peers.length === 0 && refusals === 0) return null;
    return host.reportMetrics({
      peers: peers.length,
      rootsInAgreement: peers.filter((p) => p.stateRoot === root).length,
      syncLagMs: lag,
      refusals,
    });
  };
  const interval = options.healthIntervalMs ?? HEALTH_INTERVAL_MS;
  const timer = interval > 0 ? setInterval(() => void reportHealth().catch(() => undefined), interval) : undefined;
  return {
    service: new AgentService(host, sandbox, reportHealth),
    async stop() {
      if (timer) clearInterval(timer);
      host.close();
      await sandbox.close();
    },
  };
}

/** A manifest region as an agent shard-region: lower case, characters outside [a-z0-9-] as `-`. */
export function agentShard(region: string): string {
  const shard = region
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 63);
  return /^[a-z0-9]/.test(shard) ? shard : `r${shard.slice(0, 62)}`;
}
