import { createHash } from 'node:crypto';

/** Every rehearsal copy's name starts so: it can never be taken for a real database, and is found again by it. */
export const COPY_PREFIX = 'omm_rehearsal_';

/**
 * `omm_rehearsal_<database>_<run>`: the database's name folded to [a-z0-9_] (a long one cut, with a hash of the whole
 * so that two long names stay apart), and the run's first 8 hex digits; at most 53 characters, within both engines'
 * limits (MySQL 64, PostgreSQL 63).
 */
export function copyPrefixFor(database: string, prefix = COPY_PREFIX): string {
  let part = database.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  if (part.length > 30) part = `${part.slice(0, 23)}_${createHash('sha256').update(database).digest('hex').slice(0, 6)}`;
  return `${prefix}${part}_`;
}

export function copyNameFor(database: string, runId: string, prefix = COPY_PREFIX): string {
  return `${copyPrefixFor(database, prefix)}${runId.replace(/[^0-9a-f]/gi, '').slice(0, 8).toLowerCase()}`;
}

/** restore-on-failure's scratch copy (omm_restore_<database>_<run>) and the failed state it keeps (omm_failed_…). */
export const RESTORE_PREFIX = 'omm_restore_';
export const KEPT_PREFIX = 'omm_failed_';
