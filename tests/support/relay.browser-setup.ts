import type { TestProject } from 'vitest/node';
import { startRelayProcess } from './relay-process.js';

/**
 * Global setup of the browser test project: a relay (in its own process) for the tests
 * that signal WebRTC through one, its address handed to them with provide/inject
 * (`inject('naosRelay')`) — browser tests cannot read the Node environment.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const relay = await startRelayProcess();
  project.provide('naosRelay', relay.multiaddrs[0]!);
  return () => relay.kill();
}

declare module 'vitest' {
  export interface ProvidedContext {
    naosRelay: string;
  }
}
