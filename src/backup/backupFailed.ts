import { existsSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import type { Dialect } from '../dialects/types.js';
import { OmMigrateError } from '../errors.js';

/** Every backup failure: one code (exit 6), the tool's own words in the message, what to do in the hint. */
export function failed(message: string, hint: string, cause?: unknown): OmMigrateError {
  return new OmMigrateError('BACKUP_FAILED', `backup failed: ${message}`, { hint, cause });
}

/**
 * The backup directory failed under a finished dump (removed, made read-only or immutable, full, a disk error) while
 * its file was being named or its manifest written: a failed backup naming the directory, with what is left of it
 * removed where it can be and named where it cannot. An error that is not the file system's is passed on as it is.
 */
export async function directoryFault(error: unknown, dir: string, database: string, files: string[]): Promise<unknown> {
  const e = error as NodeJS.ErrnoException;
  if (!e || typeof e.code !== 'string' || e.syscall === undefined) return error;
  const left: string[] = [];
  for (const file of files) {
    if (!existsSync(file)) continue;
    await unlink(file).catch(() => undefined);
    if (existsSync(file)) left.push(file);
  }
  const what = e.code === 'ENOENT' ? 'was removed'
    : e.code === 'EACCES' || e.code === 'EPERM' ? 'can no longer be written'
      : e.code === 'EROFS' ? 'is on a file system now read-only'
        : e.code === 'ENOSPC' ? 'is full' : `failed (${e.code})`;
  return failed(`the backup directory ${dir} ${what} during the backup of ${database} (${e.message})`
    + (left.length > 0 ? `; left behind, not a backup: ${left.join(', ')}` : '; nothing of it was left behind'),
  `Give --backup-dir a directory this user can write (${dir} as it was), then back up again; nothing in ${database} was changed.`, error);
}

/**
 * A dump tool that failed because the server went away (a restart, a crash, a failover) often says nothing useful —
 * mariadb-dump exits 2 without a word when the server is killed under it. So the server is asked: unreachable, or
 * started since the dump began, is DB_UNAVAILABLE (exit 13) with what to do, not a backup failure to "fix".
 */
export async function serverLost(error: unknown, dialect: Pick<Dialect, 'serverStartedAt'>, startedBefore: number | undefined,
  database: string): Promise<unknown> {
  if (!(error instanceof OmMigrateError) || error.code !== 'BACKUP_FAILED') return error;
  const startedNow = await dialect.serverStartedAt().catch(() => undefined);
  const restarted = startedBefore !== undefined && startedNow !== undefined && Math.abs(startedNow - startedBefore) > 2;
  if (startedNow !== undefined && !restarted) return error;
  const what = restarted ? 'it restarted during the dump' : 'it cannot be reached since the dump failed';
  return new OmMigrateError('DB_UNAVAILABLE',
    `lost the database server during the backup of ${database}: ${what} (${error.message.replace(/^backup failed: /, '')}); the partial file was removed`, {
      hint: `It restarted, crashed, failed over or the network broke; nothing in ${database} was changed. Once it is back, run the backup again (om-migrate backup, or up).`,
      cause: error,
    });
}
