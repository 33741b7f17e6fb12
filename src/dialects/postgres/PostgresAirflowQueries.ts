import type { Knex } from 'knex';
import type { AirflowQueries, ForeignKeyInfo, SchemaIntrospector, SessionInfo } from '../types.js';
import { sessions } from './PostgresIntrospector.js';
import { rows } from './rows.js';

/** The function d59cbbef95eb creates and drops (apache/airflow 0042, pg_uuid7_fn / pg_uuid7_fn_drop). */
export const AIRFLOW_FUNCTION_SIGNATURE = 'uuid_generate_v7(timestamp with time zone)';

/** Only the fixed table names of the seven dependants reach these statements; anything else is a bug. */
function table(name: string): string {
  if (!/^[a-z_]+$/.test(name)) throw new Error(`not a dependant table name: ${name}`);
  return name;
}

/**
 * The rows of a dependant table that the foreign key d59cbbef95eb re-creates would refuse: all four key columns set
 * (a key with a NULL column is not checked, MATCH SIMPLE) and no task_instance with that key.
 */
export function orphanCondition(name: string): string {
  const t = table(name);
  return `${t}.dag_id IS NOT NULL AND ${t}.task_id IS NOT NULL AND ${t}.run_id IS NOT NULL AND ${t}.map_index IS NOT NULL`
    + ` AND NOT EXISTS (SELECT 1 FROM task_instance ti WHERE ti.dag_id = ${t}.dag_id AND ti.task_id = ${t}.task_id`
    + ` AND ti.run_id = ${t}.run_id AND ti.map_index = ${t}.map_index)`;
}

const DUPLICATE_KEYS = 'SELECT dag_id, task_id, run_id, map_index, COUNT(*) AS copies FROM task_instance'
  + ' GROUP BY dag_id, task_id, run_id, map_index HAVING COUNT(*) > 1';

export class PostgresAirflowQueries implements AirflowQueries {
  /** psycopg2 reads the URL as libpq does, and PostgreSQL runs several statements in one call: nothing to ask. */
  readonly driverProbeScript = undefined;

  constructor(private readonly knex: Knex, private readonly introspect: SchemaIntrospector) {}

  async revision(): Promise<string | null | undefined> {
    if (!(await this.introspect.tableExists('alembic_version'))) return undefined;
    const found = rows<{ v: string }>(await this.knex.raw('SELECT version_num AS v FROM alembic_version'));
    return found[0]?.v ?? null;
  }

  renameForeignKeyStatements(fk: ForeignKeyInfo, name: string): string[] {
    const id = (x: string) => `"${x.replace(/"/g, '""')}"`;
    return [`ALTER TABLE ${id(fk.table)} RENAME CONSTRAINT ${id(fk.name)} TO ${id(name)};`];
  }

  async fabRevision(): Promise<string | null | undefined> {
    if (!(await this.introspect.tableExists('alembic_version_fab'))) return undefined;
    const found = rows<{ v: string }>(await this.knex.raw('SELECT version_num AS v FROM alembic_version_fab'));
    return found[0]?.v ?? null;
  }

  /** task_instance.id is a native UUID on PostgreSQL: the server rejects malformed values, so there are none. */
  async malformedIdCount(): Promise<number> {
    return 0;
  }

  /** pg_advisory_lock(1): key 1 is classid 0, objid 1, objsubid 1, in this database. */
  async migrationLockHolder(database?: string): Promise<SessionInfo | undefined> {
    const [session] = await sessions(this.knex, `SELECT l.pid AS id, a.usename AS user, a.client_addr::text AS client,
              EXTRACT(EPOCH FROM now() - a.query_start)::int AS seconds, left(a.query, 200) AS statement
         FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = 1 AND l.objsubid = 1
          AND l.database = (SELECT oid FROM pg_database WHERE datname = COALESCE(?, current_database()))`, [database ?? null]);
    return session;
  }

  /** Resolved in the current schema by its signature: another uuid_generate_v7 (e.g. pg_uuidv7's, no argument) is not Airflow's. */
  async leftoverFunctionExists(): Promise<boolean> {
    const [row] = rows<{ f: string | null }>(await this.knex.raw(
      `SELECT to_regprocedure(quote_ident(current_schema()) || '.${AIRFLOW_FUNCTION_SIGNATURE}')::text AS f`));
    return row.f !== null;
  }

  /** The lookup is by Airflow's exact signature already. */
  async functionHasAirflowSignature(): Promise<boolean> {
    return this.leftoverFunctionExists();
  }

  async pgcryptoSchema(): Promise<string | undefined> {
    const [row] = rows<{ s: string }>(await this.knex.raw(
      "SELECT n.nspname AS s FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pgcrypto'"));
    return row?.s;
  }

  async orphanCount(name: string): Promise<number> {
    const [row] = rows<{ n: string | number }>(await this.knex.raw(`SELECT COUNT(*) AS n FROM ${table(name)} WHERE ${orphanCondition(name)}`));
    return Number(row.n);
  }

  orphanListQuery(name: string): string {
    return `SELECT * FROM ${table(name)} WHERE ${orphanCondition(name)}`;
  }

  async duplicateKeyCount(): Promise<{ keys: number; rows: number }> {
    const [row] = rows<{ k: string | number; r: string | number | null }>(await this.knex.raw(
      `SELECT COUNT(*) AS k, SUM(copies) AS r FROM (${DUPLICATE_KEYS}) d`));
    return { keys: Number(row.k), rows: Number(row.r ?? 0) };
  }

  duplicateListQuery(): string {
    return `${DUPLICATE_KEYS} ORDER BY dag_id, task_id, run_id, map_index`;
  }
}
