import type { Knex } from 'knex';
import type { RowCount, RowCounter, RowCountOptions } from '../types.js';
import { rows } from './rows.js';

/** Exact count(*) per table of the current schema under a statement_timeout; pg_class.reltuples otherwise. */
export class PostgresRowCounter implements RowCounter {
  constructor(private readonly knex: Knex) {}

  async tableNames(): Promise<string[]> {
    const found = rows<{ name: string }>(await this.knex.raw(
      'SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1'));
    return found.map((r) => r.name);
  }

  async countRows(tables: string[], options: RowCountOptions): Promise<RowCount[]> {
    if (tables.length === 0) return [];
    const estimates = new Map(rows<{ name: string; n: string | number }>(await this.knex.raw(
      `SELECT c.relname AS name, c.reltuples AS n FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace
          AND c.relname = ANY(?)`, [tables])).map((r) => [r.name, Math.max(0, Math.round(Number(r.n)))]));
    const [previous] = rows<{ statement_timeout: string }>(await this.knex.raw('SHOW statement_timeout'));
    const result: RowCount[] = [];
    try {
      await this.knex.raw(`SET statement_timeout = ${Math.max(1, Math.round(options.timeoutMs))}`);
      for (const table of tables) {
        const estimate = estimates.get(table) ?? 0;
        if (estimate > options.exactUpTo) {
          result.push({ table, rows: estimate, exact: false, note: `over ${options.exactUpTo} rows: the server's estimate` });
          continue;
        }
        try {
          const [row] = rows<{ n: string }>(await this.knex.raw('SELECT count(*) AS n FROM ??', [table]));
          result.push({ table, rows: Number(row.n), exact: true });
        } catch (error) {
          // 57014: query_canceled, what statement_timeout raises.
          if ((error as { code?: string }).code !== '57014') throw error;
          result.push({ table, rows: estimate, exact: false, note: `count cut off after ${Math.round(options.timeoutMs / 1000)} s: the server's estimate` });
        }
      }
    } finally {
      await this.knex.raw('SELECT set_config(\'statement_timeout\', ?, false)', [previous.statement_timeout]).catch(() => undefined);
    }
    return result;
  }
}
