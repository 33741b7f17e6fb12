import { describeSession, partialView, readMigrationActivity } from '../airflow/migrationActivity.js';
import { planRepair } from '../airflow/planRepair.js';
import { orphanTotal, readIntegrity } from '../airflow/readIntegrity.js';
import {
  describeFabRevision, describeRevision, FAB_KEY_FIX_REVISION, FAB_REVISIONS, findRevision, isBeforeUuidPrimaryKey, UUID_PK_REVISION,
} from '../airflow/revisions.js';
import { TASK_INSTANCE_FOREIGN_KEYS } from '../airflow/taskInstanceShape.js';
import { describeSpec } from '../config/ConnectionSpec.js';
import { commandArgv } from '../config/splitCommandLine.js';
import { formatBytes } from '../config/units.js';
import type { GateTools } from '../core/Tools.js';
import { describeLockHolder } from '../lock/runLock.js';
import { fillsGaps, gapVersions, OPS_SCRIPT, unexpectedVersions } from '../openmetadata/distribution.js';
import { betterTarget, releasePath, releasesCrossed, requiredHop } from '../openmetadata/releases.js';
import { UPGRADE_NOTES } from '../openmetadata/upgradeNotes.js';
import { parameterGroupHint } from '../params/managedHint.js';
import { ledgerRole, privilegeNeeds } from '../plan/privilegeNeeds.js';
import { findExecutable } from '../process/findExecutable.js';
import { migratorGroup } from '../process/processGroup.js';
import { inspectRestore, serverKeyOf, unfinishedRestoresOf } from '../rescue/restoreRecord.js';

/** The implementations behind the gates' tools (src/core/Tools.ts): the gates see only the contract. */
export const GATE_TOOLS: GateTools = {
  openmetadata: { releasesCrossed, requiredHop, releasePath, betterTarget, UPGRADE_NOTES, gapVersions, fillsGaps, unexpectedVersions, OPS_SCRIPT },
  airflow: {
    UUID_PK_REVISION, isBeforeUuidPrimaryKey, findRevision, describeRevision, FAB_REVISIONS, FAB_KEY_FIX_REVISION, describeFabRevision,
    TASK_INSTANCE_FOREIGN_KEYS, readIntegrity, orphanTotal, planRepair, readMigrationActivity, describeSession, partialView,
  },
  describeSpec,
  formatBytes,
  commandArgv,
  findExecutable,
  migratorGroup,
  describeLockHolder,
  restores: { unfinishedRestoresOf, serverKeyOf, inspectRestore },
  privilegeNeeds,
  ledgerRole,
  parameterGroupHint,
};
