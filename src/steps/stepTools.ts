import { detectAirflowState } from '../airflow/detectAirflowState.js';
import { assertNoMigrationRunning } from '../airflow/migrationActivity.js';
import { planRepair } from '../airflow/planRepair.js';
import { runRepair } from '../airflow/runRepair.js';
import { commandArgv } from '../config/splitCommandLine.js';
import type { StepTools } from '../core/Tools.js';
import { migratorCommand } from '../openmetadata/migratorCommand.js';
import { currentOpenMetadataVersion } from '../openmetadata/versions.js';

/** The implementations behind the steps' tools (src/core/Tools.ts): the steps see only the contract. */
export const STEP_TOOLS: StepTools = {
  openmetadata: { currentOpenMetadataVersion, migratorCommand },
  airflow: { detectAirflowState, assertNoMigrationRunning, planRepair, runRepair },
  commandArgv,
};
