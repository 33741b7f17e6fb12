import type { TargetRole } from '../config/ConnectionSpec.js';
import type { RunConfig } from '../config/resolveConfig.js';
import type { Dialect, ParameterName, ParameterScope, RunHolderRow } from '../dialects/types.js';
import type { ConnectedTarget, TargetFailure, VersionFacts } from './Target.js';
import type { PlanInput } from './PlanInput.js';
import type { GateTools } from './Tools.js';

export type { ConnectedTarget } from './Target.js';
/** What a gate that looks for programs reads their PATH from (ctx.config.env, never process.env). */
export type { Environment } from '../process/childEnv.js';

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
  /** Machine-readable facts behind the finding (counts, values); never a secret. Shown, never steered by. */
  data?: Record<string, unknown>;
  /** What the finding asks of the plan or the run, typed: nobody decides anything from a gate's id or from `data`. */
  effect?: FindingEffect;
}

/** A finding's one contribution to the plan: a parameter raised on its target for the migration and put back after. */
export type PlanContribution = { kind: 'raise-parameter'; parameter: RaisedParameter };

/** Sort memory is sort_buffer_size or work_mem, by the target's engine; the trust switch is MySQL's only. */
export type RaisedParameter = 'sort-memory' | 'log_bin_trust_function_creators';

/** How a finding steers the plan or the run; the one place a new kind of consequence is added. */
export type FindingEffect =
  | PlanContribution
  /** A block made by OpenMetadata servers still connected: entrypoint waits (up to --lock-timeout) for them to go. */
  | { kind: 'servers-running' }
  /** A block made by another run or migrator at work: MIGRATION_RUNNING (exit 9), not BLOCKED. */
  | { kind: 'run-in-progress' }
  /** A database that could not be reached or used: the first thing the preflight's verdict names. */
  | { kind: 'unreachable' }
  /** Left for the operator after the steps (ids the scheduler rejects, a shape left broken): up exits NEEDS_ACTION. */
  | { kind: 'needs-action' }
  /** What a crossed release asks of the operator once the new version runs. */
  | { kind: 'after-upgrade' }
  /** The last rehearsal of the plan, as judged. */
  | { kind: 'rehearsal' }
  /** Rows a table lost during the run. */
  | { kind: 'rows-lost' };

export function hasEffect<K extends FindingEffect['kind']>(f: Finding, kind: K): f is Finding & { effect: Extract<FindingEffect, { kind: K }> } {
  return f.effect?.kind === kind;
}

/**
 * One server parameter change `up` would make, as `preflight --dry-run` shows it and `up` then makes it: the value it
 * raises to is the plan's; the value before is read again under the server's parameter mutex, for the journal.
 */
export interface PlannedChange {
  gate: string;
  target: TargetRole;
  parameter: ParameterName;
  scope: ParameterScope;
  object: string | null;
  /** The value the plan saw before (part of its fingerprint), and the one it raises to. */
  previous: string | null;
  next: string;
  /** Sort memory: the byte count it is raised to at least (`next` is that in the server's own form); null otherwise. */
  atLeastBytes: number | null;
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
  /** OpenMetadata's and Airflow's knowledge and the run's services: a gate imports nothing but src/core. */
  tools: GateTools;
}

/**
 * A preflight gate: one file under preflight/. `check` is read-only. What `up` would change is decided by the plan
 * (src/plan/buildPlan.ts) from the gates' findings; the change itself is made by the run with a journal entry first.
 */
export interface Gate {
  id: string;
  title: string;
  /** The gate reports why an admin connection fails (the others see an unusable admin as none at all). */
  reportsAdminFailures?: true;
  check(ctx: GateContext): Promise<Finding[]>;
}

export function finding(gate: string, target: Finding['target'], severity: Severity, summary: string, fix?: string,
  data?: Record<string, unknown>, effect?: FindingEffect): Finding {
  return { gate, target, severity, summary, ...(fix ? { fix } : {}), ...(data ? { data } : {}), ...(effect ? { effect } : {}) };
}
