import type { Knex } from 'knex';
import type { PrivilegeGap, PrivilegeNeed } from '../types.js';
import { folded, rows } from './rows.js';

const OWNER_ONLY = new Set(['ALTER', 'INDEX', 'DROP']);
const TABLE_PRIVILEGES = new Set(['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'REFERENCES']);

/**
 * What the connection's user lacks for `needs` on PostgreSQL, in its own terms (PostgreSQL documentation: ALTER TABLE,
 * CREATE FUNCTION, DROP FUNCTION, GRANT): ALTER TABLE (keys, columns, foreign keys) and DROP need the table's owner or
 * a member of the owning role; CREATE TABLE and CREATE FUNCTION need CREATE on the schema; the rest are table
 * privileges. Each gap comes with the statement that gives it: an ownership change is run by the current owner or a
 * superuser. Everything is asked of the server (pg_has_role, has_schema_privilege, has_table_privilege), so role
 * membership counts.
 */
export async function postgresPrivilegeGaps(knex: Knex, needs: PrivilegeNeed[]): Promise<PrivilegeGap[]> {
  if (needs.length === 0) return [];
  const [me] = rows<{ schema: string | null; role: string; create: boolean | null }>(await knex.raw(
    `SELECT current_schema() AS schema, format('%I', current_user) AS role,
            CASE WHEN current_schema() IS NULL THEN NULL ELSE has_schema_privilege(current_schema(), 'CREATE') END AS "create"`));
  const gaps: PrivilegeGap[] = [];
  const schemaWhy = new Set<string>();
  const owners = new Map<string, { owner: string; why: Set<string> }>();
  const grants = new Map<string, { privileges: Set<string>; why: Set<string> }>();
  for (const need of needs) {
    if (!need.tables && need.privileges.some((p) => p === 'CREATE' || p === 'CREATE ROUTINE') && me.create !== true) schemaWhy.add(need.why);
    for (const t of need.tables ?? []) {
      const [table] = rows<{ name: string; owner: string; owned: boolean; oid: number }>(await knex.raw(
        `SELECT format('%I.%I', n.nspname, c.relname) AS name, format('%I', pg_get_userbyid(c.relowner)) AS owner,
                pg_has_role(c.relowner, 'USAGE') AS owned, c.oid
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relnamespace = current_schema()::regnamespace AND c.relname = ? AND c.relkind IN ('r', 'p')`, [folded(t)]));
      if (!table) continue;
      if (need.privileges.some((p) => OWNER_ONLY.has(p)) && !table.owned) {
        const entry = owners.get(table.name) ?? { owner: table.owner, why: new Set<string>() };
        entry.why.add(need.why);
        owners.set(table.name, entry);
      }
      for (const privilege of need.privileges.filter((p) => TABLE_PRIVILEGES.has(p))) {
        const [row] = rows<{ ok: boolean }>(await knex.raw('SELECT has_table_privilege(?::oid, ?) AS ok', [table.oid, privilege]));
        if (row.ok) continue;
        const entry = grants.get(table.name) ?? { privileges: new Set<string>(), why: new Set<string>() };
        entry.privileges.add(privilege);
        entry.why.add(need.why);
        grants.set(table.name, entry);
      }
    }
    if (need.routine?.signature) {
      const [fn] = rows<{ owned: boolean | null; owner: string | null; name: string | null }>(await knex.raw(
        `SELECT pg_has_role(p.proowner, 'USAGE') AS owned, format('%I', pg_get_userbyid(p.proowner)) AS owner, p.oid::regprocedure::text AS name
           FROM pg_proc p WHERE p.oid = to_regprocedure(quote_ident(current_schema()) || '.' || ?)`, [need.routine.signature]));
      if (fn && fn.owned === false) {
        gaps.push({ missing: `ownership of the function ${fn.name} (owner ${fn.owner})`, why: [need.why],
          grant: `ALTER FUNCTION ${fn.name} OWNER TO ${me.role};`, certain: true });
      }
    }
  }
  if (schemaWhy.size > 0) {
    const schema = me.schema ?? '(none: search_path names no existing schema)';
    gaps.unshift({ missing: `CREATE on schema ${schema}`, why: [...schemaWhy],
      grant: me.schema ? `GRANT CREATE ON SCHEMA ${await quoted(knex, me.schema)} TO ${me.role};` : 'Set the search_path to the schema the tables live in.',
      certain: true });
  }
  if (owners.size > 0) {
    // One gap for all of them: the same fix, one statement per table, usually for the same owner.
    const byOwner = new Map<string, string[]>();
    for (const [name, { owner }] of owners) byOwner.set(owner, [...(byOwner.get(owner) ?? []), name]);
    gaps.push({
      missing: `ownership of ${[...byOwner].map(([owner, names]) => `${names.join(', ')} (owner ${owner})`).join('; ')}`,
      why: [...new Set([...owners.values()].flatMap((o) => [...o.why]))],
      grant: [...owners.keys()].map((name) => `ALTER TABLE ${name} OWNER TO ${me.role};`).join(' '),
      certain: true,
    });
  }
  for (const [name, { privileges, why }] of grants) {
    gaps.push({ missing: `${[...privileges].join(', ')} on ${name}`, why: [...why], grant: `GRANT ${[...privileges].join(', ')} ON ${name} TO ${me.role};`, certain: true });
  }
  return gaps;
}

async function quoted(knex: Knex, name: string): Promise<string> {
  const [row] = rows<{ q: string }>(await knex.raw("SELECT format('%I', ?::text) AS q", [name]));
  return row.q;
}
