import type { Knex } from 'knex';
import { countEachTable } from '../countEachTable.js';
import type { RowCount, RowCounter, RowCountOptions } from '../types.js';
import { rows } from './rows.js';

/** Exact COUNT(*) per table, cut off by the server's own statement timeout; information_schema's estimate otherwise. */
export class MysqlRowCounter implements RowCounter {
  private mariadb: boolean | undefined;

  constructor(private readonly knex: Knex) {}

  async tableNames(): Promise<string[]> {
    const found = rows<{ name: string }>(await this.knex.raw(
      "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME"));
    return found.map((r) => r.name);
  }

  async countRows(tables: string[], options: RowCountOptions): Promise<RowCount[]> {
    if (tables.length === 0) return [];
    const estimates = new Map(rows<{ name: string; n: string | number | null }>(await this.knex.raw(
      `SELECT TABLE_NAME AS name, TABLE_ROWS AS n FROM information_schema.TABLES
        WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (${tables.map(() => '?').join(', ')})`, tables))
      .map((r) => [r.name, Number(r.n ?? 0)]));
    this.mariadb ??= /mariadb/i.test(String(rows<{ v: string }>(await this.knex.raw('SELECT VERSION() AS v'))[0].v));
    // MariaDB: SET STATEMENT max_statement_time (seconds); MySQL 8: the MAX_EXECUTION_TIME hint (ms, SELECT only).
    const sql = this.mariadb
      ? `SET STATEMENT max_statement_time = ${Math.max(1, Math.ceil(options.timeoutMs / 1000))} FOR SELECT COUNT(*) AS n FROM ??`
      : `SELECT /*+ MAX_EXECUTION_TIME(${Math.max(1, Math.round(options.timeoutMs))}) */ COUNT(*) AS n FROM ??`;
    return countEachTable(tables, estimates, options,
      async (table) => Number(rows<{ n: string | number }>(await this.knex.raw(sql, [table]))[0].n),
      // 1969: MariaDB's statement timeout; 3024: MySQL's "maximum statement execution time exceeded".
      (error) => [1969, 3024].includes((error as { errno?: number }).errno ?? 0));
  }
}
