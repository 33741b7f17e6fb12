import type { Step } from '../src/core/Step.js';
import { airflowDbMigrateStep } from './airflow/dbMigrate.js';
import { repairUuidPkStep } from './airflow/repairUuidPk.js';
import { serverMigrateStep } from './openmetadata/serverMigrate.js';
import { stalePipelineRunsStep } from './openmetadata/stalePipelineRuns.js';

/**
 * Every step `up` can run, in the one order they run: the Airflow repair first (the database must have the shape its
 * migrator expects), then OpenMetadata's migrator, the optional pipeline-status fix, then Airflow's migrator. Which of
 * them a run takes is each step's own appliesTo(), judged on the live state.
 */
export const STEPS: readonly Step[] = [repairUuidPkStep, serverMigrateStep, stalePipelineRunsStep, airflowDbMigrateStep];
