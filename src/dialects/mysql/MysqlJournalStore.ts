import type { Knex } from 'knex';
import { fromJournalRow, JOURNAL_TABLE, JournalRow, toJournalRow, UNREVERTED } from '../journalRows.js';
import type { JournalEntry, JournalStatus, JournalStore } from '../types.js';
import { rows } from './rows.js';

/** om_migrate_journal in the target database. Every write autocommits, so an entry is durable before the change. */
export class MysqlJournalStore implements JournalStore {
  constructor(private readonly knex: Knex, private readonly database: string) {}

  get location(): string {
    return `table ${JOURNAL_TABLE} in ${this.database}`;
  }

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

  async insert(entry: JournalEntry): Promise<void> {
    const row = toJournalRow(entry);
    const columns = Object.keys(row);
    await this.knex.raw(
      `INSERT INTO ${JOURNAL_TABLE} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
      columns.map((c) => {
        const v = row[c as keyof JournalRow];
        return typeof v === 'boolean' ? Number(v) : v;
      }));
  }

  async setStatus(id: string, status: JournalStatus, note: string | null = null): Promise<void> {
    await this.knex.raw(`UPDATE ${JOURNAL_TABLE} SET status = ?, note = ?, updated_at = ? WHERE id = ?`,
      [status, note, new Date().toISOString(), id]);
  }

  async unreverted(): Promise<JournalEntry[]> {
    if (!(await this.exists())) return [];
    return rows<JournalRow>(await this.knex.raw(
      `SELECT * FROM ${JOURNAL_TABLE} WHERE status IN (${UNREVERTED.map(() => '?').join(', ')}) ORDER BY created_at, id`,
      UNREVERTED)).map(fromJournalRow);
  }

  async ofRun(runId: string): Promise<JournalEntry[]> {
    if (!(await this.exists())) return [];
    return rows<JournalRow>(await this.knex.raw(
      `SELECT * FROM ${JOURNAL_TABLE} WHERE run_id = ? ORDER BY created_at, id`, [runId])).map(fromJournalRow);
  }

  private async exists(): Promise<boolean> {
    const found = rows<{ n: number }>(await this.knex.raw(
      'SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?', [JOURNAL_TABLE]));
    return Number(found[0].n) > 0;
  }
}
