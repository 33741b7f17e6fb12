import type { Knex } from 'knex';
import type { ColumnInfo, ForeignKeyInfo, IndexInfo, SchemaIntrospector, SessionInfo, SessionVisibility } from '../types.js';
import { rows } from './rows.js';

/** information_schema of the connected database (DATABASE()). */
export class MysqlIntrospector implements SchemaIntrospector {
  constructor(private readonly knex: Knex) {}

  async tableExists(table: string): Promise<boolean> {
    const found = rows(await this.knex.raw(
      'SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?', [table]));
    return found.length > 0;
  }

  async columns(table: string): Promise<ColumnInfo[]> {
    const found = rows<{ name: string; type: string; nullable: string }>(await this.knex.raw(
      `SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type, IS_NULLABLE AS nullable FROM information_schema.COLUMNS
        WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, [table]));
    return found.map((c) => ({ name: c.name, type: String(c.type).toLowerCase(), nullable: c.nullable === 'YES' }));
  }

  async indexes(table: string): Promise<IndexInfo[]> {
    const found = rows<{ name: string; col: string; nonUnique: number | string }>(await this.knex.raw(
      `SELECT INDEX_NAME AS name, COLUMN_NAME AS col, NON_UNIQUE AS nonUnique FROM information_schema.STATISTICS
        WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY INDEX_NAME, SEQ_IN_INDEX`, [table]));
    const byName = new Map<string, IndexInfo>();
    for (const r of found) {
      const index = byName.get(r.name) ?? { name: r.name, columns: [], unique: Number(r.nonUnique) === 0, primary: r.name === 'PRIMARY' };
      index.columns.push(r.col);
      byName.set(r.name, index);
    }
    return [...byName.values()];
  }

  async foreignKeysReferencing(table: string): Promise<ForeignKeyInfo[]> {
    const found = rows<{ name: string; tbl: string; col: string; refCol: string; onDelete: string; onUpdate: string }>(await this.knex.raw(
      `SELECT k.CONSTRAINT_NAME AS name, k.TABLE_NAME AS tbl, k.COLUMN_NAME AS col, k.REFERENCED_COLUMN_NAME AS refCol,
              r.DELETE_RULE AS onDelete, r.UPDATE_RULE AS onUpdate
         FROM information_schema.KEY_COLUMN_USAGE k
         JOIN information_schema.REFERENTIAL_CONSTRAINTS r
           ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME
        WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME = ?
        ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION`, [table]));
    const byName = new Map<string, ForeignKeyInfo>();
    for (const r of found) {
      const key = `${r.tbl}.${r.name}`;
      const fk = byName.get(key) ?? { name: r.name, table: r.tbl, columns: [], referencedTable: table, referencedColumns: [], onDelete: r.onDelete, onUpdate: r.onUpdate };
      fk.columns.push(r.col);
      fk.referencedColumns.push(r.refCol);
      byName.set(key, fk);
    }
    return [...byName.values()];
  }

  async functionExists(name: string): Promise<boolean> {
    const found = rows(await this.knex.raw(
      `SELECT 1 FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE() AND ROUTINE_NAME = ? AND ROUTINE_TYPE = 'FUNCTION'`,
      [name]));
    return found.length > 0;
  }

  async databaseSizeBytes(): Promise<number> {
    const [row] = rows<{ bytes: string | null }>(await this.knex.raw(
      'SELECT SUM(DATA_LENGTH + INDEX_LENGTH) AS bytes FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()'));
    return Number(row?.bytes ?? 0);
  }

  async relationNames(): Promise<string[]> {
    const found = rows<{ name: string }>(await this.knex.raw(
      'SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME'));
    return found.map((r) => r.name);
  }

  /** MySQL builds indexes in place: there is no INVALID state to find. */
  async invalidIndexes(): Promise<Array<{ name: string; table: string }>> {
    return [];
  }

  invalidIndexRecovery(): string[] {
    return [];
  }

  async activeDdl(database?: string): Promise<SessionInfo[]> {
    return sessions(this.knex, `SELECT ID AS id, USER AS user, HOST AS client, TIME AS seconds, LEFT(INFO, 200) AS statement
         FROM information_schema.PROCESSLIST
        WHERE DB = COALESCE(?, DATABASE()) AND ID <> CONNECTION_ID() AND COMMAND = 'Query'
          AND (INFO REGEXP '^[[:space:]]*(ALTER|CREATE|DROP|RENAME|TRUNCATE|OPTIMIZE)[[:space:]]'
               OR INFO REGEXP '^[[:space:]]*UPDATE[[:space:]]+[\`]*task_instance[\`]*[[:space:]]')`, [database ?? null]);
  }

  /** PROCESSLIST shows other users' sessions only with PROCESS (or SUPER); MariaDB then shows no row for them at all. */
  async sessionVisibility(): Promise<SessionVisibility> {
    const grants = rows<Record<string, string>>(await this.knex.raw('SHOW GRANTS')).map((r) => Object.values(r)[0]);
    const global = grants.filter((g) => /\bON \*\.\*/i.test(g)).map((g) => g.replace(/\bON \*\.\*.*$/is, ''));
    const complete = global.some((g) => /ALL PRIVILEGES|\bPROCESS\b|\bSUPER\b/i.test(g));
    return complete ? { complete } : { complete, lacking: 'no PROCESS privilege' };
  }
}

/** PROCESSLIST rows as SessionInfo. */
export async function sessions(knex: Knex, sql: string, bindings: Knex.RawBinding[] = []): Promise<SessionInfo[]> {
  const found = rows<{ id: string | number; user: string | null; client: string | null; seconds: number | null; statement: string | null }>(
    await knex.raw(sql, bindings));
  return found.map((r) => ({
    connectionId: String(r.id), user: r.user ?? undefined, client: r.client ?? undefined,
    seconds: r.seconds === null ? undefined : Number(r.seconds), statement: r.statement ?? undefined,
  }));
}
