import type { TargetRole } from '../config/ConnectionSpec.js';
import type { GateContext } from '../core/Gate.js';
import { restoreNames } from '../config/scratchNames.js';

/** What a failed step triggers, as plain data in the plan (`preflight --dry-run` prints it; up follows it). */
export interface FailurePlan {
  /** --restore-on-failure: each database a step changed is restored from this run's backup; otherwise it is left as the failure left it. */
  restore: boolean;
  /** One line: what a failure triggers. */
  summary: string;
  /** Per database: the scratch copy and the name the failed state would be kept under (<run> is the run's id). */
  databases: Array<{ target: TargetRole; database: string; scratch: string; kept: string }>;
  /** How long the restore took in the last rehearsal of this plan, when one was recorded: about what a failure adds. */
  lastRehearsalRestoreMs: number | null;
}

export function failurePlan(ctx: Pick<GateContext, 'config' | 'targets'>, idle: boolean): FailurePlan {
  const restore = ctx.config.restoreOnFailure && !idle;
  const databases = restore ? ctx.targets.map((t) => ({
    target: t.role, database: t.spec.database, ...restoreNames(t.spec),
  })) : [];
  const summary = restore
    ? 'a step that fails after it may have changed a database: parameters put back, then each changed database restored from its backup '
      + 'into a scratch copy, verified (versions, SERVER_CHANGE_LOG / Airflow shape, row counts) and swapped in; the failed state kept; exit 16 (17 if the restore fails, the failed state then left in place)'
    : 'a step that fails: parameters put back, the databases left as the failure left them, the backups kept; exit 8 (--restore-on-failure restores them)';
  return { restore, summary, databases, lastRehearsalRestoreMs: null };
}
