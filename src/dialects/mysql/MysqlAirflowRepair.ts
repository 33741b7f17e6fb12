import type { Knex } from 'knex';
import type { AirflowRepairSql, IdReference, TaskInstanceForeignKey } from '../types.js';
import { MALFORMED_ID_CONDITION, orphanCondition } from './MysqlAirflowQueries.js';

const KEY = 'dag_id, task_id, run_id, map_index';
const MAP_TABLE = 'om_migrate_ti_id_map';

/**
 * UUIDv7 from a timestamp, in plain SQL rather than a stored function: creating a function is exactly what binary
 * logging refuses to non-SUPER users (the failure this repair exists for). 48 bits of milliseconds, version 7, 12
 * random bits, variant 10xx, 62 random bits.
 */
function uuidV7Of(timestamp: string): string {
  const ms = `LPAD(LOWER(HEX(CAST(FLOOR(UNIX_TIMESTAMP(${timestamp}) * 1000) AS UNSIGNED))), 12, '0')`;
  const rnd = 'MD5(CONCAT(UUID(), RAND()))';
  return `CONCAT(SUBSTRING(${ms}, 1, 8), '-', SUBSTRING(${ms}, 9, 4), '-7', SUBSTRING(${rnd}, 1, 3), '-', `
    + `SUBSTRING('89ab', 1 + FLOOR(RAND() * 4), 1), SUBSTRING(${rnd}, 1, 3), '-', SUBSTRING(${rnd}, 1, 12))`;
}

/** MySQL commits every DDL statement on its own, so each action is one statement and a re-run continues. */
export class MysqlAirflowRepair implements AirflowRepairSql {
  readonly compositeKeyDropTakesForeignKeys = false;

  constructor(private readonly knex: Knex) {}

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
    const timestamp = 'COALESCE(queued_dttm, start_date, NOW(3))';
    return [
      // Children are rewritten by hand through the map, so the foreign keys on ti_id must not interfere meanwhile.
      'SET FOREIGN_KEY_CHECKS = 0',
      `CREATE TEMPORARY TABLE ${MAP_TABLE} (PRIMARY KEY (old_id)) AS SELECT id AS old_id, ${uuidV7Of(timestamp)} AS new_id `
        + `FROM task_instance WHERE ${MALFORMED_ID_CONDITION}`,
      ...references.map((r) => `UPDATE ${r.table} JOIN ${MAP_TABLE} m ON ${r.table}.${r.column} = m.old_id SET ${r.table}.${r.column} = m.new_id`),
      `UPDATE task_instance JOIN ${MAP_TABLE} m ON task_instance.id = m.old_id SET task_instance.id = m.new_id`,
      `DROP TEMPORARY TABLE ${MAP_TABLE}`,
      'SET FOREIGN_KEY_CHECKS = 1',
    ];
  }

  async execute(statements: string[], options: { transaction: boolean }): Promise<void> {
    if (!options.transaction) {
      for (const statement of statements) await this.knex.raw(statement);
      return;
    }
    try {
      await this.knex.transaction(async (trx) => {
        for (const statement of statements) await trx.raw(statement);
      });
    } finally {
      // A failed transaction must not leave the pinned session without foreign key checks.
      await this.knex.raw('SET FOREIGN_KEY_CHECKS = 1');
    }
  }
}
