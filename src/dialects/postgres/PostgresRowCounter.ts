import type { Knex } from 'knex';
import { countEachTable } from '../countEachTable.js';
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
    try {
      await this.knex.raw(`SET statement_timeout = ${Math.max(1, Math.round(options.timeoutMs))}`);
      return await countEachTable(tables, estimates, options,
        async (table) => Number(rows<{ n: string }>(await this.knex.raw('SELECT count(*) AS n FROM ??', [table]))[0].n),
        // 57014: query_canceled, what statement_timeout raises.
        (error) => (error as { code?: string }).code === '57014');
    } finally {
      await this.knex.raw('SELECT set_config(\'statement_timeout\', ?, false)', [previous.statement_timeout]).catch(() => undefined);
    }
  }
}
