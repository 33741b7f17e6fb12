import type { Knex } from 'knex';
import type { AirflowQueries, SchemaIntrospector, SessionInfo } from '../types.js';
import { sessions } from './MysqlIntrospector.js';
import { rows } from './rows.js';

/** A task_instance.id that is not 8-4-4-4-12 hex digits (apache/airflow#54554 left the last group with 8). */
export const malformedIdCondition = (column = 'id'): string =>
  `${column} IS NOT NULL AND ${column} NOT REGEXP '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'`;
export const MALFORMED_ID_CONDITION = malformedIdCondition();

export class MysqlAirflowQueries implements AirflowQueries {
  constructor(private readonly knex: Knex, private readonly introspect: SchemaIntrospector) {}

  async revision(): Promise<string | null | undefined> {
    if (!(await this.introspect.tableExists('alembic_version'))) return undefined;
    const found = rows<{ v: string }>(await this.knex.raw('SELECT version_num AS v FROM alembic_version'));
    return found[0]?.v ?? null;
  }

  async malformedIdCount(): Promise<number> {
    const columns = await this.introspect.columns('task_instance');
    if (!columns.some((c) => c.name === 'id')) return 0;
    const [row] = rows<{ n: string | number }>(await this.knex.raw(
      `SELECT COUNT(*) AS n FROM task_instance WHERE ${MALFORMED_ID_CONDITION}`));
    return Number(row.n);
  }

  async migrationLockHolder(): Promise<SessionInfo | undefined> {
    const [used] = rows<{ id: string | number | null }>(await this.knex.raw("SELECT IS_USED_LOCK('airflow_MIGRATIONS') AS id"));
    if (used.id === null) return undefined;
    const [session] = await sessions(this.knex,
      'SELECT ID AS id, USER AS user, HOST AS client, TIME AS seconds, LEFT(INFO, 200) AS statement FROM information_schema.PROCESSLIST WHERE ID = ?',
      [String(used.id)]);
    return session ?? { connectionId: String(used.id), user: undefined, client: undefined, seconds: undefined, statement: undefined };
  }
}
