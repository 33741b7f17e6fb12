import type { Knex } from 'knex';
import type { ConnectionSpec } from '../../config/ConnectionSpec.js';
import { OmMigrateError } from '../../errors.js';
import type { TableToDump, WriteFreeze } from '../types.js';
import { rows } from './rows.js';

/** How often the table list may change between listing and locking before the backup gives up. */
const ATTEMPTS = 3;

interface Listed { tables: TableToDump[]; views: string[] }

/**
 * LOCK TABLES … READ on every base table of the database, from the session given (one of its own: the lock belongs to
 * the session, and a session holding it can touch no other table). While it is held no write to any of them can
 * commit, so every START TRANSACTION WITH CONSISTENT SNAPSHOT taken meanwhile sees the same data: N dump sessions
 * then make one consistent backup, without FLUSH TABLES WITH READ LOCK and its RELOAD privilege. The application
 * user's usual grant (ALL on its database) includes LOCK TABLES; whoever lacks it is told so before anything is dumped.
 *
 * The list is read again under the lock: a table created between the listing and the lock would not be frozen, so
 * the lock is taken again until the two agree.
 */
export async function freezeWrites(knex: Knex, spec: ConnectionSpec, lockWaitSeconds: number): Promise<WriteFreeze> {
  const database = spec.database;
  // The wait for a write transaction that holds a table; while LOCK TABLES waits, new writers queue behind it.
  await knex.raw('SET SESSION lock_wait_timeout = ?', [Math.max(1, Math.round(lockWaitSeconds))]);
  for (let attempt = 1; ; attempt += 1) {
    const listed = await list(knex, database);
    if (listed.tables.length > 0) {
      try {
        await knex.raw(`LOCK TABLES ${listed.tables.map((t) => `${quote(database)}.${quote(t.name)} READ`).join(', ')}`);
      } catch (error) {
        throw await lockFailed(knex, spec, error, lockWaitSeconds);
      }
    }
    const again = await list(knex, database);
    if (sameNames(listed, again)) {
      let released = false;
      return {
        tables: listed.tables,
        views: listed.views,
        async release() {
          if (released) return;
          released = true;
          await knex.raw('UNLOCK TABLES');
        },
      };
    }
    await knex.raw('UNLOCK TABLES');
    if (attempt === ATTEMPTS) {
      throw new OmMigrateError('BACKUP_FAILED', `backup failed: the tables of ${database} changed ${ATTEMPTS} times while they were being locked for a parallel dump`,
        { hint: 'Stop whatever creates or drops tables in this database (the application, a migration) and run the backup again, or back up with --jobs 1.' });
    }
  }
}

async function list(knex: Knex, database: string): Promise<Listed> {
  const found = rows<{ name: string; type: string; engine: string | null; bytes: number | string | null }>(await knex.raw(
    `SELECT TABLE_NAME AS name, TABLE_TYPE AS type, ENGINE AS engine, DATA_LENGTH AS bytes
       FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME`, [database]));
  return {
    tables: found.filter((r) => r.type === 'BASE TABLE')
      .map((r) => ({ name: r.name, bytes: Number(r.bytes ?? 0), transactional: (r.engine ?? '').toLowerCase() === 'innodb' })),
    views: found.filter((r) => r.type === 'VIEW').map((r) => r.name),
  };
}

function sameNames(a: Listed, b: Listed): boolean {
  const names = (l: Listed) => JSON.stringify([l.tables.map((t) => t.name), l.views]);
  return names(a) === names(b);
}

async function lockFailed(knex: Knex, spec: ConnectionSpec, error: unknown, lockWaitSeconds: number): Promise<OmMigrateError> {
  const errno = (error as { errno?: number }).errno;
  const said = (error as Error).message;
  if (errno === 1205) {
    return new OmMigrateError('BACKUP_FAILED',
      `backup failed: a parallel dump must stop writes to ${spec.database} for a moment, and another session kept a table locked for over ${lockWaitSeconds} s (${said})`,
      { hint: 'Stop the application (OpenMetadata server, ingestion) and anything else that writes to this database, or back up with --jobs 1, which takes no lock.', cause: error });
  }
  if (errno === 1044 || errno === 1142 || errno === 1227) {
    const [who] = rows<{ who: string }>(await knex.raw('SELECT CURRENT_USER() AS who')).map((r) => r.who);
    const at = who.lastIndexOf('@');
    const account = `'${who.slice(0, at)}'@'${who.slice(at + 1)}'`;
    return new OmMigrateError('BACKUP_FAILED',
      `backup failed: a parallel dump (--jobs) locks every table of ${spec.database} against writes while its sessions take their snapshots, and ${account} may not (${said}); nothing was dumped`,
      { hint: `GRANT LOCK TABLES ON ${quote(spec.database)}.* TO ${account}; or back up with --jobs 1 (one session, one snapshot, no lock).`, cause: error });
  }
  return new OmMigrateError('BACKUP_FAILED', `backup failed: locking the tables of ${spec.database} for a parallel dump failed: ${said}`,
    { hint: 'Back up with --jobs 1, which takes no lock, and report the error above.', cause: error });
}

function quote(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}
