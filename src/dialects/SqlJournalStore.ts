import type { Knex } from 'knex';
import { fromJournalRow, JOURNAL_TABLE, JournalRow, toJournalRow, UNREVERTED } from './journalRows.js';
import type { JournalEntry, JournalStatus, JournalStore, SchemaIntrospector } from './types.js';

/**
 * om_migrate_journal in the target database. The statements that read and write entries are the same on both engines;
 * each engine supplies its table DDL and how its driver returns rows. Every write autocommits,
 * so an entry is durable before the change it describes is made.
 */
export abstract class SqlJournalStore implements JournalStore {
  constructor(protected readonly knex: Knex, private readonly introspect: SchemaIntrospector, private readonly database: string) {}

  get location(): string {
    return `table ${JOURNAL_TABLE} in ${this.database}`;
  }

  abstract ensure(): Promise<void>;

  private exists(): Promise<boolean> {
    return this.introspect.tableExists(JOURNAL_TABLE);
  }

  protected abstract rows<T>(result: unknown): T[];

  /** A value as this driver binds it (MySQL has no boolean type). */
  protected bind(value: JournalRow[keyof JournalRow]): unknown {
    return value;
  }

  async insert(entry: JournalEntry): Promise<void> {
    const row = toJournalRow(entry);
    const columns = Object.keys(row) as Array<keyof JournalRow>;
    await this.knex.raw(
      `INSERT INTO ${JOURNAL_TABLE} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
      columns.map((c) => this.bind(row[c])) as Knex.RawBinding[]);
  }

  async setStatus(id: string, status: JournalStatus, note: string | null = null): Promise<void> {
    await this.knex.raw(`UPDATE ${JOURNAL_TABLE} SET status = ?, note = ?, updated_at = ? WHERE id = ?`,
      [status, note, new Date().toISOString(), id]);
  }

  async unreverted(): Promise<JournalEntry[]> {
    if (!(await this.exists())) return [];
    return this.rows<JournalRow>(await this.knex.raw(
      `SELECT * FROM ${JOURNAL_TABLE} WHERE status IN (${UNREVERTED.map(() => '?').join(', ')}) ORDER BY created_at, id`,
      UNREVERTED)).map(fromJournalRow);
  }

  async ofRun(runId: string): Promise<JournalEntry[]> {
    if (!(await this.exists())) return [];
    return this.rows<JournalRow>(await this.knex.raw(
      `SELECT * FROM ${JOURNAL_TABLE} WHERE run_id = ? ORDER BY created_at, id`, [runId])).map(fromJournalRow);
  }
}
