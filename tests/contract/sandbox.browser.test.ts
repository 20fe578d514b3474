import { describe, expect, it } from 'vitest';
import { WorkerSandbox } from '../../adapters/browser/worker-sandbox.js';
import { CONTRACT_LIMITS, output, request, sandboxContract } from './sandbox-contract.js';

const createWorker = () =>
  new Worker(new URL('../../workers/sandbox.worker.ts', import.meta.url), { type: 'module', name: 'naos-sandbox' });

sandboxContract('Web Worker (Chromium)', () => new WorkerSandbox(createWorker, CONTRACT_LIMITS));

describe('Web Worker sandbox: the watchdog', () => {
  it('terminates a worker stuck inside long built-in calls and carries on in a new one', async () => {
    const sandbox = new WorkerSandbox(createWorker, { cpuMs: 20, watchdogMs: 400 });
    try {
      await sandbox.start();
      // Each fill is one long built-in call; the interrupt handler is consulted only every
      // ten thousand bytecodes, so this overshoots its CPU deadline by seconds.
      const stuck = await sandbox.run(request('function step() { for (;;) Array(1e5).fill(0); }'));
      expect(stuck.ok ? 'ok' : stuck.fault).toMatchObject({ kind: 'cpu', message: expect.stringMatching(/watchdog/) as unknown });
      expect(sandbox.stats().replaced).toBe(1);
      expect(output(await sandbox.run(request('function step(s) { return { state: s }; }')))).toEqual({ state: { n: 1 } });
    } finally {
      await sandbox.close();
    }
  });

  it('ends a step in progress as a crash when the worker is killed', async () => {
    const sandbox = new WorkerSandbox(createWorker, { cpuMs: 5_000, watchdogMs: 10_000 });
    try {
      await sandbox.start();
      const running = sandbox.run(request('function step() { for (;;) {} }'));
      setTimeout(() => sandbox.kill(), 50);
      const outcome = await running;
      expect(outcome.ok ? 'ok' : outcome.fault.kind).toBe('crash');
      expect(output(await sandbox.run(request('function step(s) { return { state: s }; }')))).toEqual({ state: { n: 1 } });
    } finally {
      await sandbox.close();
    }
  });
});
