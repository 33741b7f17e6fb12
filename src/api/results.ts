import type { ErrorCode } from '../errors.js';
import type { BackupResult } from './backup.js';
import type { PreflightReport } from './preflight.js';
import type { RehearsalSummary } from './rehearse.js';
import type { AirflowState } from '../airflow/detectAirflowState.js';
import type { RepairAction } from '../airflow/planRepair.js';
import type { ResolveRestoreResult } from './resolveRestore.js';
import type { RestoreResult } from './restore.js';
import type { RevertParamsResult } from './revertParams.js';
import type { StatusReport } from './status.js';
import type { UpSummary } from '../engine/upTypes.js';

/** What each command returns: the `result` of its `--json` envelope, and the value its library function resolves to. */
export interface CommandResults {
  preflight: PreflightReport;
  up: UpSummary;
  entrypoint: UpSummary;
  rehearse: RehearsalSummary;
  backup: BackupResult;
  restore: RestoreResult;
  'repair-airflow': RepairAirflowReport;
  status: StatusReport;
  'revert-params': RevertParamsResult;
  'resolve-restore': ResolveRestoreResult;
}

/** `repair-airflow --json`: the state found, the actions planned (and run, unless a dry run), the state after. */
export interface RepairAirflowReport {
  dryRun: boolean;
  state: AirflowState;
  actions: RepairAction[];
  after: AirflowState | undefined;
  /** The verified backup taken first (its file), unless a dry run or --no-backup. */
  backup: string | undefined;
}

export type CommandWithResult = keyof CommandResults;

/** A command that finished: `ok` is true only with exit code 0 (preflight and status may finish with a warning code). */
export type SuccessEnvelope = {
  [C in CommandWithResult]: { ok: boolean; exitCode: number; command: C; result: CommandResults[C] };
}[CommandWithResult];

/** A command that failed: the typed error's stable code, its one-line message and hint, and its details. */
export interface FailureEnvelope {
  ok: false;
  exitCode: number;
  /** The command, or "om-migrate" when the arguments could not be parsed. */
  command: string;
  error: { code: ErrorCode; message: string; hint?: string; details?: Record<string, unknown> };
}

/** The one `--json` document every command prints on stdout. Its JSON Schema is schema/envelope.schema.json. */
export type JsonEnvelope = SuccessEnvelope | FailureEnvelope;
