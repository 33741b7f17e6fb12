import type { Knex } from 'knex';
import { OmMigrateError } from '../../errors.js';
import type { ScratchDatabases } from '../types.js';
import { rows } from './rows.js';

/** CREATE/DROP DATABASE and the application user's grant on it, through an account allowed to do so. */
export class MysqlScratch implements ScratchDatabases {
  constructor(private readonly knex: Knex) {}

  async account(): Promise<string> {
    return rows<{ u: string }>(await this.knex.raw('SELECT CURRENT_USER() AS u'))[0].u;
  }

  async canCreate(): Promise<{ ok: boolean; summary: string }> {
    const [me] = rows<{ u: string }>(await this.knex.raw('SELECT CURRENT_USER() AS u'));
    const at = me.u.lastIndexOf('@');
    const grantee = `'${me.u.slice(0, at)}'@'${me.u.slice(at + 1)}'`;
    const held = new Set(rows<{ p: string }>(await this.knex.raw(
      'SELECT PRIVILEGE_TYPE AS p FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ?', [grantee])).map((r) => r.p));
    const grantable = rows<{ g: string }>(await this.knex.raw(
      "SELECT IS_GRANTABLE AS g FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ? AND IS_GRANTABLE = 'YES' LIMIT 1", [grantee])).length > 0;
    const missing = ['CREATE', 'DROP'].filter((p) => !held.has(p));
    if (!grantable) missing.push('GRANT OPTION');
    return missing.length === 0
      ? { ok: true, summary: `${me.u} has CREATE, DROP and GRANT OPTION on *.*` }
      : { ok: false, summary: `${me.u} lacks ${missing.join(', ')} on *.*` };
  }

  async create(name: string, account: string, like?: string): Promise<void> {
    checkName(name);
    let charset = '';
    if (like) {
      const [source] = rows<{ c: string; l: string }>(await this.knex.raw(
        'SELECT DEFAULT_CHARACTER_SET_NAME AS c, DEFAULT_COLLATION_NAME AS l FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [like]));
      if (source && /^\w+$/.test(source.c) && /^\w+$/.test(source.l)) charset = ` CHARACTER SET ${source.c} COLLATE ${source.l}`;
    }
    await this.knex.raw(`CREATE DATABASE ??${charset}`, [name]);
    const at = account.lastIndexOf('@');
    await this.knex.raw('GRANT ALL PRIVILEGES ON ??.* TO ?@?', [name, account.slice(0, at), account.slice(at + 1)]);
  }

  async drop(name: string): Promise<void> {
    checkName(name);
    // DROP DATABASE leaves database-level grants behind: a later database of the same name would inherit them.
    const grants = rows<{ u: string; h: string }>(await this.knex.raw(
      'SELECT User AS u, Host AS h FROM mysql.db WHERE Db = ? OR Db = ?', [name, name.replace(/_/g, '\\_')]).catch(() => [[]]));
    for (const g of grants) await this.knex.raw('REVOKE ALL PRIVILEGES ON ??.* FROM ?@?', [name, g.u, g.h]).catch(() => undefined);
    await this.knex.raw('DROP DATABASE IF EXISTS ??', [name]);
  }

  async list(prefix: string): Promise<string[]> {
    const found = rows<{ n: string }>(await this.knex.raw('SELECT SCHEMA_NAME AS n FROM information_schema.SCHEMATA'));
    return found.map((r) => r.n).filter((n) => n.startsWith(prefix)).sort();
  }
}

function checkName(name: string): void {
  if (!/^[a-z0-9_]{1,64}$/.test(name)) throw new OmMigrateError('INTERNAL', `not a scratch database name: ${name}`);
}
