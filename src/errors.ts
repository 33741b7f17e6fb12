/**
 * Every failure the library expects has a stable code. The CLI (src/cli/failure.ts) is the only place that turns
 * a code into an exit status; library code never prints or exits.
 */
export type ErrorCode =
  | 'USAGE'
  | 'CONFIG'
  | 'CONNECT'
  | 'BLOCKED'
  | 'LOCK_HELD'
  | 'BACKUP_FAILED'
  | 'RESTORE_REFUSED'
  | 'RESTORE_FAILED'
  | 'STEP_FAILED'
  | 'REVERT_FAILED'
  | 'NOTHING_TO_DO'
  | 'LOCK_LOST'
  | 'DB_UNAVAILABLE'
  | 'MIGRATION_RUNNING'
  | 'ROWS_LOST'
  /** up failed, and --restore-on-failure brought every database it changed back to its backup (verified, swapped in). */
  | 'FAILED_RESTORED'
  /** up failed, and --restore-on-failure could not restore: the failed state is in place, untouched. */
  | 'FAILED_RESTORE_FAILED'
  | 'INTERRUPTED'
  | 'INTERNAL';

export class OmMigrateError extends Error {
  readonly code: ErrorCode;
  /** One line telling the operator what to do about it. */
  readonly hint: string | undefined;
  /** Structured detail for --json output; must never contain a secret. */
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { hint?: string; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OmMigrateError';
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }
}

export const usageError = (message: string, hint?: string) => new OmMigrateError('USAGE', message, { hint });
export const configError = (message: string, hint?: string, cause?: unknown) =>
  new OmMigrateError('CONFIG', message, { hint, cause });

export function isOmMigrateError(error: unknown): error is OmMigrateError {
  return error instanceof OmMigrateError;
}
