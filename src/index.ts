/**
 * om-migrate as a library: one function per command, the configuration resolver, the typed errors, and the types of
 * every result. The CLI (src/cli/) is a thin layer over exactly these: it parses, calls one of them, and prints.
 *
 *   import { resolveConfig, runPreflight, runUp } from 'om-migrate';
 *   const config = resolveConfig({ to: '1.11.0' }, process.env, { command: 'up' });
 *   const report = await runPreflight(config);
 *
 * The environment given to resolveConfig is the only one om-migrate uses: it finds the tools on its PATH and makes
 * every child's environment from it (config.env); nothing below reads process.env.
 */
export { resolveConfig, MIN_SORT_MEMORY_BYTES, MAX_SORT_MEMORY_BYTES } from './config/resolveConfig.js';
export type { Compression, ConfigInput, MigratorOptions, RunConfig, WorkMemScope } from './config/resolveConfig.js';
export { OmMigrateError, isOmMigrateError } from './errors.js';
export type { ErrorCode } from './errors.js';
export type { Environment } from './process/childEnv.js';

export { runPreflight } from './api/preflight.js';
export { preflightWithInput } from './engine/preflightWithInput.js';
export type { PreflightOptions, PreflightReport, PreflightResult, RunPlan, TargetSummary } from './api/preflight.js';
export { runUp } from './api/up.js';
export type { ParameterSummary, StepSummary, UpEvent, UpOptions, UpSummary } from './api/up.js';
export { runRehearse } from './api/rehearse.js';
export type { RehearsalSummary, RehearseOptions } from './api/rehearse.js';
export { backupDatabases } from './api/backup.js';
export type { BackupEvents, BackupResult } from './api/backup.js';
export { restoreDatabase } from './api/restore.js';
export type { RestoreOptions, RestoreProgress, RestoreResult } from './api/restore.js';
export { repairAirflow } from './api/repairAirflow.js';
export type { RepairAirflowOptions, RepairAirflowOutcome } from './api/repairAirflow.js';
export { readStatus } from './api/status.js';
export type { StatusReport } from './api/status.js';
export { revertParams } from './api/revertParams.js';
export type { RevertParamsResult } from './api/revertParams.js';
export type { CommandResults, CommandWithResult, FailureEnvelope, JsonEnvelope, RepairAirflowReport, SuccessEnvelope } from './api/results.js';
export { EXIT, EXIT_FOR_CODE } from './cli/exitCodes.js';
