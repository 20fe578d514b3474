import { runAgentBenchmarks } from './agents.js';

/** Exposes the benchmarks that need the running app (globalThis.naos) to the driver. */
(globalThis as unknown as { naosAppBench: unknown }).naosAppBench = { runAgentBenchmarks };
