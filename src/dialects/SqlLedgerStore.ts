import type { Knex } from 'knex';
import type { LedgerEntry, LedgerStore, SchemaIntrospector } from './types.js';

/**
 * om_migrate_ledger: the statements both engines share. Each engine supplies its DDL, how it inserts and returns the
 * new id, how it stamps and formats times, and how its driver returns rows.
 */
export abstract class SqlLedgerStore implements LedgerStore {
  constructor(protected readonly knex: Knex, private readonly introspect: SchemaIntrospector) {}

  abstract ensureTable(): Promise<void>;
  abstract start(entry: { step: string; targetVersion: string; runId: string; backupId?: string | null }): Promise<number>;
  abstract abandon(exceptRunId: string, note: string): Promise<number>;

  /** The SELECT list that maps the columns onto LedgerEntry, times as ISO-8601 UTC. */
  protected abstract readonly columns: string;
  /** The engine's "now" for finished_at. */
  protected abstract readonly now: string;
  protected abstract rows<T>(result: unknown): T[];

  exists(): Promise<boolean> {
    return this.introspect.tableExists('om_migrate_ledger');
  }

  async finish(id: number, status: 'done' | 'failed', outputTail: string | null, backupId?: string | null): Promise<void> {
    await this.knex.raw(
      `UPDATE om_migrate_ledger SET status = ?, finished_at = ${this.now}, output_tail = ?, backup_id = COALESCE(?, backup_id)
        WHERE id = ?`, [status, outputTail, backupId ?? null, id]);
  }

  async done(targetVersion: string): Promise<LedgerEntry[]> {
    return this.entries(await this.knex.raw(
      `SELECT ${this.columns} FROM om_migrate_ledger l
        WHERE target_version = ? AND status = 'done'
          AND id = (SELECT MAX(id) FROM om_migrate_ledger m WHERE m.step = l.step AND m.target_version = l.target_version)
        ORDER BY id`, [targetVersion]));
  }

  async forget(step: string, targetVersion: string): Promise<void> {
    await this.knex.raw("UPDATE om_migrate_ledger SET status = 'failed' WHERE step = ? AND target_version = ? AND status = 'done'",
      [step, targetVersion]);
  }

  async recent(limit: number): Promise<LedgerEntry[]> {
    return this.entries(await this.knex.raw(`SELECT ${this.columns} FROM om_migrate_ledger ORDER BY id DESC LIMIT ?`, [limit]));
  }

  private entries(result: unknown): LedgerEntry[] {
    return this.rows<LedgerEntry>(result).map((r) => ({ ...r, id: Number(r.id) }));
  }
}
