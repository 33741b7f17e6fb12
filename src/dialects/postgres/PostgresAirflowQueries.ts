import type { Knex } from 'knex';
import type { AirflowQueries, SchemaIntrospector, SessionInfo } from '../types.js';
import { sessions } from './PostgresIntrospector.js';
import { rows } from './rows.js';

export class PostgresAirflowQueries implements AirflowQueries {
  constructor(private readonly knex: Knex, private readonly introspect: SchemaIntrospector) {}

  async revision(): Promise<string | null | undefined> {
    if (!(await this.introspect.tableExists('alembic_version'))) return undefined;
    const found = rows<{ v: string }>(await this.knex.raw('SELECT version_num AS v FROM alembic_version'));
    return found[0]?.v ?? null;
  }

  /** task_instance.id is a native UUID on PostgreSQL: the server rejects malformed values, so there are none. */
  async malformedIdCount(): Promise<number> {
    return 0;
  }

  /** pg_advisory_lock(1): key 1 is classid 0, objid 1, objsubid 1, in this database. */
  async migrationLockHolder(): Promise<SessionInfo | undefined> {
    const [session] = await sessions(this.knex, `SELECT l.pid AS id, a.usename AS user, a.client_addr::text AS client,
              EXTRACT(EPOCH FROM now() - a.query_start)::int AS seconds, left(a.query, 200) AS statement
         FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = 1 AND l.objsubid = 1
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`);
    return session;
  }
}
