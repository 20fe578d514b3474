import type { Bench } from 'tinybench';

export interface BenchRow {
  readonly group: string;
  readonly name: string;
  readonly unit: 'µs' | 'ms' | 'entries/s' | 'ratio' | 'B' | 'count' | '%';
  readonly value: number;
  /** Optional spread for timed rows (p99 in the same unit). */
  readonly p99?: number;
  readonly samples?: number;
}

/** tinybench results as rows in µs (mean and p99 of the per-call latency). */
export function summarize(group: string, bench: Bench): BenchRow[] {
  return bench.tasks.map((task) => {
    const result = task.result as { latency?: { mean: number; p99?: number; samplesCount?: number } } | undefined;
    const latency = result?.latency;
    if (!latency) throw new Error(`benchmark "${task.name}" produced no result`);
    return {
      group,
      name: task.name,
      unit: 'µs',
      value: latency.mean * 1000,
      ...(latency.p99 === undefined ? {} : { p99: latency.p99 * 1000 }),
      ...(latency.samplesCount === undefined ? {} : { samples: latency.samplesCount }),
    };
  });
}
