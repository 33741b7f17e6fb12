import type { Dialect, SessionInfo, SessionVisibility } from '../dialects/types.js';
import { OmMigrateError } from '../errors.js';

export interface MigrationActivity {
  /** The session holding Airflow's migration lock (an `airflow db migrate` is running). */
  lockHolder: SessionInfo | undefined;
  /** Other sessions running a schema change (or the id UPDATE) on this database: a killed client's ALTER goes on. */
  ddl: SessionInfo[];
  /** Whether those lists cover every account's sessions: complete through an admin connection or a privileged user. */
  visibility: SessionVisibility & { through: 'admin' | 'application user' };
}

/**
 * What is running on `dialect`'s database, as seen through `observer` (an admin connection of the same server, when
 * there is one: it sees every account's sessions, which the application user may not), else through `dialect` itself.
 */
export async function readMigrationActivity(dialect: Dialect, observer?: Dialect): Promise<MigrationActivity> {
  const eye = observer ?? dialect;
  const database = dialect.spec.database;
  // The observer sees this run's own session too, which may still be finishing the repair's last statement.
  const own = observer ? await dialect.runs.connectionId() : undefined;
  const ddl = (await eye.introspect.activeDdl(database)).filter((s) => s.connectionId !== own);
  const [lockHolder, visibility] = [await eye.airflow.migrationLockHolder(database), await eye.introspect.sessionVisibility(database)];
  return { lockHolder, ddl, visibility: { ...visibility, through: observer ? 'admin' : 'application user' } };
}

export function describeSession(s: SessionInfo): string {
  const who = [s.user, s.client].filter(Boolean).join('@');
  const how = s.seconds !== undefined ? ` for ${s.seconds} s` : '';
  return `session ${s.connectionId}${who ? ` (${who})` : ''}${how}${s.statement ? `: ${s.statement.replace(/\s+/g, ' ').slice(0, 120)}` : ''}`;
}

/** "only its own sessions …" when the view is partial; undefined when it is complete. */
export function partialView(dialect: Dialect, activity: MigrationActivity): string | undefined {
  const v = activity.visibility;
  if (v.complete) return undefined;
  const hidden = v.hiddenSessions ? `; ${v.hiddenSessions} session(s) of other accounts are connected to ${dialect.spec.database} and their statements are hidden` : '';
  return `${dialect.spec.user} sees only its own sessions' statements (${v.lacking ?? 'not privileged'})${hidden}: a migrator running as another account would not show`;
}

/**
 * Never race a migration: called right before repair-airflow changes anything (and before each of its statements),
 * and right before up starts Airflow's migrator. Throws MIGRATION_RUNNING naming the holder. `observer`: the admin
 * connection, which sees the sessions of every account.
 */
export async function assertNoMigrationRunning(dialect: Dialect, before: string, observer?: Dialect): Promise<void> {
  const { lockHolder, ddl } = await readMigrationActivity(dialect, observer);
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
