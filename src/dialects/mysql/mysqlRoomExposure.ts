import type { Knex } from 'knex';
import { OWN_SCHEMA } from '../tables.js';
import { JOURNAL_TABLE } from '../stores/JournalTable.js';
import type { RoomExposure, RoomProblem } from '../types.js';
import { grantedRoles, grantsSetGlobal, grantsWriting, parseGrant, type ParsedGrant } from './grants.js';
import { rows } from './rows.js';

/**
 * What an application account of a MySQL-family server could shape of the admin's room. The admin's session has no
 * default database, so the room is om-migrate's own database, om_migrate: whoever may write or create it decides what
 * the admin "puts back", and a view, trigger or routine there is code the admin would run by reading.
 *
 * `app` is the application's own connection: its grants are read as the server gives them to it — its own, every role
 * it may switch to (SET ROLE) and, on MariaDB 10.11+, PUBLIC's — since that is exactly what it could use. `admin`
 * reads what om_migrate holds.
 */
export async function mysqlRoomExposure(admin: Knex, app: Knex): Promise<RoomExposure> {
  const [me] = rows<{ u: string; v: string }>(await app.raw('SELECT CURRENT_USER() AS u, VERSION() AS v'));
  const account = quoteAccount(me.u);
  const grants = await applicationGrants(app, /mariadb/i.test(me.v));
  const problems: RoomProblem[] = grantsWriting(grants.map((g) => g.grant), OWN_SCHEMA).map((g) => {
    const via = grants.find((x) => x.grant === g)?.via;
    const what = g.on.level === 'proxy' ? `lets ${account} act as ${g.objectText}` : `lets ${account} write or create objects in the database ${OWN_SCHEMA}`;
    return {
      problem: `${g.text}${g.grantee === 'PUBLIC' ? ' TO PUBLIC' : ''}${via ? ` (through role ${via})` : ''} ${what}, where om-migrate journals the admin's changes`,
      fix: `REVOKE ${g.privilegeText} ON ${g.objectText} FROM ${g.grantee}; grant the application only its own database (GRANT ALL ON \`<its database>\`.*, with no wildcard that reaches ${OWN_SCHEMA})`,
    };
  });
  problems.push(...(await foreignObjects(admin)));
  const unique = [...new Map(problems.map((p) => [p.problem, p])).values()];
  return { account, privileged: grantsSetGlobal(grants.map((g) => g.grant)), problems: unique };
}

/**
 * Every grant the account holds or can switch to. MariaDB's SHOW GRANTS gives the account's own, its current role's
 * (nested roles included) and PUBLIC's; each role it may SET ROLE to is switched to in turn and the session's role put
 * back. MySQL 8 names roles in SHOW GRANTS and expands them with USING.
 */
async function applicationGrants(app: Knex, mariadb: boolean): Promise<Array<{ grant: ParsedGrant; via?: string }>> {
  const show = async (sql = 'SHOW GRANTS'): Promise<string[]> =>
    rows<Record<string, string>>(await app.raw(sql)).map((r) => Object.values(r)[0]);
  const own = await show();
  const out = own.flatMap((line) => parsed(line));
  const roles = [...new Set(own.flatMap(grantedRoles))];
  if (roles.length === 0) return out;
  if (!mariadb) {
    // MySQL 8 (not runnable here; from its manual): USING lists the privileges the named roles give; mandatory_roles
    // are granted to every account. Should USING refuse them, the granted roles alone; if not even those, the error
    // stands and the admin connection is refused, never trusted blind.
    const mandatory = rows<{ m: string | null }>(await app.raw('SELECT @@GLOBAL.mandatory_roles AS m').catch(() => [[{ m: null }]]))[0]?.m;
    const all = [...roles, ...(mandatory ? mandatory.split(',').map((r) => r.trim()).filter(Boolean) : [])];
    const expanded = await show(`SHOW GRANTS FOR CURRENT_USER() USING ${all.join(', ')}`)
      .catch(() => show(`SHOW GRANTS FOR CURRENT_USER() USING ${roles.join(', ')}`));
    return [...out, ...expanded.flatMap((line) => parsed(line, all.join(', ')))];
  }
  const [{ r: current }] = rows<{ r: string | null }>(await app.raw('SELECT CURRENT_ROLE() AS r'));
  try {
    for (const role of roles) {
      await app.raw(`SET ROLE ${role}`);
      out.push(...(await show()).flatMap((line) => parsed(line, role)));
    }
  } finally {
    await app.raw(current ? `SET ROLE ${quoteIdentifier(current)}` : 'SET ROLE NONE');
  }
  return out;
}

function parsed(line: string, via?: string): Array<{ grant: ParsedGrant; via?: string }> {
  const grant = parseGrant(line);
  return grant ? [{ grant, via }] : [];
}

/**
 * What om_migrate holds besides om-migrate's own journal table: views, other tables, triggers, routines and events
 * are never om-migrate's, and reading through them would run someone else's code with the admin's privileges.
 * information_schema names them without opening them.
 */
async function foreignObjects(admin: Knex): Promise<RoomProblem[]> {
  const problems: RoomProblem[] = [];
  const tables = rows<{ n: string; t: string }>(await admin.raw(
    'SELECT TABLE_NAME AS n, TABLE_TYPE AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', [OWN_SCHEMA]));
  for (const t of tables) {
    if (t.n === JOURNAL_TABLE && t.t === 'BASE TABLE') continue;
    const view = /VIEW/i.test(t.t);
    problems.push({
      problem: `${OWN_SCHEMA}.${t.n} is a ${view ? 'view' : t.t.toLowerCase()} om-migrate never creates${t.n === JOURNAL_TABLE ? ', in place of its journal table' : ''}`,
      fix: `DROP ${view ? 'VIEW' : 'TABLE'} ${quoteIdentifier(OWN_SCHEMA)}.${quoteIdentifier(t.n)}; and find out who created it`,
    });
  }
  const code = rows<{ kind: string; n: string }>(await admin.raw(
    `SELECT 'TRIGGER' AS kind, TRIGGER_NAME AS n FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? OR EVENT_OBJECT_SCHEMA = ?
      UNION ALL SELECT ROUTINE_TYPE, ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?
      UNION ALL SELECT 'EVENT', EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?`,
    [OWN_SCHEMA, OWN_SCHEMA, OWN_SCHEMA, OWN_SCHEMA]));
  for (const c of code) {
    problems.push({
      problem: `${OWN_SCHEMA} holds the ${c.kind.toLowerCase()} ${c.n}, which om-migrate never creates`,
      fix: `DROP ${c.kind} ${quoteIdentifier(OWN_SCHEMA)}.${quoteIdentifier(c.n)}; and find out who created it`,
    });
  }
  return problems;
}

/** CURRENT_USER()'s "app@%" as `app`@`%`. */
function quoteAccount(user: string): string {
  const at = user.lastIndexOf('@');
  return at < 0 ? quoteIdentifier(user) : `${quoteIdentifier(user.slice(0, at))}@${quoteIdentifier(user.slice(at + 1))}`;
}

function quoteIdentifier(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}
