import type { Dialect } from '../dialects/types.js';
import { OmMigrateError } from '../errors.js';
import { AirflowState, detectAirflowState } from './detectAirflowState.js';
import { assertNoMigrationRunning } from './migrationActivity.js';
import { DATA_ACTIONS, planRepair, type RepairAction, type RepairPlan } from './planRepair.js';

export interface RunRepairOptions {
  /** Called before each action runs, so the caller can print it; in a transactional plan, before the transaction. */
  onAction?: (action: RepairAction, index: number, total: number) => void;
  /**
   * Aborted by SIGINT/SIGTERM or a lost run lock: the running statement is cancelled on the server (it may be waiting
   * for a table lock for hours) and no further one starts; the signal's reason is thrown.
   */
  signal?: AbortSignal;
  /** The admin connection, when there is one: it sees other accounts' sessions (a killed pod's running statement). */
  observer?: Dialect;
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
  const { signal } = options;
  try {
    if (plan.transactional) {
      await recheck(dialect, plan, 0, options.observer);
      plan.actions.forEach((action, i) => options.onAction?.(action, i, total));
      await dialect.airflowRepair.execute(plan.actions.flatMap((a) => a.sql), { transaction: true, signal });
    } else {
      for (const [i, action] of plan.actions.entries()) {
        if (signal?.aborted) break;
        await recheck(dialect, plan, i, options.observer);
        options.onAction?.(action, i, total);
        await dialect.airflowRepair.execute(action.sql, { transaction: false, signal });
      }
    }
    if (signal?.aborted) throw signal.reason;
  } catch (error) {
    // Stopped on purpose: the cancelled statement's own error (1317, 57014) is not the story.
    if (signal?.aborted) throw signal.reason;
    if (error instanceof OmMigrateError && (error.code === 'MIGRATION_RUNNING' || error.code === 'BLOCKED')) throw error;
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

/**
 * Right before statement `index`: nobody else is migrating, and the live shape still leads to exactly the actions
 * that remain. A killed client's ALTER keeps running on the server and may finish between planning and now; a plan
 * made from the state before it would then fail half-way ("Multiple primary key defined") or undo its work.
 */
async function recheck(dialect: Dialect, plan: RepairPlan, index: number, observer?: Dialect): Promise<void> {
  await assertNoMigrationRunning(dialect, 'repairing', observer);
  const remaining = plan.actions.slice(index).filter((a) => !DATA_ACTIONS.includes(a.id));
  const live = await detectAirflowState(dialect);
  let replanned: RepairAction[];
  try {
    replanned = planRepair(live, dialect.airflowRepair, { ...plan.options, integrity: undefined, truncateTaskInstance: false })
      .actions.filter((a) => !DATA_ACTIONS.includes(a.id));
  } catch {
    replanned = []; // nothing to repair, or a shape it will not repair: either way not the remaining actions
  }
  // A prefix, not equality: a plan cut short on purpose (a test, a future --until) still matches the start. Compared
  // by what each action is and says (its counts and columns), not its SQL text: the id rewrite salts its new ids
  // afresh each time it is planned.
  const key = (a: RepairAction) => `${a.id}\n${a.description}`;
  const same = remaining.length <= replanned.length && remaining.every((a, i) => key(a) === key(replanned[i]));
  if (!same) {
    throw new OmMigrateError('BLOCKED', `the Airflow database changed while the repair ran: ${live.summary}; stopped before "${plan.actions[index].description}"`, {
      hint: 'Something else is changing task_instance. Make sure no migrator or client is running, then run repair-airflow again: it plans from the new state.',
      details: { expected: remaining.map((a) => a.description), found: replanned.map((a) => a.description), damage: live.damage },
    });
  }
}
