import type { Knex } from 'knex';
import type { AirflowQueries, ForeignKeyInfo, SchemaIntrospector, SessionInfo } from '../types.js';
import { sessions } from './MysqlIntrospector.js';
import { rows } from './rows.js';
import { MYSQL_DRIVER_PROBE } from './airflowDriverProbeScript.js';

/** A task_instance.id that is not 8-4-4-4-12 hex digits (apache/airflow#54554 left the last group with 8). */
export const malformedIdCondition = (column = 'id'): string =>
  `${column} IS NOT NULL AND ${column} NOT REGEXP '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'`;
export const MALFORMED_ID_CONDITION = malformedIdCondition();

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

export class MysqlAirflowQueries implements AirflowQueries {
  readonly driverProbeScript = MYSQL_DRIVER_PROBE;

  constructor(private readonly knex: Knex, private readonly introspect: SchemaIntrospector) {}

  async revision(): Promise<string | null | undefined> {
    if (!(await this.introspect.tableExists('alembic_version'))) return undefined;
    const found = rows<{ v: string }>(await this.knex.raw('SELECT version_num AS v FROM alembic_version'));
    return found[0]?.v ?? null;
  }

  /** MySQL cannot rename a foreign key: drop it and create it under the new name, on the same columns. */
  renameForeignKeyStatements(fk: ForeignKeyInfo, name: string): string[] {
    const id = (x: string) => `\`${x.replace(/`/g, '``')}\``;
    return [
      `ALTER TABLE ${id(fk.table)} DROP FOREIGN KEY ${id(fk.name)};`,
      `ALTER TABLE ${id(fk.table)} ADD CONSTRAINT ${id(name)} FOREIGN KEY (${fk.columns.map(id).join(', ')}) `
        + `REFERENCES ${id(fk.referencedTable)} (${fk.referencedColumns.map(id).join(', ')});`,
    ];
  }

  async fabRevision(): Promise<string | null | undefined> {
    if (!(await this.introspect.tableExists('alembic_version_fab'))) return undefined;
    const found = rows<{ v: string }>(await this.knex.raw('SELECT version_num AS v FROM alembic_version_fab'));
    return found[0]?.v ?? null;
  }

  async malformedIdCount(): Promise<number> {
    const columns = await this.introspect.columns('task_instance');
    if (!columns.some((c) => c.name === 'id')) return 0;
    const [row] = rows<{ n: string | number }>(await this.knex.raw(
      `SELECT COUNT(*) AS n FROM task_instance WHERE ${MALFORMED_ID_CONDITION}`));
    return Number(row.n);
  }

  /**
   * GET_LOCK names are server-wide: another Airflow database's migration on the same server holds the same name
   * (docs/facts/airflow.md). Its holder session is connected to that database, so only a holder connected to this one
   * (or one whose database cannot be read) counts as a migration of this database.
   */
  async migrationLockHolder(database?: string): Promise<SessionInfo | undefined> {
    const [used] = rows<{ id: string | number | null }>(await this.knex.raw("SELECT IS_USED_LOCK('airflow_MIGRATIONS') AS id"));
    if (used.id === null) return undefined;
    const [where] = rows<{ db: string | null; mine: string | null }>(await this.knex.raw(
      'SELECT DB AS db, COALESCE(?, DATABASE()) AS mine FROM information_schema.PROCESSLIST WHERE ID = ?', [database ?? null, String(used.id)]));
    if (where?.db != null && where.mine != null && where.db !== where.mine) return undefined;
    const [session] = await sessions(this.knex,
      'SELECT ID AS id, USER AS user, HOST AS client, TIME AS seconds, LEFT(INFO, 200) AS statement FROM information_schema.PROCESSLIST WHERE ID = ?',
      [String(used.id)]);
    return session ?? { connectionId: String(used.id), user: undefined, client: undefined, seconds: undefined, statement: undefined };
  }

  async leftoverFunctionExists(): Promise<boolean> {
    return this.introspect.functionExists('uuid_generate_v7');
  }

  /** 0042's MySQL function: one parameter p_timestamp DATETIME(3), returning CHAR(36) (docs/facts/airflow.md). */
  async functionHasAirflowSignature(): Promise<boolean> {
    const found = rows<{ mode: string | null; name: string | null; type: string }>(await this.knex.raw(
      `SELECT PARAMETER_MODE AS mode, PARAMETER_NAME AS name, LOWER(DTD_IDENTIFIER) AS type FROM information_schema.PARAMETERS
        WHERE SPECIFIC_SCHEMA = DATABASE() AND SPECIFIC_NAME = 'uuid_generate_v7' AND ROUTINE_TYPE = 'FUNCTION' ORDER BY ORDINAL_POSITION`));
    return found.length === 2 && found[0].mode === null && found[0].type.startsWith('char(36)')
      && found[1].name?.toLowerCase() === 'p_timestamp' && found[1].type === 'datetime(3)';
  }

  async pgcryptoSchema(): Promise<string | undefined> {
    return undefined;
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
