import type { Knex } from 'knex';
import { OmMigrateError } from '../../errors.js';
import type { ScratchDatabases } from '../types.js';
import { rows } from './rows.js';

/** CREATE/DROP DATABASE owned by the application role, through a role allowed to do so. */
export class PostgresScratch implements ScratchDatabases {
  constructor(private readonly knex: Knex) {}

  async account(): Promise<string> {
    return rows<{ u: string }>(await this.knex.raw('SELECT pg_catalog.current_user() AS u'))[0].u;
  }

  async canCreate(account?: string): Promise<{ ok: boolean; summary: string }> {
    const [me] = rows<{ u: string; su: boolean; cdb: boolean; member: boolean | null }>(await this.knex.raw(
      `SELECT pg_catalog.current_user() AS u, r.rolsuper AS su, r.rolcreatedb AS cdb,
              CASE WHEN ?::text IS NULL THEN true ELSE pg_catalog.pg_has_role(pg_catalog.current_user(), ?::text, 'MEMBER') END AS member
         FROM pg_roles r WHERE r.rolname = pg_catalog.current_user()`, [account ?? null, account ?? null]));
    if (me.su) return { ok: true, summary: `${me.u} is a superuser` };
    const missing: string[] = [];
    if (!me.cdb) missing.push('CREATEDB');
    if (account && !me.member) missing.push(`membership of ${account} (to make it the copy's owner)`);
    return missing.length === 0 ? { ok: true, summary: `${me.u} has CREATEDB` } : { ok: false, summary: `${me.u} lacks ${missing.join(' and ')}` };
  }

  async create(name: string, account: string, like?: string): Promise<void> {
    checkName(name);
    let locale = '';
    if (like) {
      const [source] = rows<{ e: string; c: string; t: string }>(await this.knex.raw(
        'SELECT pg_catalog.pg_encoding_to_char(encoding) AS e, datcollate AS c, datctype AS t FROM pg_database WHERE datname = ?', [like]));
      if (source) locale = ` TEMPLATE template0 ENCODING ${literal(source.e)} LC_COLLATE ${literal(source.c)} LC_CTYPE ${literal(source.t)}`;
    }
    await this.knex.raw(`CREATE DATABASE ?? OWNER ??${locale}`, [name, account]);
  }

  async drop(name: string): Promise<void> {
    checkName(name);
    // Sessions left on it (a killed run's migrator) would make DROP DATABASE fail; WITH (FORCE) is 13+ only.
    await this.knex.raw('SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ? AND pid <> pg_catalog.pg_backend_pid()', [name])
      .catch(() => undefined);
    await this.knex.raw('DROP DATABASE IF EXISTS ??', [name]);
  }

  async list(prefix: string): Promise<string[]> {
    const found = rows<{ n: string }>(await this.knex.raw('SELECT datname AS n FROM pg_database'));
    return found.map((r) => r.n).filter((n) => n.startsWith(prefix)).sort();
  }
}

function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

function checkName(name: string): void {
  if (!/^[a-z0-9_]{1,63}$/.test(name)) throw new OmMigrateError('INTERNAL', `not a scratch database name: ${name}`);
}
