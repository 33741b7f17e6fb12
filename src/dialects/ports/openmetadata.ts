export interface PipelineRun {
  entityFQNHash: string;
  pipelineName: string | undefined;
  runId: string;
  startDate: number | undefined;
  timestamp: number;
}

/** OpenMetadata's own tables. */
export interface OpenMetadataQueries {
  /** Every `version` of SERVER_CHANGE_LOG, or undefined if the table does not exist. */
  changeLogVersions(): Promise<string[] | undefined>;
  /** Pipeline status rows still `running` whose timestamp is older than `olderThan` (epoch ms). */
  staleRunningPipelines(olderThan: number): Promise<PipelineRun[]>;
  /**
   * Marks the runs staleRunningPipelines(olderThan) finds as `failed` with `endDate = now` (epoch ms), in one
   * transaction, and returns them as they were found. Every other row is left untouched.
   */
  failStaleRunningPipelines(olderThan: number, now: number): Promise<PipelineRun[]>;
}
