import type { Knex } from 'knex';
import type { Flavour, PrivilegeGap, PrivilegeName, PrivilegeNeed } from '../types.js';
import { patternMatches } from './grants.js';
import { currentAccount, quoteIdentifier } from './mysqlDumpPrivileges.js';
import { rows } from './rows.js';

/** One line of SHOW GRANTS, read: what it gives, and where. */
interface Grant {
  all: boolean;
  privileges: Set<string>;
  scope: { kind: 'global' } | { kind: 'database'; pattern: string } | { kind: 'table'; database: string; table: string }
    | { kind: 'routine'; database: string; name: string };
}

/**
 * What the connection's user lacks for `needs`, read from SHOW GRANTS: global (*.*), database (with MySQL's `_` and
 * `%` patterns) and table grants, and a routine's own grant for dropping it. Observed on MariaDB 10.11 (docs/facts/
 * servers.md, "Privileges the plan needs"): ALTER alone lets ALTER TABLE add and drop columns and keys; a foreign key
 * also needs REFERENCES on the table it points at (1142 otherwise); CREATE ROUTINE alone lets a user create, call and
 * drop its own function. MySQL documents ALTER TABLE as needing ALTER, CREATE and INSERT. Grants that come through a
 * role are not expanded by SHOW GRANTS: a user with roles gets warnings, not blocks. The fix is one GRANT on the
 * database, which covers every table.
 */
export async function mysqlPrivilegeGaps(knex: Knex, database: string, flavour: Flavour, needs: PrivilegeNeed[]): Promise<PrivilegeGap[]> {
  if (needs.length === 0) return [];
  const lines = rows<Record<string, string>>(await knex.raw('SHOW GRANTS')).map((r) => Object.values(r)[0]);
  const grants = lines.flatMap((l) => parseGrant(l) ?? []);
  const viaRoles = lines.some((l) => /^GRANT\s+[`'][^`']+[`'](@[`'][^`']*[`'])?(\s*,\s*[`'][^`']+[`'](@[`'][^`']*[`'])?)*\s+TO\s/i.test(l));
  const existing = new Set(rows<{ t: string }>(await knex.raw(
    'SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', [database])).map((r) => r.t.toLowerCase()));
  const gives = (privilege: string, table?: string) => grants.some((g) => (g.all || g.privileges.has(privilege)) && (
    g.scope.kind === 'global'
    || (g.scope.kind === 'database' && patternMatches(g.scope.pattern, database))
    || (table !== undefined && g.scope.kind === 'table' && g.scope.database === database && g.scope.table.toLowerCase() === table.toLowerCase())));
  const missing = new Map<PrivilegeName, Set<string>>();
  const lack = (privilege: PrivilegeName, why: string) => {
    if (!missing.has(privilege)) missing.set(privilege, new Set());
    missing.get(privilege)!.add(why);
  };
  for (const need of needs) {
    const privileges = new Set(need.privileges);
    // MySQL's manual: "To use ALTER TABLE, you need ALTER, CREATE, and INSERT privileges for the table."
    if (flavour === 'mysql' && privileges.has('ALTER') && need.tables) for (const p of ['CREATE', 'INSERT'] as const) privileges.add(p);
    for (const privilege of privileges) {
      const tables = need.tables?.filter((t) => existing.has(t.toLowerCase()));
      if (need.tables && tables!.length === 0) continue;
      const ok = tables ? tables.every((t) => gives(privilege, t)) : gives(privilege);
      if (!ok) lack(privilege, need.why);
    }
    if (need.routine) {
      const own = grants.some((g) => g.scope.kind === 'routine' && g.scope.database === database
        && g.scope.name.toLowerCase() === need.routine!.name.toLowerCase() && (g.all || g.privileges.has('ALTER ROUTINE')));
      if (!own && !gives('ALTER ROUTINE')) lack('ALTER ROUTINE', need.why);
    }
  }
  if (missing.size === 0) return [];
  const names = [...missing.keys()];
  const why = [...new Set([...missing.values()].flatMap((s) => [...s]))];
  const account = await currentAccount(knex);
  return [{
    missing: `${names.join(', ')} on ${database}`,
    why,
    grant: `GRANT ${names.join(', ')} ON ${quoteIdentifier(database)}.* TO ${account};`,
    certain: !viaRoles,
  }];
}

/** "GRANT SELECT, ALTER ROUTINE, UPDATE (`c`) ON `db`.* TO `u`@`%`" → what and where; undefined for other lines. */
function parseGrant(line: string): Grant | undefined {
  const match = /^GRANT\s+(.+?)\s+ON\s+(?:(FUNCTION|PROCEDURE|TABLE)\s+)?(\*|`(?:[^`]|``)+`)\.(\*|`(?:[^`]|``)+`)\s+TO\s/i.exec(line);
  if (!match) return undefined;
  const privileges = new Set<string>();
  let depth = 0;
  let current = '';
  for (const c of `${match[1]},`) {
    if (c === '(') depth += 1;
    if (c === ')') depth -= 1;
    if (c === ',' && depth === 0) {
      privileges.add(current.replace(/\(.*\)/s, '').trim().toUpperCase());
      current = '';
    } else {
      current += c;
    }
  }
  const all = privileges.has('ALL') || privileges.has('ALL PRIVILEGES');
  const unquote = (s: string) => s.slice(1, -1).replace(/``/g, '`');
  const [db, object] = [match[3], match[4]];
  if (db === '*') return { all, privileges, scope: { kind: 'global' } };
  if (object === '*') return { all, privileges, scope: { kind: 'database', pattern: unquote(db) } };
  if (match[2] && /FUNCTION|PROCEDURE/i.test(match[2])) return { all, privileges, scope: { kind: 'routine', database: unquote(db), name: unquote(object) } };
  return { all, privileges, scope: { kind: 'table', database: unquote(db), table: unquote(object) } };
}
