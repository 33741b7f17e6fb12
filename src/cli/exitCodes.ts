import type { ErrorCode } from '../errors.js';

/** Exit statuses, documented in README.md ("Exit codes"). Stable: automation depends on them. */
export const EXIT = {
  OK: 0,
  INTERNAL: 1,
  USAGE: 2,
  CONNECT: 3,
  BLOCKED: 4,
  LOCK_HELD: 5,
  BACKUP_FAILED: 6,
  RESTORE_REFUSED: 7,
  STEP_FAILED: 8,
  REVERT_FAILED: 9,
  NOTHING_TO_DO: 10,
  RESTORE_FAILED: 11,
  LOCK_LOST: 12,
  DB_UNAVAILABLE: 13,
  ROWS_LOST: 14,
  /** up did its work, but its post-checks found something the operator must still do (e.g. malformed Airflow ids). */
  NEEDS_ACTION: 15,
  /** up failed; --restore-on-failure put each database it changed back as it was before up (the failed state is kept beside it). */
  FAILED_RESTORED: 16,
  /** up failed; --restore-on-failure could not restore: the failed state is in place, untouched. */
  FAILED_RESTORE_FAILED: 17,
  INTERRUPTED: 130,
} as const;

export const EXIT_FOR_CODE: Record<ErrorCode, number> = {
  USAGE: EXIT.USAGE,
  CONFIG: EXIT.USAGE,
  CONNECT: EXIT.CONNECT,
  BLOCKED: EXIT.BLOCKED,
  LOCK_HELD: EXIT.LOCK_HELD,
  BACKUP_FAILED: EXIT.BACKUP_FAILED,
  RESTORE_REFUSED: EXIT.RESTORE_REFUSED,
  RESTORE_FAILED: EXIT.RESTORE_FAILED,
  STEP_FAILED: EXIT.STEP_FAILED,
  REVERT_FAILED: EXIT.REVERT_FAILED,
  NOTHING_TO_DO: EXIT.NOTHING_TO_DO,
  LOCK_LOST: EXIT.LOCK_LOST,
  DB_UNAVAILABLE: EXIT.DB_UNAVAILABLE,
  // Another migration (a killed run's migrator, Airflow's own) is running: the same "someone else is at it" as a held lock.
  MIGRATION_RUNNING: EXIT.LOCK_HELD,
  ROWS_LOST: EXIT.ROWS_LOST,
  FAILED_RESTORED: EXIT.FAILED_RESTORED,
  FAILED_RESTORE_FAILED: EXIT.FAILED_RESTORE_FAILED,
  INTERRUPTED: EXIT.INTERRUPTED,
  INTERNAL: EXIT.INTERNAL,
};
