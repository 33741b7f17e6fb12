import type { Knex } from 'knex';
import { OmMigrateError } from '../../errors.js';
import type { DatabaseSwap } from '../types.js';
import { rows } from './rows.js';

/**
 * The swap on PostgreSQL: `ALTER DATABASE live RENAME TO kept; ALTER DATABASE restored RENAME TO live` in one
 * transaction, from a session on another database (the admin's, on postgres). The server refuses to rename a database
 * any session is connected to, so the swap cannot happen under a running server; and the transaction makes it all or
 * nothing. A database is renamed whole (schemas, views, functions, triggers, extensions), but what belongs to the
 * database object rather than its content is not in a dump: its owner and its per-database settings (ALTER DATABASE …
 * SET, ALTER ROLE … IN DATABASE … SET) and its database-level GRANTs are copied from the live database onto the
 * restored one first (docs/facts/database-swap.md).
 */
export class PostgresSwap implements DatabaseSwap {
  constructor(private readonly knex: Knex) {}

  async canSwap(database: string): Promise<{ ok: boolean; summary: string }> {
    const [me] = rows<{ u: string; su: boolean; cdb: boolean; owner: string | null; member: boolean | null }>(await this.knex.raw(
      `SELECT pg_catalog.current_user() AS u, r.rolsuper AS su, r.rolcreatedb AS cdb, pg_catalog.pg_get_userbyid(d.datdba) AS owner,
              pg_catalog.pg_has_role(pg_catalog.current_user(), d.datdba, 'MEMBER') AS member
         FROM pg_catalog.pg_roles r LEFT JOIN pg_catalog.pg_database d ON d.datname = ? WHERE r.rolname = pg_catalog.current_user()`, [database]));
    if (me.su) return { ok: true, summary: `${me.u} is a superuser` };
    const missing: string[] = [];
    if (!me.cdb) missing.push('CREATEDB');
    if (!me.member) missing.push(`membership of ${me.owner ?? 'the owner'} (the owner of ${database})`);
    return missing.length === 0 ? { ok: true, summary: `${me.u} has CREATEDB and owns ${database}` }
      : { ok: false, summary: `${me.u} lacks ${missing.join(' and ')}, which ALTER DATABASE … RENAME needs` };
  }

  async exists(name: string): Promise<boolean> {
    return rows(await this.knex.raw('SELECT 1 AS x FROM pg_catalog.pg_database WHERE datname = ?', [name])).length > 0;
  }

  async notCarried(): Promise<string[]> {
    return [];
  }

  async sessionsOn(databases: string[]): Promise<Array<{ id: string; user: string; database: string }>> {
    if (databases.length === 0) return [];
    const found = rows<{ id: number; user: string | null; db: string }>(await this.knex.raw(
      `SELECT pid AS id, usename AS "user", datname AS db FROM pg_catalog.pg_stat_activity
        WHERE datname = ANY(?) AND pid <> pg_catalog.pg_backend_pid()`, [databases]));
    return found.map((r) => ({ id: String(r.id), user: r.user ?? '', database: r.db }));
  }

  async swap(live: string, restored: string, kept: string): Promise<void> {
    for (const name of [live, restored, kept]) checkName(name);
    const [owner] = rows<{ o: string }>(await this.knex.raw(
      'SELECT pg_catalog.pg_get_userbyid(datdba) AS o FROM pg_catalog.pg_database WHERE datname = ?', [live]));
    if (!owner) throw new OmMigrateError('RESTORE_FAILED', `the database ${live} does not exist: nothing was swapped`);
    const settings = rows<{ role: string | null; config: string[] }>(await this.knex.raw(
      `SELECT CASE WHEN s.setrole = 0 THEN NULL ELSE pg_catalog.pg_get_userbyid(s.setrole) END AS role, s.setconfig AS config
         FROM pg_catalog.pg_db_role_setting s JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase WHERE d.datname = ?`, [live]));
    // An explicit ACL on the live database (REVOKE CONNECT FROM PUBLIC, say) must not become the defaults on the copy.
    const [acl] = rows<{ explicit: boolean }>(await this.knex.raw('SELECT datacl IS NOT NULL AS explicit FROM pg_catalog.pg_database WHERE datname = ?', [live]));
    const grants = acl?.explicit ? rows<{ grantee: string | null; privilege: string; grantable: boolean }>(await this.knex.raw(
      `SELECT CASE WHEN a.grantee = 0 THEN NULL ELSE pg_catalog.pg_get_userbyid(a.grantee) END AS grantee, a.privilege_type AS privilege, a.is_grantable AS grantable
         FROM pg_catalog.pg_database d, pg_catalog.aclexplode(d.datacl) a WHERE d.datname = ? AND a.grantee <> d.datdba`, [live])) : [];
    await this.knex.transaction(async (trx) => {
      await trx.raw('ALTER DATABASE ?? OWNER TO ??', [restored, owner.o]);
      if (acl?.explicit) {
        await trx.raw('REVOKE ALL ON DATABASE ?? FROM PUBLIC', [restored]);
        for (const g of grants) {
          if (!/^(CONNECT|CREATE|TEMPORARY)$/.test(g.privilege)) continue;
          const option = g.grantable ? ' WITH GRANT OPTION' : '';
          if (g.grantee === null) await trx.raw(`GRANT ${g.privilege} ON DATABASE ?? TO PUBLIC${option}`, [restored]);
          else await trx.raw(`GRANT ${g.privilege} ON DATABASE ?? TO ??${option}`, [restored, g.grantee]);
        }
      }
      for (const s of settings) {
        for (const entry of s.config) {
          const at = entry.indexOf('=');
          const name = entry.slice(0, at);
          if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name)) continue;
          const value = settingValue(entry.slice(at + 1));
          // A utility statement takes no bind parameters: the value is written as literals (settingValue).
          if (s.role === null) await trx.raw(`ALTER DATABASE ?? SET ${name} = ${value}`, [restored]);
          else await trx.raw(`ALTER ROLE ?? IN DATABASE ?? SET ${name} = ${value}`, [s.role, restored]);
        }
      }
      await trx.raw('ALTER DATABASE ?? RENAME TO ??', [live, kept]);
      await trx.raw('ALTER DATABASE ?? RENAME TO ??', [restored, live]);
    });
  }

  async holdsContent(name: string): Promise<boolean> {
    return this.exists(name);
  }
}

/**
 * A stored setting's value as SET takes it, as literals: pg_db_role_setting keeps a list (search_path) flattened as
 * `"$user", public`, so a value with a comma is given element by element, a double-quoted element as the identifier it is.
 */
function settingValue(text: string): string {
  const parts = text.includes(',') ? text.split(',').map((p) => p.trim()) : [text];
  return parts.map((p) => (/^".*"$/.test(p) ? `"${p.slice(1, -1).replace(/""/g, '"').replace(/"/g, '""')}"` : `'${p.replace(/'/g, "''")}'`)).join(', ');
}

function checkName(name: string): void {
  if (!/^[A-Za-z0-9_$-]{1,63}$/.test(name)) throw new OmMigrateError('INTERNAL', `not a database name to swap: ${name}`);
}
