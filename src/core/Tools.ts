import type { assertNoMigrationRunning, describeSession, partialView, readMigrationActivity } from '../airflow/migrationActivity.js';
import type { detectAirflowState } from '../airflow/detectAirflowState.js';
import type { planRepair, RepairPlan } from '../airflow/planRepair.js';
import type { orphanTotal, readIntegrity } from '../airflow/readIntegrity.js';
import type {
  describeFabRevision, describeRevision, FAB_KEY_FIX_REVISION, FAB_REVISIONS, findRevision, isBeforeUuidPrimaryKey, UUID_PK_REVISION,
} from '../airflow/revisions.js';
import type { runRepair } from '../airflow/runRepair.js';
import type { TASK_INSTANCE_FOREIGN_KEYS } from '../airflow/taskInstanceShape.js';
import type { describeSpec, TargetRole } from '../config/ConnectionSpec.js';
import type { commandArgv } from '../config/splitCommandLine.js';
import type { formatBytes } from '../config/units.js';
import type { PrivilegeNeed } from '../dialects/types.js';
import type { fillsGaps, gapVersions, OPS_SCRIPT, unexpectedVersions } from '../openmetadata/distribution.js';
import type { migratorCommand } from '../openmetadata/migratorCommand.js';
import type { betterTarget, releasePath, releasesCrossed, requiredHop } from '../openmetadata/releases.js';
import type { UPGRADE_NOTES } from '../openmetadata/upgradeNotes.js';
import type { currentOpenMetadataVersion } from '../openmetadata/versions.js';
import type { findExecutable } from '../process/findExecutable.js';
import type { migratorGroup } from '../process/processGroup.js';
import type { inspectRestore, serverKeyOf, unfinishedRestoresOf } from '../rescue/restoreRecord.js';
import type { PlanInput } from './PlanInput.js';
import type { ConnectedTarget } from './Target.js';

/*
 * What gates (preflight/) and steps (migrations/) use of the rest of om-migrate, as members of their context: a gate or
 * a step imports src/core only, and the engine hands it these (src/engine/gateTools.ts, src/steps/stepTools.ts wire
 * them from the domain folders). Each member is named as its implementation is, so that a search finds both.
 */

/** What om-migrate knows of OpenMetadata's releases and its installed distribution (src/openmetadata/). */
export interface OpenMetadataKnowledge {
  releasesCrossed: typeof releasesCrossed;
  requiredHop: typeof requiredHop;
  releasePath: typeof releasePath;
  betterTarget: typeof betterTarget;
  UPGRADE_NOTES: typeof UPGRADE_NOTES;
  gapVersions: typeof gapVersions;
  fillsGaps: typeof fillsGaps;
  unexpectedVersions: typeof unexpectedVersions;
  OPS_SCRIPT: typeof OPS_SCRIPT;
  currentOpenMetadataVersion: typeof currentOpenMetadataVersion;
  migratorCommand: typeof migratorCommand;
}

/** What om-migrate knows of Airflow's revisions, and reads and repairs in its database (src/airflow/). */
export interface AirflowKnowledge {
  UUID_PK_REVISION: typeof UUID_PK_REVISION;
  isBeforeUuidPrimaryKey: typeof isBeforeUuidPrimaryKey;
  findRevision: typeof findRevision;
  describeRevision: typeof describeRevision;
  FAB_REVISIONS: typeof FAB_REVISIONS;
  FAB_KEY_FIX_REVISION: typeof FAB_KEY_FIX_REVISION;
  describeFabRevision: typeof describeFabRevision;
  TASK_INSTANCE_FOREIGN_KEYS: typeof TASK_INSTANCE_FOREIGN_KEYS;
  detectAirflowState: typeof detectAirflowState;
  readIntegrity: typeof readIntegrity;
  orphanTotal: typeof orphanTotal;
  planRepair: typeof planRepair;
  runRepair: typeof runRepair;
  readMigrationActivity: typeof readMigrationActivity;
  describeSession: typeof describeSession;
  partialView: typeof partialView;
  assertNoMigrationRunning: typeof assertNoMigrationRunning;
}

/** Who holds a target's run lock, as far as a gate needs it (src/lock/runLock.ts describes more). */
export interface LockHolder {
  /** One line for messages: "om-migrate up pid=42 on web-1 since 2025-…". */
  text: string;
}

/** What the gates use: both products' knowledge, and the services of the run a gate reads through. */
export interface GateTools {
  openmetadata: Pick<OpenMetadataKnowledge, 'releasesCrossed' | 'requiredHop' | 'releasePath' | 'betterTarget' | 'UPGRADE_NOTES'
    | 'gapVersions' | 'fillsGaps' | 'unexpectedVersions' | 'OPS_SCRIPT'>;
  airflow: Pick<AirflowKnowledge, 'UUID_PK_REVISION' | 'isBeforeUuidPrimaryKey' | 'findRevision' | 'describeRevision' | 'FAB_REVISIONS'
    | 'FAB_KEY_FIX_REVISION' | 'describeFabRevision' | 'TASK_INSTANCE_FOREIGN_KEYS' | 'readIntegrity' | 'orphanTotal' | 'planRepair'
    | 'readMigrationActivity' | 'describeSession' | 'partialView'>;
  describeSpec: typeof describeSpec;
  formatBytes: typeof formatBytes;
  commandArgv: typeof commandArgv;
  findExecutable: typeof findExecutable;
  migratorGroup: typeof migratorGroup;
  /** Who holds the run lock of a target's database now; undefined when nobody does (src/lock/runLock.ts). */
  describeLockHolder(target: ConnectedTarget): Promise<LockHolder | undefined>;
  /** Restore-on-failure's durable records (src/rescue/restoreRecord.ts). */
  restores: { unfinishedRestoresOf: typeof unfinishedRestoresOf; serverKeyOf: typeof serverKeyOf; inspectRestore: typeof inspectRestore };
  /** Every privilege the plan needs on one database (src/plan/privilegeNeeds.ts). */
  privilegeNeeds(target: ConnectedTarget, input: PlanInput, options: { holdsLedger: boolean; repair?: RepairPlan }): Promise<PrivilegeNeed[]>;
  /** The role whose database holds om-migrate's ledger (src/plan/privilegeNeeds.ts). */
  ledgerRole(targets: ConnectedTarget[]): TargetRole | undefined;
  /** What an operator of a managed service does instead of om-migrate raising a parameter (src/params/managedHint.ts). */
  parameterGroupHint(engine: 'mysql' | 'postgres', parameter: string, value: string, managed: string | undefined): string;
}

/** What the steps use: the knowledge they run the migrators and the repair with. */
export interface StepTools {
  openmetadata: Pick<OpenMetadataKnowledge, 'currentOpenMetadataVersion' | 'migratorCommand'>;
  airflow: Pick<AirflowKnowledge, 'detectAirflowState' | 'assertNoMigrationRunning' | 'planRepair' | 'runRepair'>;
  commandArgv: typeof commandArgv;
}
