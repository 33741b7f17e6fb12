import { OmMigrateError } from '../errors.js';

/** Every backup failure: one code (exit 6), the tool's own words in the message, what to do in the hint. */
export function failed(message: string, hint: string, cause?: unknown): OmMigrateError {
  return new OmMigrateError('BACKUP_FAILED', `backup failed: ${message}`, { hint, cause });
}
