import { OmMigrateError } from '../../src/errors.js';
import type { Step, StepContext } from '../../src/core/Step.js';

const NAME = 'airflow/repair-uuid-pk';

/**
 * The repair of a half-applied d59cbbef95eb, as the first step of up: the run lock is held and the backup of this
 * run is verified by the time it runs. It re-reads the schema itself: what the plan saw may have moved on.
 */
export const repairUuidPkStep: Step = {
  name: NAME,
  defaultTimeoutMs: 2 * 3_600_000,
  appliesTo: (input) => input.airflowNeedsRepair,
  describe: () => 'bring task_instance back to revision 05234396c6fc (half-applied d59cbbef95eb)',
  async run(ctx: StepContext) {
    const target = ctx.target('airflow');
    if (!target) throw new OmMigrateError('INTERNAL', `${NAME} planned without an Airflow database`);
    const { detectAirflowState, planRepair, runRepair } = ctx.tools.airflow;
    const state = await detectAirflowState(target.dialect);
    if (state.kind !== 'half-applied') return { detail: `nothing to repair: ${state.summary}` };
    const plan = planRepair(state, target.dialect.airflowRepair, { backupVerified: true });
    const result = await runRepair(target.dialect, plan, {
      onAction: (action, i, total) => ctx.log(`[${i + 1}/${total}] ${action.description}`),
      signal: ctx.signal,
      observer: await ctx.admin('airflow'),
    });
    return { detail: `${plan.actions.length} repair action(s); ${result.after.summary}` };
  },
};
