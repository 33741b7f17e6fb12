export interface PipelineRun {
  entityFQNHash: string;
  pipelineName: string | undefined;
  runId: string;
  startDate: number | undefined;
  timestamp: number;
}

/** OpenMetadata's own tables. */
export interface OpenMetadataQueries {
  /**
   * Every `version` of SERVER_CHANGE_LOG that counts as applied, or undefined if the table does not exist. From 2.1 the
   * table has a `status` column and only COMPLETED rows count (MigrationWorkflow.readAppliedVersionsStrictly); a row
   * of a table without the column always counts.
   */
  changeLogVersions(): Promise<string[] | undefined>;
  /** The rows whose `status` is not COMPLETED (STARTED: a run stopped mid-version; FAILED: a step failed under --force). */
  unfinishedMigrations(): Promise<Array<{ version: string; status: string }>>;
  /** Ingestion pipelines of Iceberg database services: what 1.13.0's migration deletes on purpose. */
  icebergPipelineCount(): Promise<number>;
  /** Pipeline status rows still `running` whose timestamp is older than `olderThan` (epoch ms). */
  staleRunningPipelines(olderThan: number): Promise<PipelineRun[]>;
  /**
   * Marks the runs staleRunningPipelines(olderThan) finds as `failed` with `endDate = now` (epoch ms), in one
   * transaction, and returns them as they were found. Every other row is left untouched. Aborting `signal` cancels
   * the statement on the server (it may wait for a row lock) and rolls the transaction back.
   */
  failStaleRunningPipelines(olderThan: number, now: number, options?: { signal?: AbortSignal }): Promise<PipelineRun[]>;
}
