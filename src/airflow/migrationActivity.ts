import type { Dialect, SessionInfo } from '../dialects/types.js';
import { OmMigrateError } from '../errors.js';

export interface MigrationActivity {
  /** The session holding Airflow's migration lock (an `airflow db migrate` is running). */
  lockHolder: SessionInfo | undefined;
  /** Other sessions running a schema change (or the id UPDATE) on this database: a killed client's ALTER goes on. */
  ddl: SessionInfo[];
}

export async function readMigrationActivity(dialect: Dialect): Promise<MigrationActivity> {
  return { lockHolder: await dialect.airflow.migrationLockHolder(), ddl: await dialect.introspect.activeDdl() };
}

export function describeSession(s: SessionInfo): string {
  const who = [s.user, s.client].filter(Boolean).join('@');
  const how = s.seconds !== undefined ? ` for ${s.seconds} s` : '';
  return `session ${s.connectionId}${who ? ` (${who})` : ''}${how}${s.statement ? `: ${s.statement.replace(/\s+/g, ' ').slice(0, 120)}` : ''}`;
}

/**
 * Never race a migration: called right before repair-airflow changes anything (and before each of its statements),
 * and right before up starts Airflow's migrator. Throws MIGRATION_RUNNING naming the holder.
 */
export async function assertNoMigrationRunning(dialect: Dialect, before: string): Promise<void> {
  const { lockHolder, ddl } = await readMigrationActivity(dialect);
  if (lockHolder) {
    throw new OmMigrateError('MIGRATION_RUNNING', `Airflow's migration lock is held: an airflow db migrate is running (${describeSession(lockHolder)}); not ${before}`, {
      hint: 'Wait for that migration to finish (the ingestion container runs one at every start), then run again.',
      details: { session: lockHolder },
    });
  }
  if (ddl.length > 0) {
    throw new OmMigrateError('MIGRATION_RUNNING', `a schema change is running on the Airflow database (${ddl.map(describeSession).join('; ')}); not ${before}`, {
      hint: 'Wait for it to finish, or end that session; om-migrate does not change a schema under a running statement.',
      details: { sessions: ddl },
    });
  }
}
