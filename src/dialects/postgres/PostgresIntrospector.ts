import type { Knex } from 'knex';
import type { ColumnInfo, ForeignKeyInfo, IndexInfo, SchemaIntrospector, SessionInfo, SessionVisibility } from '../types.js';
import { folded, rows } from './rows.js';

/** The catalog of the current schema (current_schema(), normally public). */
export class PostgresIntrospector implements SchemaIntrospector {
  constructor(private readonly knex: Knex) {}

  /**
   * From pg_class, not information_schema.tables: the latter hides tables the user has no privilege on, and a
   * SERVER_CHANGE_LOG owned by someone else must not read as "fresh install".
   */
  async tableExists(table: string): Promise<boolean> {
    const found = rows(await this.knex.raw(
      `SELECT 1 FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relname = ? AND relkind IN ('r', 'p', 'v', 'm', 'f')`,
      [folded(table)]));
    return found.length > 0;
  }

  async columns(table: string): Promise<ColumnInfo[]> {
    const found = rows<{ name: string; type: string; nullable: boolean }>(await this.knex.raw(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, NOT a.attnotnull AS nullable
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        WHERE c.relnamespace = current_schema()::regnamespace AND c.relname = ? AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum`, [folded(table)]));
    return found.map((c) => ({ name: c.name, type: c.type.toLowerCase(), nullable: c.nullable }));
  }

  async indexes(table: string): Promise<IndexInfo[]> {
    const found = rows<{ name: string; columns: string[]; unique: boolean; primary: boolean }>(await this.knex.raw(
      `SELECT ic.relname AS name, i.indisunique AS unique, i.indisprimary AS primary,
              array(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
                      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS columns
         FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_class ic ON ic.oid = i.indexrelid
        WHERE c.relnamespace = current_schema()::regnamespace AND c.relname = ?
        ORDER BY ic.relname`, [folded(table)]));
    return found.map((r) => ({ name: r.name, columns: r.columns, unique: r.unique, primary: r.primary }));
  }

  async foreignKeysReferencing(table: string): Promise<ForeignKeyInfo[]> {
    const found = rows<{ name: string; tbl: string; columns: string[]; refColumns: string[]; onDelete: string; onUpdate: string }>(await this.knex.raw(
      `SELECT con.conname AS name, src.relname AS tbl,
              array(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY AS k(n, ord)
                      JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.ord)::text[] AS columns,
              array(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY AS k(n, ord)
                      JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.ord)::text[] AS "refColumns",
              CASE con.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT'
                                   WHEN 'r' THEN 'RESTRICT' ELSE 'NO ACTION' END AS "onDelete",
              CASE con.confupdtype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT'
                                   WHEN 'r' THEN 'RESTRICT' ELSE 'NO ACTION' END AS "onUpdate"
         FROM pg_constraint con JOIN pg_class src ON src.oid = con.conrelid JOIN pg_class ref ON ref.oid = con.confrelid
        WHERE con.contype = 'f' AND ref.relnamespace = current_schema()::regnamespace AND ref.relname = ?
        ORDER BY src.relname, con.conname`, [folded(table)]));
    return found.map((r) => ({
      name: r.name, table: r.tbl, columns: r.columns, referencedTable: folded(table), referencedColumns: r.refColumns, onDelete: r.onDelete, onUpdate: r.onUpdate,
    }));
  }

  async functionExists(name: string): Promise<boolean> {
    const found = rows(await this.knex.raw(
      'SELECT 1 FROM pg_proc WHERE proname = ? AND pronamespace = current_schema()::regnamespace', [folded(name)]));
    return found.length > 0;
  }

  async databaseSizeBytes(): Promise<number> {
    const [row] = rows<{ bytes: string }>(await this.knex.raw('SELECT pg_database_size(current_database()) AS bytes'));
    return Number(row.bytes);
  }

  async relationNames(): Promise<string[]> {
    // Every user schema, not only current_schema(): a restore must not land on top of any of them.
    const found = rows<{ name: string }>(await this.knex.raw(
      `SELECT n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
          AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
        ORDER BY 1`));
    return found.map((r) => r.name);
  }

  async invalidIndexes(): Promise<Array<{ name: string; table: string }>> {
    return rows<{ name: string; table: string }>(await this.knex.raw(
      `SELECT c.relname AS name, t.relname AS "table"
         FROM pg_catalog.pg_index i
         JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
         JOIN pg_catalog.pg_class t ON t.oid = i.indrelid
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE NOT i.indisvalid AND n.nspname = pg_catalog.current_schema()
        ORDER BY 1`));
  }

  invalidIndexRecovery(name: string): string[] {
    const literal = name.replace(/'/g, "''").replace(/[\\%_]/g, (c) => `\\${c}`);
    return [
      `DROP INDEX CONCURRENTLY IF EXISTS "${name.replace(/"/g, '""')}";`,
      `DELETE FROM server_migration_sql_logs WHERE sqlstatement LIKE '%${literal}%' ESCAPE '\\';`,
    ];
  }

  async activeDdl(database?: string): Promise<SessionInfo[]> {
    return sessions(this.knex, `SELECT pid AS id, usename AS user, client_addr::text AS client,
              EXTRACT(EPOCH FROM now() - query_start)::int AS seconds, left(query, 200) AS statement
         FROM pg_stat_activity
        WHERE datname = COALESCE(?, current_database()) AND pid <> pg_backend_pid() AND state = 'active'
          AND (query ~* '^\\s*(ALTER|CREATE|DROP|TRUNCATE|REINDEX)\\s' OR query ~* '^\\s*UPDATE\\s+"{0,1}task_instance"{0,1}\\s')`, [database ?? null]);
  }

  /**
   * pg_stat_activity shows every session, but the state and statement of another role's only to a superuser or a
   * member of pg_read_all_stats (or of that role); those sessions are counted, so a report can say how many it cannot read.
   */
  async sessionVisibility(database?: string): Promise<SessionVisibility> {
    const [row] = rows<{ complete: boolean; hidden: string | number }>(await this.knex.raw(
      `SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) OR pg_has_role('pg_read_all_stats', 'MEMBER') AS complete,
              (SELECT count(*) FROM pg_stat_activity
                WHERE datname = COALESCE(?, current_database()) AND pid <> pg_backend_pid() AND usesysid IS NOT NULL
                  AND NOT pg_has_role(usesysid, 'MEMBER')) AS hidden`, [database ?? null]));
    return row.complete ? { complete: true }
      : { complete: false, lacking: 'neither superuser nor a member of pg_read_all_stats', hiddenSessions: Number(row.hidden) };
  }
}

/** pg_stat_activity rows as SessionInfo. */
export async function sessions(knex: Knex, sql: string, bindings: Knex.RawBinding[] = []): Promise<SessionInfo[]> {
  const found = rows<{ id: number; user: string | null; client: string | null; seconds: number | null; statement: string | null }>(
    await knex.raw(sql, bindings));
  return found.map((r) => ({
    connectionId: String(r.id), user: r.user ?? undefined, client: r.client ?? undefined,
    seconds: r.seconds === null ? undefined : Number(r.seconds), statement: r.statement ?? undefined,
  }));
}
