import type { Knex } from 'knex';
import type { DumpPrivilegeProblem } from '../types.js';
import { rows } from './rows.js';

/**
 * pg_dump reads every table's rows and every sequence's state in every schema it dumps (all but the system ones),
 * and stops at the first "permission denied". Views, functions and types need no privilege to be dumped.
 */
export async function postgresDumpPrivilegeProblems(knex: Knex): Promise<DumpPrivilegeProblem[]> {
  const denied = rows<{ schema: string; name: string | null }>(await knex.raw(
    `SELECT n.nspname AS schema, NULL::text AS name FROM pg_namespace n
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
        AND NOT has_schema_privilege(n.oid, 'USAGE')
     UNION ALL
     SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'S') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
        AND has_schema_privilege(n.oid, 'USAGE') AND NOT has_table_privilege(c.oid, 'SELECT')
     ORDER BY 1, 2 NULLS FIRST`));
  if (denied.length === 0) return [];
  const [user] = rows<{ u: string }>(await knex.raw('SELECT current_user AS u'));
  const schemas = [...new Set(denied.map((d) => d.schema))];
  const named = denied.slice(0, 5).map((d) => d.name === null ? `schema ${d.schema}` : `${d.schema}.${d.name}`).join(', ')
    + (denied.length > 5 ? ` and ${denied.length - 5} more` : '');
  const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;
  return [{
    severity: 'block',
    summary: `${user.u} cannot read every table and sequence the backup must read, so the dump would stop at "permission denied": ${named}`,
    fix: `${schemas.map((s) => `GRANT USAGE ON SCHEMA ${ident(s)} TO ${ident(user.u)}; GRANT SELECT ON ALL TABLES IN SCHEMA ${ident(s)} TO ${ident(user.u)}; GRANT SELECT ON ALL SEQUENCES IN SCHEMA ${ident(s)} TO ${ident(user.u)};`).join(' ')} (PostgreSQL 14+: GRANT pg_read_all_data TO ${ident(user.u)};)`,
  }];
}
