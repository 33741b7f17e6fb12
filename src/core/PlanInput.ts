import type { MigratorCommand } from '../openmetadata/migratorCommand.js';
import type { Distribution } from '../openmetadata/distribution.js';
import type { AirflowState } from '../airflow/detectAirflowState.js';
import type { VersionFacts } from './Target.js';

/**
 * What the plan is made from, read from the live databases and the installed migrators before the gates run: the
 * gates judge it, the steps declare from it whether they apply, and the plan's fingerprint is taken over it.
 */
export interface PlanInput {
  versions: VersionFacts;
  /** --fix-stale-runs was asked for. */
  fixStaleRuns: boolean;
  /** The Airflow database holds a half-applied d59cbbef95eb that the repair step brings back. */
  airflowNeedsRepair: boolean;
  openmetadata?: {
    /** The distribution installed at --om-home; undefined when there is none (a custom migrator elsewhere). */
    distribution: Distribution | undefined;
    /** --to, or the distribution's reach. */
    target: string | undefined;
    /** What SERVER_CHANGE_LOG will show afterwards: the highest folder at or below the target. */
    expected: string | undefined;
    /** The version folders the migrator will run; undefined when that cannot be told (no distribution). */
    pending: string[] | undefined;
    migrator: MigratorCommand;
  };
  airflow?: {
    /** task_instance and alembic_version as read once for this plan (the airflow-state gate judges it). */
    state: AirflowState;
    /** Whether the installed Airflow has migrations to apply (its check command); undefined when it cannot be asked. */
    pending: boolean | undefined;
    /** How that was found out, for the plan: "airflow db check-migrations -t 0 exited 1". */
    pendingSource: string;
    /**
     * MySQL, while d59cbbef95eb is ahead: what Airflow's driver does, asked of it in the migrator's own interpreter and
     * environment (multi-statements, the server it reaches); undefined when not asked.
     */
    driver?: AirflowDriverProbe;
  };
}

/** Nothing to migrate and nothing to repair: the migrators still run (their no-op is the proof), but nothing else. */
export function nothingPending(input: PlanInput): boolean {
  const om = input.openmetadata;
  const af = input.airflow;
  return (!om || (om.pending !== undefined && om.pending.length === 0))
    && (!af || (af.pending === false && !input.airflowNeedsRepair));
}

/** What Airflow's MySQL driver does, as its own interpreter and environment answered. */
export interface AirflowDriverReport {
  python: string;
  /** What built the engine: Airflow's own, or SQLAlchemy with Airflow's options. */
  via: string;
  driver: string;
  driverVersion: string;
  clientLibrary?: string;
  /** The server it reached, as om-migrate's serverIdentity writes it. */
  server: string;
  multiStatements: boolean;
  multiStatementsError?: string;
  /** The airflow package is there but could not be imported (then SQLAlchemy alone was used). */
  airflowError?: string;
}

export type AirflowDriverProbe = { asked: true; report: AirflowDriverReport } | { asked: false; why: string };
