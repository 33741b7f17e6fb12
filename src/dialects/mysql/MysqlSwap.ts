import type { Knex } from 'knex';
import { OmMigrateError } from '../../errors.js';
import type { DatabaseSwap } from '../types.js';
import { rows } from './rows.js';

/**
 * The swap on the MySQL family: one RENAME TABLE moving every base table of the live database into `kept` and every
 * table of the restored copy into the live database. The server runs one RENAME TABLE statement atomically (all
 * renames or none, under metadata locks), and it carries each table with its indexes, constraints and foreign keys.
 * Views, triggers, routines and events belong to the database and do not move: notCarried() names them, and the
 * swap refuses before changing anything when either side has any.
 */
export class MysqlSwap implements DatabaseSwap {
  constructor(private readonly knex: Knex) {}

  async canSwap(): Promise<{ ok: boolean; summary: string }> {
    const [me] = rows<{ u: string }>(await this.knex.raw('SELECT CURRENT_USER() AS u'));
    const at = me.u.lastIndexOf('@');
    const grantee = `'${me.u.slice(0, at)}'@'${me.u.slice(at + 1)}'`;
    const held = new Set(rows<{ p: string }>(await this.knex.raw(
      'SELECT PRIVILEGE_TYPE AS p FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ?', [grantee])).map((r) => r.p));
    const missing = ['ALTER', 'DROP', 'CREATE', 'INSERT'].filter((p) => !held.has(p));
    return missing.length === 0 ? { ok: true, summary: `${me.u} has ALTER, DROP, CREATE and INSERT on *.* (RENAME TABLE across databases)` }
      : { ok: false, summary: `${me.u} lacks ${missing.join(', ')} on *.*, which RENAME TABLE across databases needs` };
  }

  async exists(name: string): Promise<boolean> {
    return rows(await this.knex.raw('SELECT 1 AS x FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [name])).length > 0;
  }

  async notCarried(database: string): Promise<string[]> {
    const found = rows<{ k: string; n: string }>(await this.knex.raw(
      `SELECT 'view' AS k, TABLE_NAME AS n FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ?
       UNION ALL SELECT 'trigger', TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?
       UNION ALL SELECT LOWER(ROUTINE_TYPE), ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?
       UNION ALL SELECT 'event', EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?`, [database, database, database, database]));
    return found.map((r) => `${r.k} ${r.n}`).sort();
  }

  async sessionsOn(databases: string[]): Promise<Array<{ id: string; user: string; database: string }>> {
    if (databases.length === 0) return [];
    const found = rows<{ id: string | number; user: string; db: string }>(await this.knex.raw(
      `SELECT ID AS id, USER AS user, DB AS db FROM information_schema.PROCESSLIST
        WHERE DB IN (${databases.map(() => '?').join(', ')}) AND ID <> CONNECTION_ID()`, databases));
    return found.map((r) => ({ id: String(r.id), user: r.user, database: r.db }));
  }

  async swap(live: string, restored: string, kept: string): Promise<void> {
    for (const name of [live, restored, kept]) checkName(name);
    const left = [...await this.notCarried(live), ...await this.notCarried(restored)];
    if (left.length > 0) {
      throw new OmMigrateError('RESTORE_FAILED', `RENAME TABLE cannot carry ${left.join(', ')}: nothing was swapped`);
    }
    const [charset] = rows<{ c: string; l: string }>(await this.knex.raw(
      'SELECT DEFAULT_CHARACTER_SET_NAME AS c, DEFAULT_COLLATION_NAME AS l FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [live]));
    const options = charset && /^\w+$/.test(charset.c) && /^\w+$/.test(charset.l) ? ` CHARACTER SET ${charset.c} COLLATE ${charset.l}` : '';
    await this.knex.raw(`CREATE DATABASE ??${options}`, [kept]);
    const tablesOf = async (db: string) => rows<{ n: string }>(await this.knex.raw(
      "SELECT TABLE_NAME AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME", [db])).map((r) => r.n);
    const out = await tablesOf(live);
    const into = await tablesOf(restored);
    const pairs = [...out.map((t) => [live, t, kept, t]), ...into.map((t) => [restored, t, live, t])];
    try {
      if (pairs.length > 0) {
        await this.knex.raw(`RENAME TABLE ${pairs.map(() => '??.?? TO ??.??').join(', ')}`, pairs.flat());
      }
    } catch (error) {
      // Nothing moved (the statement is atomic): the empty kept database goes again.
      await this.knex.raw('DROP DATABASE IF EXISTS ??', [kept]).catch(() => undefined);
      throw error;
    }
  }

  async holdsContent(name: string): Promise<boolean> {
    return rows(await this.knex.raw('SELECT 1 AS x FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? LIMIT 1', [name])).length > 0;
  }
}

function checkName(name: string): void {
  if (!/^[A-Za-z0-9_$-]{1,64}$/.test(name)) throw new OmMigrateError('INTERNAL', `not a database name to swap: ${name}`);
}
