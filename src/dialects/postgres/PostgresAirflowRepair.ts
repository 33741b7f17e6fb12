import type { Knex } from 'knex';
import { runStatements } from '../runStatements.js';
import { AIRFLOW_FUNCTION_SIGNATURE, orphanCondition } from './PostgresAirflowQueries.js';
import type { AirflowRepairSql, IdReference, TaskInstanceForeignKey } from '../types.js';

const KEY = 'dag_id, task_id, run_id, map_index';

/** PostgreSQL runs the whole repair in one transaction (DDL included), so an interruption changes nothing. */
export class PostgresAirflowRepair implements AirflowRepairSql {
  readonly compositeKeyDropTakesForeignKeys = true;

  constructor(private readonly knex: Knex, private readonly cancel: () => Promise<void>) {}

  /** Only Airflow's signature: a bare name would drop another uuid_generate_v7 (or fail when there are several). */
  dropLeftoverFunction(): string[] {
    return [`DROP FUNCTION IF EXISTS ${AIRFLOW_FUNCTION_SIGNATURE}`];
  }

  deleteOrphans(table: string): string[] {
    return [`DELETE FROM ${table} WHERE ${orphanCondition(table)}`];
  }

  truncateTaskInstance(dependantTables: string[]): string[] {
    return [`TRUNCATE TABLE ${['task_instance', ...dependantTables].join(', ')}`];
  }

  restoreCompositePrimaryKey(replaceIdPrimaryKey: boolean): string[] {
    return [replaceIdPrimaryKey
      ? `ALTER TABLE task_instance DROP CONSTRAINT task_instance_pkey, ADD CONSTRAINT task_instance_pkey PRIMARY KEY (${KEY})`
      : `ALTER TABLE task_instance ADD CONSTRAINT task_instance_pkey PRIMARY KEY (${KEY})`];
  }

  dropCompositeUniqueKey(): string[] {
    // Foreign keys built on this constraint's index go with it; the plan re-creates every one of them afterwards.
    return ['ALTER TABLE task_instance DROP CONSTRAINT task_instance_composite_key CASCADE'];
  }

  dropIdColumn(): string[] {
    return ['ALTER TABLE task_instance DROP COLUMN id'];
  }

  createForeignKey(fk: TaskInstanceForeignKey): string[] {
    return [`ALTER TABLE ${fk.table} ADD CONSTRAINT ${fk.name} FOREIGN KEY (${KEY}) REFERENCES task_instance (${KEY}) `
      + `ON DELETE CASCADE${fk.onUpdateCascade ? ' ON UPDATE CASCADE' : ''}`];
  }

  stampRevision(revision: string): string[] {
    if (!/^[0-9a-f]{12}$/.test(revision)) throw new Error(`not an alembic revision: ${revision}`);
    return [`UPDATE alembic_version SET version_num = '${revision}'`];
  }

  /** task_instance.id is a native uuid here: the server never stored a malformed one, so there is nothing to rewrite. */
  rewriteMalformedIds(_references: IdReference[]): string[] {
    return [];
  }

  async execute(statements: string[], options: { transaction: boolean; signal?: AbortSignal }): Promise<void> {
    await runStatements(this.knex, this.cancel, statements, options);
  }
}
