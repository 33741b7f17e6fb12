import type { Knex } from 'knex';
import { isOwnSession, OM_MIGRATE_LOCK_WAIT, OM_MIGRATE_PROGRAM } from '../ownSessions.js';
import type { DatabaseSession, SessionLister } from '../types.js';
import { rows } from './rows.js';

interface ProcessRow { id: string | number; user: string; host: string | null; db: string | null; state: string | null; seconds: number | null; statement: string | null }

/**
 * PROCESSLIST rows of one user on the connected database. A user sees its own threads without the PROCESS privilege,
 * which is all this needs. MySQL keeps no connection start time there, only how long the current state has lasted.
 */
export class MysqlSessions implements SessionLister {
  constructor(private readonly knex: Knex, private readonly server: string) {}

  async othersOf(user: string): Promise<DatabaseSession[]> {
    const found = rows<ProcessRow>(await this.knex.raw(
      `SELECT ID AS id, USER AS user, HOST AS host, DB AS db, COMMAND AS state, TIME AS seconds, LEFT(INFO, 200) AS statement
         FROM information_schema.PROCESSLIST
        WHERE USER = ? AND DB = DATABASE() AND ID <> CONNECTION_ID()
        ORDER BY ID`, [user]));
    const programs = await this.programNames(found.map((r) => String(r.id)));
    const now = Date.now();
    return found
      .filter((r) => !isOwnSession(this.server, r.id) && !OM_MIGRATE_LOCK_WAIT.test(r.statement ?? '')
        && !OM_MIGRATE_PROGRAM.test(programs.get(String(r.id)) ?? ''))
      .map((r) => ({
        id: String(r.id), user: r.user, host: r.host ?? undefined, database: r.db ?? undefined,
        since: r.seconds === null ? undefined : new Date(now - Number(r.seconds) * 1000).toISOString(),
        state: r.state ?? undefined, statement: r.statement ?? undefined, program: programs.get(String(r.id)),
      }));
  }

  /** MySQL 8's performance_schema keeps each connection's program_name; MariaDB only when performance_schema is on. */
  private async programNames(ids: string[]): Promise<Map<string, string>> {
    const names = new Map<string, string>();
    if (ids.length === 0) return names;
    try {
      const found = rows<{ id: string | number; program: string }>(await this.knex.raw(
        `SELECT PROCESSLIST_ID AS id, ATTR_VALUE AS program FROM performance_schema.session_connect_attrs
          WHERE ATTR_NAME = 'program_name' AND PROCESSLIST_ID IN (${ids.map(() => '?').join(', ')})`, ids));
      for (const r of found) names.set(String(r.id), r.program);
    } catch {
      // performance_schema off, or not readable by this user: the program names are simply unknown.
    }
    return names;
  }
}
