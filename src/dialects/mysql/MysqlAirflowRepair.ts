import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { runStatements } from '../runStatements.js';
import type { AirflowRepairSql, IdReference, TaskInstanceForeignKey } from '../types.js';
import { malformedIdCondition, orphanCondition } from './MysqlAirflowQueries.js';

const KEY = 'dag_id, task_id, run_id, map_index';

/**
 * UUIDv7 in plain SQL rather than a stored function: creating a function is exactly what binary logging refuses to
 * non-SUPER users (the failure this repair exists for). 48 bits of milliseconds of `timestamp`, version 7, then 74
 * bits taken from MD5(salt, old id) for the random part: a function of the old id, so the referencing columns and
 * task_instance itself can each be rewritten by one statement to the same new id, with no map table in between; the
 * salt (random per run) keeps them unpredictable, and the old ids being unique keeps them apart.
 */
function uuidV7Of(timestamp: string, oldId: string, salt: string): string {
  const ms = `LPAD(LOWER(HEX(CAST(FLOOR(UNIX_TIMESTAMP(${timestamp}) * 1000) AS UNSIGNED))), 12, '0')`;
  const h = `MD5(CONCAT('${salt}', ${oldId}))`;
  return `CONCAT(SUBSTRING(${ms}, 1, 8), '-', SUBSTRING(${ms}, 9, 4), '-7', SUBSTRING(${h}, 1, 3), '-', `
    + `SUBSTRING('89ab', 1 + CONV(SUBSTRING(${h}, 4, 1), 16, 10) % 4, 1), SUBSTRING(${h}, 5, 3), '-', SUBSTRING(${h}, 8, 12))`;
}

/** MySQL commits every DDL statement on its own, so each action is one statement and a re-run continues. */
export class MysqlAirflowRepair implements AirflowRepairSql {
  readonly compositeKeyDropTakesForeignKeys = false;

  constructor(private readonly knex: Knex, private readonly cancel: () => Promise<void>) {}

  dropLeftoverFunction(): string[] {
    return ['DROP FUNCTION IF EXISTS uuid_generate_v7'];
  }

  deleteOrphans(table: string): string[] {
    return [`DELETE FROM ${table} WHERE ${orphanCondition(table)}`];
  }

  truncateTaskInstance(dependantTables: string[]): string[] {
    // TRUNCATE of a table that foreign keys point at is refused (1701) even when they are empty, so checks are off
    // for these statements only; the dependants are emptied with it, as ON DELETE CASCADE would have.
    return ['SET FOREIGN_KEY_CHECKS = 0', ...dependantTables.map((t) => `TRUNCATE TABLE ${t}`), 'TRUNCATE TABLE task_instance',
      'SET FOREIGN_KEY_CHECKS = 1'];
  }

  restoreCompositePrimaryKey(replaceIdPrimaryKey: boolean): string[] {
    // One ALTER, so the table is never without a primary key in between.
    return [replaceIdPrimaryKey
      ? `ALTER TABLE task_instance DROP PRIMARY KEY, ADD PRIMARY KEY (${KEY})`
      : `ALTER TABLE task_instance ADD PRIMARY KEY (${KEY})`];
  }

  dropCompositeUniqueKey(): string[] {
    return ['ALTER TABLE task_instance DROP INDEX task_instance_composite_key'];
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

  rewriteMalformedIds(references: IdReference[]): string[] {
    const salt = randomBytes(8).toString('hex');
    // One clock for every statement, so a row without times gets the same id in task_instance and its references.
    const timestamp = (ti: string) => `COALESCE(${ti}.queued_dttm, ${ti}.start_date, @om_migrate_now)`;
    return [
      // The referencing columns are rewritten by hand, before task_instance, so their foreign keys (with or without
      // ON UPDATE CASCADE) must not act meanwhile. The plan runs these in one transaction: all or nothing.
      'SET FOREIGN_KEY_CHECKS = 0',
      'SET @om_migrate_now = NOW(3)',
      ...references.map((r) => `UPDATE ${r.table} JOIN task_instance ti ON ${r.table}.${r.column} = ti.id `
        + `SET ${r.table}.${r.column} = ${uuidV7Of(timestamp('ti'), 'ti.id', salt)} WHERE ${malformedIdCondition('ti.id')}`),
      // The table itself: one UPDATE with a computed expression, as fast as rewriting the key can be.
      `UPDATE task_instance SET id = ${uuidV7Of(timestamp('task_instance'), 'task_instance.id', salt)} WHERE ${malformedIdCondition('task_instance.id')}`,
      'SET FOREIGN_KEY_CHECKS = 1',
    ];
  }

  async execute(statements: string[], options: { transaction: boolean; signal?: AbortSignal }): Promise<void> {
    // A failed transaction must not leave the pinned session without foreign key checks.
    await runStatements(this.knex, this.cancel, statements, options, async () => {
      await this.knex.raw('SET FOREIGN_KEY_CHECKS = 1');
    });
  }
}
