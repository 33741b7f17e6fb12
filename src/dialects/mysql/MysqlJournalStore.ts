import { JOURNAL_TABLE, type JournalRow } from '../journalRows.js';
import { SqlJournalStore } from '../SqlJournalStore.js';
import { rows } from './rows.js';

/** om_migrate_journal in the target database. Every write autocommits, so an entry is durable before the change. */
export class MysqlJournalStore extends SqlJournalStore {
  async ensure(): Promise<void> {
    await this.knex.raw(`CREATE TABLE IF NOT EXISTS ${JOURNAL_TABLE} (
      id VARCHAR(100) NOT NULL PRIMARY KEY,
      run_id VARCHAR(64) NOT NULL,
      database_name VARCHAR(255) NOT NULL,
      server_name VARCHAR(255) NOT NULL,
      parameter_name VARCHAR(64) NOT NULL,
      scope VARCHAR(16) NOT NULL,
      object_name VARCHAR(255) NULL,
      previous_value TEXT NULL,
      previous_existed TINYINT(1) NOT NULL,
      new_value TEXT NOT NULL,
      apply_sql TEXT NOT NULL,
      revert_sql TEXT NOT NULL,
      status VARCHAR(16) NOT NULL,
      holder VARCHAR(512) NOT NULL,
      created_at VARCHAR(32) NOT NULL,
      updated_at VARCHAR(32) NOT NULL,
      note TEXT NULL,
      KEY om_migrate_journal_status (status),
      KEY om_migrate_journal_run (run_id)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`);
  }

  protected rows<T>(result: unknown): T[] {
    return rows<T>(result);
  }

  protected override bind(value: JournalRow[keyof JournalRow]): unknown {
    return typeof value === 'boolean' ? Number(value) : value;
  }
}
