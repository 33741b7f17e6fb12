import { OmMigrateError } from '../../src/errors.js';
import type { Step, StepContext } from '../../src/core/Step.js';

const NAME = 'openmetadata/stale-pipeline-runs';

/** Opt-in (--fix-stale-runs): runs stuck in "running" after Airflow died are marked failed, with an endDate. */
export const stalePipelineRunsStep: Step = {
  name: NAME,
  defaultTimeoutMs: 15 * 60_000,
  appliesTo: (input) => input.openmetadata !== undefined && input.fixStaleRuns,
  describe: () => 'mark pipeline runs stuck in "running" as failed',
  async run(ctx: StepContext) {
    const target = ctx.target('openmetadata');
    if (!target) throw new OmMigrateError('INTERNAL', `${NAME} planned without an OpenMetadata database`);
    const now = Date.now();
    const fixed = await target.dialect.openmetadata.failStaleRunningPipelines(now - ctx.config.staleAfterMs, now, { signal: ctx.signal });
    for (const run of fixed) ctx.log(`marked failed: ${run.pipelineName ?? run.entityFQNHash} run ${run.runId}`);
    return { detail: `${fixed.length} run(s) marked failed` };
  },
};
