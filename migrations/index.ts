import type { Step } from '../src/core/Step.js';
import { airflowDbMigrateStep } from './airflow/dbMigrate.js';
import { repairUuidPkStep } from './airflow/repairUuidPk.js';
import { serverMigrateStep } from './openmetadata/serverMigrate.js';
import { stalePipelineRunsStep } from './openmetadata/stalePipelineRuns.js';

/** Every step `up` can run, by its Umzug name; which of them run, and in what order, is plannedSteps()'s. */
export const STEPS: Readonly<Record<string, Step>> = Object.fromEntries(
  [repairUuidPkStep, serverMigrateStep, stalePipelineRunsStep, airflowDbMigrateStep].map((s) => [s.name, s]),
);
