import type { Knex } from 'knex';

/**
 * The columns of a table in `schema` (MySQL: a database) or in the connection's own, lower-cased; [] when there is no
 * such table. knex's hasTable/hasColumn ignore withSchema on MySQL, so om-migrate's own stores ask the catalog.
 */
export async function tableColumns(knex: Knex, schema: string | undefined, table: string): Promise<string[]> {
  if (knex.client.config.client === 'mysql2') {
    const [found] = await knex.raw(
      'SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?',
      [schema ?? null, table]) as [Array<{ name: string }>];
    return found.map((r) => r.name.toLowerCase());
  }
  const result = await knex.raw(
    `SELECT a.attname AS name FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
      WHERE c.relnamespace = COALESCE(pg_catalog.to_regnamespace(?), pg_catalog.current_schema()::regnamespace) AND c.relname = ?
        AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped`, [schema ?? null, table.toLowerCase()]) as { rows: Array<{ name: string }> };
  return result.rows.map((r) => r.name.toLowerCase());
}
