export type LedgerStatus = 'running' | 'done' | 'failed' | 'interrupted';

/** The row of a whole run (its steps have their own rows); step rows of a run share its run id and plan id. */
export const RUN_STEP = 'run';

export interface LedgerEntry {
  id: number;
  runId: string;
  /** The fingerprint of the plan the run executed: same starting state, same target, same steps. */
  planId: string;
  step: string;
  /** The OpenMetadata version the run aimed at ("1.11.0"), or "-" when there was no OpenMetadata database. */
  targetVersion: string;
  status: LedgerStatus;
  startedAt: string;
  finishedAt: string | null;
  /** The manifest of the backup a backup step made. */
  backupId: string | null;
  /** What the step found and what it reached: JSON of { openmetadata?: version, airflow?: revision }. */
  stateBefore: string | null;
  stateAfter: string | null;
  outputTail: string | null;
}

/**
 * om_migrate_ledger: one row per run and per step attempt, saying what it found and what it reached. It is a record,
 * never a stand-in for the database: a later run re-plans from the live state, and only a backup is ever taken over
 * from an unfinished run of the same plan (after the live state is compared with what its manifest recorded).
 */
export interface LedgerStore {
  ensureTable(): Promise<void>;
  exists(): Promise<boolean>;
  start(entry: { runId: string; planId: string; step: string; targetVersion: string; stateBefore?: string | null; backupId?: string | null }): Promise<number>;
  finish(id: number, status: Exclude<LedgerStatus, 'running'>, outcome: { outputTail?: string | null; stateAfter?: string | null; backupId?: string | null }): Promise<void>;
  /**
   * Marks rows still `running` that belong to other runs as `interrupted`, and returns how many. Only for a caller
   * holding the run lock: no other run is alive, so those runs were cut off (SIGKILL, a crash) and will never finish.
   */
  abandon(exceptRunId: string, note: string): Promise<number>;
  /** Every row of one run, oldest first. */
  ofRun(runId: string): Promise<LedgerEntry[]>;
  /** The newest run of a plan that did not finish well (interrupted or failed), if any. */
  lastUnfinishedRun(planId: string, exceptRunId: string): Promise<LedgerEntry | undefined>;
  recent(limit: number): Promise<LedgerEntry[]>;
  /**
   * Brings `rows` (another copy of this ledger, read elsewhere) into this one: a row of the same id is updated, a newer
   * one added. restore-on-failure carries the failed run's record into the restored database, whose ledger is the backup's.
   */
  carryOver(rows: LedgerEntry[]): Promise<void>;
  /** The newest row of `step` (of `planId`, when given), if any. */
  lastOf(step: string, planId?: string): Promise<LedgerEntry | undefined>;
  /**
   * Every run whose run row is not `done` (running, interrupted, failed), with the manifests its backup steps recorded
   * (taken or taken over): what --keep must never remove, since one of them may be the only copy of the state before it.
   */
  unfinishedRuns(): Promise<Array<{ runId: string; backupIds: string[] }>>;
}
