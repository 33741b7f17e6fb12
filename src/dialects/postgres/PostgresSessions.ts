import type { Knex } from 'knex';
import { isOwnSession, OM_MIGRATE_PROGRAM } from '../ownSessions.js';
import type { DatabaseSession, SessionLister } from '../types.js';
import { rows } from './rows.js';

interface ActivityRow { id: number; user: string; host: string | null; db: string | null; since: string | Date | null; state: string | null; statement: string | null; program: string | null }

/** pg_stat_activity rows of one user on the connected database: a role sees its own sessions' details. */
export class PostgresSessions implements SessionLister {
  constructor(private readonly knex: Knex, private readonly server: string) {}

  async othersOf(user: string): Promise<DatabaseSession[]> {
    const found = rows<ActivityRow>(await this.knex.raw(
      `SELECT pid AS id, usename AS "user", coalesce(client_hostname, host(client_addr), 'local socket') AS host, datname AS db,
              backend_start AS since, state, left(query, 200) AS statement, application_name AS program
         FROM pg_catalog.pg_stat_activity
        WHERE usename = ? AND datname = pg_catalog.current_database() AND pid <> pg_catalog.pg_backend_pid()
          AND backend_type = 'client backend'
        ORDER BY pid`, [user]));
    return found
      .filter((r) => !isOwnSession(this.server, r.id) && !OM_MIGRATE_PROGRAM.test(r.program ?? ''))
      .map((r) => ({
        id: String(r.id), user: r.user, host: r.host ?? undefined, database: r.db ?? undefined,
        since: r.since === null ? undefined : new Date(r.since).toISOString(),
        state: r.state ?? undefined, statement: r.statement ?? undefined, program: r.program || undefined,
      }));
  }
}
