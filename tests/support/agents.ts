import { InProcessSandbox } from '../../adapters/quickjs/in-process-sandbox.js';
import { AgentHost, type AgentHostOptions, type StepResult } from '../../src/agents/agent-host.js';
import { seedSigner } from '../../src/crypto/ed25519.js';
import { stateHash } from '../../src/agents/state-hash.js';
import { Kernel } from '../../src/kernel/kernel.js';
import type { JsonValue } from '../../src/ledger/json-value.js';
import type { SandboxLimits } from '../../src/sandbox/sandbox.js';
import { MemoryLedgerStore } from '../../src/storage/memory-store.js';

/** Short limits so hostile programs end quickly on a 2-core machine. */
export const TEST_LIMITS: Partial<SandboxLimits> = { cpuMs: 40, watchdogMs: 1_000, memoryBytes: 24 * 1024 * 1024 };

export const COUNTER = `function step(state, message) {
  const n = (state.n || 0) + (message.by || 1);
  return { state: { n } };
}`;

let clock = 1_000_000;

/** A kernel over a memory store with its own key and an agent host over an in-process sandbox. */
export async function agentNode(seed: number, options: Partial<Omit<AgentHostOptions, 'kernel'>> = {}) {
  const kernel = await Kernel.open({
    store: new MemoryLedgerStore(),
    signer: seedSigner(new Uint8Array(32).fill(seed)),
    now: () => clock++,
  });
  const sandbox = options.sandbox ?? new InProcessSandbox(TEST_LIMITS);
  const host = new AgentHost({ kernel, ...options, sandbox });
  return { kernel, sandbox, host };
}

export function committed(result: StepResult): Extract<StepResult, { status: 'committed' }> {
  if (result.status !== 'committed') throw new Error(`expected a committed step, got ${result.fault.kind}: ${result.fault.message}`);
  return result;
}

export function rolledBack(result: StepResult): Extract<StepResult, { status: 'rolled-back' }> {
  if (result.status !== 'rolled-back')
    throw new Error(`expected a rollback, got a committed step with state ${JSON.stringify(result.state)}`);
  return result;
}

/**
 * An `agent.step` record as a misbehaving host writes it with `kernel.appendEntries`,
 * outside the agent host: step `step` of epoch `epoch`, from the state whose hash is
 * `prevHash` to `state` (with its true hash, so only the chain or a re-execution tells).
 */
export function stepRecord(record: {
  agent: string;
  step: number;
  prevHash: string;
  state: JsonValue;
  epoch?: number;
  message?: JsonValue;
}) {
  const { agent, step, prevHash, state, epoch = 0, message = {} } = record;
  return {
    kind: 'agent.step',
    value: { agent, epoch, step, message, prevHash, state, stateHash: stateHash(state), effects: [], modules: {} },
  };
}
