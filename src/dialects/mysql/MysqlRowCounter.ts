import type { Knex } from 'knex';
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
    const result: RowCount[] = [];
    for (const table of tables) {
      const estimate = estimates.get(table) ?? 0;
      if (estimate > options.exactUpTo) {
        result.push({ table, rows: estimate, exact: false, note: `over ${options.exactUpTo} rows: the server's estimate` });
        continue;
      }
      try {
        // MariaDB: SET STATEMENT max_statement_time (seconds); MySQL 8: the MAX_EXECUTION_TIME hint (ms, SELECT only).
        const sql = this.mariadb
          ? `SET STATEMENT max_statement_time = ${Math.max(1, Math.ceil(options.timeoutMs / 1000))} FOR SELECT COUNT(*) AS n FROM ??`
          : `SELECT /*+ MAX_EXECUTION_TIME(${Math.max(1, Math.round(options.timeoutMs))}) */ COUNT(*) AS n FROM ??`;
        const [row] = rows<{ n: string | number }>(await this.knex.raw(sql, [table]));
        result.push({ table, rows: Number(row.n), exact: true });
      } catch (error) {
        const errno = (error as { errno?: number }).errno;
        // 1969: MariaDB's statement timeout; 3024: MySQL's "maximum statement execution time exceeded".
        if (errno !== 1969 && errno !== 3024) throw error;
        result.push({ table, rows: estimate, exact: false, note: `count cut off after ${Math.round(options.timeoutMs / 1000)} s: the server's estimate` });
      }
    }
    return result;
  }
}
