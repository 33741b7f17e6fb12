import type { TargetRole } from '../config/ConnectionSpec.js';
import type { RunConfig } from '../config/resolveConfig.js';
import type { Dialect, ParameterName, ParameterScope, RunHolderRow } from '../dialects/types.js';
import type { ConnectedTarget, TargetFailure, VersionFacts } from './Target.js';
import type { PlanInput } from './PlanInput.js';

export type { ConnectedTarget } from './Target.js';

export type Severity = 'ok' | 'warn' | 'block';

/** One line of the preflight report. */
export interface Finding {
  gate: string;
  /** Which database it is about; 'run' for findings about the run as a whole. */
  target: TargetRole | 'run';
  severity: Severity;
  /** Why: one line. */
  summary: string;
  /** What to do: one line; absent for ok findings that need nothing. */
  fix?: string;
  /** Machine-readable facts behind the finding (counts, values); never a secret. */
  data?: Record<string, unknown>;
}

/** One server parameter change `up` would make, as `preflight --dry-run` shows it and `up` then makes it. */
export interface PlannedChange {
  gate: string;
  target: TargetRole;
  parameter: ParameterName;
  scope: ParameterScope;
  object: string | null;
  description: string;
  /** The exact statement(s) it runs, and what puts it back (built from the values, never stored). */
  sql: string[];
  revertSql: string[];
}

export interface GateContext {
  config: RunConfig;
  /** Only the targets that connected; the connection gate reports the others. */
  targets: ConnectedTarget[];
  /** The configured databases that could not be reached, with the classified error. */
  unreachable: TargetFailure[];
  /** Versions read once before the gates run. */
  versions: VersionFacts;
  /** What is pending, per the installed migrators: the gates ask only for what the plan will need. */
  input: PlanInput;
  /** Which command is asking: `up` treats some findings differently from `preflight` (e.g. the Airflow repair). */
  command: 'preflight' | 'up' | 'repair-airflow' | 'backup';
  /** Milliseconds since the epoch at the start of the run, so every gate judges "stale" against the same instant. */
  now: number;
  /** The targets whose run lock this process already holds (in `up`), so the lock gate does not report itself. */
  heldLocks: ReadonlySet<TargetRole>;
  /** The lock holder's row as the last run left it (before this run took the lock): a killed run's migrator is named there. */
  previousHolder(role: TargetRole): RunHolderRow | undefined;
  /** A privileged connection for the parameter gates, opened on demand: --admin-url / --airflow-admin-url. */
  adminFor(target: ConnectedTarget): Promise<Dialect | undefined>;
}

/**
 * A preflight gate: one file under preflight/. `check` is read-only. What `up` would change is decided by the plan
 * (src/plan/buildPlan.ts) from the gates' findings; the change itself is made by the run with a journal entry first.
 */
export interface Gate {
  id: string;
  title: string;
  check(ctx: GateContext): Promise<Finding[]>;
}

export function finding(gate: string, target: Finding['target'], severity: Severity, summary: string, fix?: string,
  data?: Record<string, unknown>): Finding {
  return { gate, target, severity, summary, ...(fix ? { fix } : {}), ...(data ? { data } : {}) };
}
