import { finding, Finding, Gate, GateContext } from '../src/core/Gate.js';

const GATE = 'stale-runs';
const LISTED = 10;

/** Ingestion pipeline runs left "running" after Airflow died stay so forever unless someone updates them. */
export const staleRunsGate: Gate = {
  id: GATE,
  title: 'Stale pipeline runs',
  async check(ctx: GateContext): Promise<Finding[]> {
    const om = ctx.targets.find((t) => t.role === 'openmetadata');
    if (!om) return [];
    const hours = Math.round((ctx.config.staleAfterMs / 3_600_000) * 10) / 10;
    const stale = await om.dialect.openmetadata.staleRunningPipelines(ctx.now - ctx.config.staleAfterMs);
    if (stale.length === 0) return [finding(GATE, 'openmetadata', 'ok', `no pipeline run has been "running" for more than ${hours}h`)];
    const names = stale.slice(0, LISTED).map((r) => r.pipelineName ?? r.entityFQNHash);
    const more = stale.length > LISTED ? ` and ${stale.length - LISTED} more` : '';
    return [finding(GATE, 'openmetadata', 'warn',
      `${stale.length} pipeline run(s) "running" for more than ${hours}h: ${names.join(', ')}${more}`,
      'They will never finish: let up mark them failed with --fix-stale-runs, or check Airflow first.',
      { count: stale.length, runs: stale.map((r) => ({ pipeline: r.pipelineName ?? null, hash: r.entityFQNHash, runId: r.runId, timestamp: r.timestamp })) })];
  },
};
