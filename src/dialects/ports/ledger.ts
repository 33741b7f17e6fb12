export interface LedgerEntry {
  id: number;
  step: string;
  targetVersion: string;
  runId: string;
  status: 'running' | 'done' | 'failed';
  startedAt: string;
  finishedAt: string | null;
  backupId: string | null;
  outputTail: string | null;
}

/** om_migrate_ledger: one row per step attempt, so an interrupted `up` resumes at the step that did not finish. */
export interface LedgerStore {
  ensureTable(): Promise<void>;
  exists(): Promise<boolean>;
  start(entry: { step: string; targetVersion: string; runId: string; backupId?: string | null }): Promise<number>;
  finish(id: number, status: 'done' | 'failed', outputTail: string | null, backupId?: string | null): Promise<void>;
  /**
   * Marks attempts still `running` that belong to other runs as `failed` with `note` as their output tail, and returns
   * how many. Only for a caller holding the run lock: no other run is alive, so those attempts were cut off (SIGKILL,
   * a crash) and will never finish.
   */
  abandon(exceptRunId: string, note: string): Promise<number>;
  /** Steps whose latest attempt for this target version finished. */
  done(targetVersion: string): Promise<LedgerEntry[]>;
  /** Forget that a step finished (Umzug's unlogMigration). */
  forget(step: string, targetVersion: string): Promise<void>;
  recent(limit: number): Promise<LedgerEntry[]>;
}
