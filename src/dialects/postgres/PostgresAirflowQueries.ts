import type { Knex } from 'knex';
import type { AirflowQueries, SchemaIntrospector } from '../types.js';
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
}
