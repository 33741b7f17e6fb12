import type { Dialect } from '../dialects/types.js';
import { OmMigrateError } from '../errors.js';
import { AirflowState, detectAirflowState } from './detectAirflowState.js';
import type { RepairAction, RepairPlan } from './planRepair.js';

export interface RunRepairOptions {
  /** Called before each action runs, so the caller can print it; in a transactional plan, before the transaction. */
  onAction?: (action: RepairAction, index: number, total: number) => void;
}

export interface RepairResult {
  actions: RepairAction[];
  before: AirflowState;
  after: AirflowState;
  durationMs: number;
}

/**
 * Runs a plan, then checks the database has the shape the plan promised. Interrupted, it leaves a state that
 * detectAirflowState + planRepair continue from. Prints nothing.
 */
export async function runRepair(dialect: Dialect, plan: RepairPlan, options: RunRepairOptions = {}): Promise<RepairResult> {
  const started = Date.now();
  const total = plan.actions.length;
  try {
    if (plan.transactional) {
      plan.actions.forEach((action, i) => options.onAction?.(action, i, total));
      await dialect.airflowRepair.execute(plan.actions.flatMap((a) => a.sql), { transaction: true });
    } else {
      for (const [i, action] of plan.actions.entries()) {
        options.onAction?.(action, i, total);
        await dialect.airflowRepair.execute(action.sql, { transaction: false });
      }
    }
  } catch (error) {
    throw new OmMigrateError('STEP_FAILED', `Airflow repair failed: ${(error as Error).message}`, {
      cause: error,
      hint: plan.transactional
        ? 'Nothing was changed (one transaction). Fix the cause and run repair-airflow again.'
        : 'The actions before this one are done; fix the cause and run repair-airflow again: it continues from here.',
    });
  }
  const after = await detectAirflowState(dialect);
  const shapeOk = after.kind === plan.expect && (plan.expect !== 'fully-migrated' || after.facts.malformedIdCount === 0);
  if (!shapeOk) {
    throw new OmMigrateError('STEP_FAILED', `Airflow repair ran but the database is not as expected: ${after.summary}`, {
      details: { expected: plan.expect, found: after.kind, damage: after.damage },
    });
  }
  return { actions: plan.actions, before: plan.state, after, durationMs: Date.now() - started };
}
