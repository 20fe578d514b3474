/**
 * The meta-agent `agent:federation-health-monitor::node-<id>` (F23), run by every node by
 * default. It is an ordinary sandboxed program with one right, `health.report`: it reads
 * the metrics the kernel sends it and writes health reports and alerts as ledger entries.
 * It holds no task right, so any task effect it asked for would be refused and recorded.
 */
export const HEALTH_MONITOR_NAME = 'federation-health-monitor';

export interface FederationMetrics {
  readonly type: 'metrics';
  /** Peers currently connected. */
  readonly peers: number;
  /** Of those, how many announced the same state root as this node. */
  readonly rootsInAgreement: number;
  /** Largest time since a peer's root last agreed with ours, ms (0 when all agree). */
  readonly syncLagMs: number;
  /** Refusals counted since the previous report: sync rejections plus agent refusals. */
  readonly refusals: number;
}

export const HEALTH_MONITOR_SOURCE = `// agent:federation-health-monitor — watches federation health; executes no tasks.
const LAG_ALERT_MS = 30000;
const REFUSAL_ALERT = 20;

function assess(m) {
  const problems = [];
  if (m.peers > 0 && m.rootsInAgreement < m.peers) problems.push('roots-disagree');
  if (m.syncLagMs > LAG_ALERT_MS) problems.push('sync-lagging');
  if (m.refusals >= REFUSAL_ALERT) problems.push('refusal-spike');
  return { status: problems.length === 0 ? 'healthy' : problems.length === 1 ? 'degraded' : 'unhealthy', problems };
}

function step(state, message, ctx) {
  if (!message || message.type !== 'metrics') return { state };
  const { status, problems } = assess(message);
  const report = {
    status,
    problems,
    peers: message.peers,
    rootsInAgreement: message.rootsInAgreement,
    syncLagMs: message.syncLagMs,
    refusals: message.refusals,
    sample: (state.samples || 0) + 1,
  };
  const effects = [{ type: 'report', report }];
  const previous = state.status || 'healthy';
  if (status !== 'healthy' && status !== previous) effects.push({ type: 'alert', alert: { status, problems, since: report.sample } });
  if (status === 'healthy' && previous !== 'healthy') effects.push({ type: 'alert', alert: { status: 'recovered', problems: [], since: report.sample } });
  return { state: { status, samples: report.sample, alerts: (state.alerts || 0) + effects.length - 1 }, effects };
}
`;
