import type { Gate } from '../src/core/Gate.js';
import { airflowDriverGate } from './airflowDriverGate.js';
import { airflowFabGate } from './airflowFabGate.js';
import { airflowIntegrityGate } from './airflowIntegrityGate.js';
import { airflowStateGate } from './airflowStateGate.js';
import { backupReadinessGate } from './backupReadinessGate.js';
import { connectionGate } from './connectionGate.js';
import { invalidIndexGate } from './invalidIndexGate.js';
import { lockGate } from './lockGate.js';
import { privilegesGate } from './privilegesGate.js';
import { restoreInterruptedGate } from './restoreInterruptedGate.js';
import { restoreOnFailureGate } from './restoreOnFailureGate.js';
import { logBinTrustGate } from './logBinTrustGate.js';
import { migratorStartGate } from './migratorStartGate.js';
import { runningMigratorGate } from './runningMigratorGate.js';
import { serversStoppedGate } from './serversStoppedGate.js';
import { sortMemoryGate } from './sortMemoryGate.js';
import { staleRunsGate } from './staleRunsGate.js';
import { versionsGate } from './versionsGate.js';

/** Every gate, in report order. */
export const GATES: readonly Gate[] = [
  connectionGate,
  restoreInterruptedGate,
  versionsGate,
  invalidIndexGate,
  migratorStartGate,
  backupReadinessGate,
  restoreOnFailureGate,
  sortMemoryGate,
  logBinTrustGate,
  airflowStateGate,
  airflowIntegrityGate,
  airflowDriverGate,
  airflowFabGate,
  privilegesGate,
  staleRunsGate,
  lockGate,
  runningMigratorGate,
  serversStoppedGate,
];
