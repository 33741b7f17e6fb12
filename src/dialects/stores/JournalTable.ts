import type { Knex } from 'knex';
import type { JournalEntry, JournalStatus, JournalStore, ParameterName, ParameterScope } from '../types.js';
import { tableColumns } from './tableColumns.js';

export const JOURNAL_TABLE = 'om_migrate_journal';
export const UNREVERTED: JournalStatus[] = ['pending', 'applied', 'deferred'];

/** A journal row as both drivers return it. */
interface JournalRow {
  id: string;
  run_id: string;
  database_name: string;
  server_name: string;
  parameter_name: string;
  scope: string;
  object_name: string | null;
  previous_value: string | null;
  previous_existed: boolean | number | string;
  new_value: string;
  /** Absent in tables made by om-migrate 0.1, whose rows were all written through the application's database. */
  via?: string | null;
  status: string;
  holder: string;
  created_at: string;
  updated_at: string;
  note: string | null;
}

/**
 * om_migrate_journal through knex's schema and query builders, the same on both engines: in the connection's own
 * database (or schema), or in `schema` (the admin's own om_migrate). Every write autocommits, so an entry is durable
 * before the change it describes is made. It stores data only: a row is a ParameterSetting and its bookkeeping; the
 * statements are rebuilt by the dialect from validated values.
 */
export class JournalTable implements JournalStore {
  constructor(private readonly knex: Knex, private readonly where: { schema?: string; database: string }) {}

  get location(): string {
    return this.where.schema ? `table ${this.where.schema}.${JOURNAL_TABLE}` : `table ${JOURNAL_TABLE} in ${this.where.database}`;
  }

  private table(): Knex.QueryBuilder {
    return this.where.schema ? this.knex.withSchema(this.where.schema).table(JOURNAL_TABLE) : this.knex.table(JOURNAL_TABLE);
  }

  private schema(): Knex.SchemaBuilder {
    return this.where.schema ? this.knex.schema.withSchema(this.where.schema) : this.knex.schema;
  }

  private async exists(): Promise<boolean> {
    return (await tableColumns(this.knex, this.where.schema, JOURNAL_TABLE)).length > 0;
  }

  async ensure(): Promise<void> {
    if (!(await this.exists())) {
      await this.schema().createTable(JOURNAL_TABLE, (t) => {
        t.string('id', 100).primary();
        t.string('run_id', 64).notNullable().index('om_migrate_journal_run');
        t.string('database_name', 255).notNullable();
        t.string('server_name', 255).notNullable();
        t.string('parameter_name', 64).notNullable();
        t.string('scope', 16).notNullable();
        t.string('object_name', 255).nullable();
        t.text('previous_value').nullable();
        t.boolean('previous_existed').notNullable();
        t.text('new_value').notNullable();
        t.string('via', 16).nullable();
        t.string('status', 16).notNullable().index('om_migrate_journal_status');
        t.string('holder', 512).notNullable();
        t.string('created_at', 32).notNullable();
        t.string('updated_at', 32).notNullable();
        t.text('note').nullable();
      });
      return;
    }
    // A table made by om-migrate 0.1 stored the statements themselves; they are never read again, and new rows have none.
    const columns = await tableColumns(this.knex, this.where.schema, JOURNAL_TABLE);
    const legacy = columns.includes('apply_sql');
    const hasVia = columns.includes('via');
    if (legacy || !hasVia) {
      await this.schema().alterTable(JOURNAL_TABLE, (t) => {
        if (legacy) {
          t.text('apply_sql').nullable().alter();
          t.text('revert_sql').nullable().alter();
        }
        if (!hasVia) t.string('via', 16).nullable();
      });
    }
  }

  async insert(e: JournalEntry): Promise<void> {
    await this.table().insert({
      id: e.id, run_id: e.runId, database_name: e.database, server_name: e.server, parameter_name: e.parameter,
      scope: e.scope, object_name: e.object, previous_value: e.previous, previous_existed: e.previous !== null,
      new_value: e.next, via: e.via, status: e.status, holder: e.holder, created_at: e.createdAt, updated_at: e.updatedAt,
      note: e.note,
    });
  }

  async setStatus(id: string, status: JournalStatus, note: string | null = null): Promise<void> {
    await this.table().where({ id }).update({ status, note, updated_at: new Date().toISOString() });
  }

  async unreverted(): Promise<JournalEntry[]> {
    if (!(await this.exists())) return [];
    return (await this.table().whereIn('status', UNREVERTED).orderBy([{ column: 'created_at' }, { column: 'id' }]) as JournalRow[]).map(fromRow);
  }

  async ofRun(runId: string): Promise<JournalEntry[]> {
    if (!(await this.exists())) return [];
    return (await this.table().where({ run_id: runId }).orderBy([{ column: 'created_at' }, { column: 'id' }]) as JournalRow[]).map(fromRow);
  }
}

function fromRow(r: JournalRow): JournalEntry {
  const existed = r.previous_existed === true || Number(r.previous_existed) === 1 || r.previous_existed === 't';
  return {
    id: r.id,
    runId: r.run_id,
    database: r.database_name,
    server: r.server_name,
    parameter: r.parameter_name as ParameterName,
    scope: r.scope as ParameterScope,
    object: r.object_name,
    previous: existed ? r.previous_value ?? '' : null,
    next: r.new_value,
    via: r.via === 'admin' ? 'admin' : 'application',
    status: r.status as JournalStatus,
    holder: r.holder,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    note: r.note,
  };
}
